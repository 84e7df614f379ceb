"""Captioners (eq. 2-3). The offline default states facts it measured; it invents nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mirage_stream.sender.measure import (
    FaceBox,
    detect_faces,
    dominant_colours,
    mean_brightness,
    measure_motion,
)
from mirage_stream.types import Caption, MotionHints, VideoSegment


class Captioner(Protocol):
    @property
    def name(self) -> str: ...

    def caption(self, segment: VideoSegment) -> Caption: ...


def _speed_word(pixels_per_frame: float) -> str:
    if pixels_per_frame < 0.3:
        return "almost still"
    if pixels_per_frame < 1.5:
        return "slowly"
    if pixels_per_frame < 4.0:
        return "steadily"
    return "fast"


def _direction(dx: float, dy: float) -> str:
    horizontal = "right" if dx > 0 else "left"
    vertical = "down" if dy > 0 else "up"
    if abs(dx) >= 2 * abs(dy):
        return horizontal
    if abs(dy) >= 2 * abs(dx):
        return vertical
    return f"{vertical} and to the {horizontal}"


def _place(box: FaceBox, width: int, height: int) -> str:
    cx = (box.x + box.width / 2) / width
    cy = (box.y + box.height / 2) / height
    column = "left" if cx < 0.38 else "right" if cx > 0.62 else "centre"
    row = "upper" if cy < 0.38 else "lower" if cy > 0.62 else ""
    return f"the {row} {column}".replace("  ", " ") if row else f"the {column}"


def _describe_faces(faces: list[FaceBox], width: int, height: int) -> str:
    if not faces:
        return "No face is visible."
    largest = faces[0]
    share = largest.width / width
    size = "close up" if share > 0.35 else "at medium distance" if share > 0.15 else "far away"
    if len(faces) == 1:
        return f"One face is visible in {_place(largest, width, height)} of the frame, {size}."
    return (
        f"{len(faces)} faces are visible; the largest is in "
        f"{_place(largest, width, height)} of the frame, {size}."
    )


def _describe_motion(motion: MotionHints) -> str:
    speed = float(np.hypot(motion.dx, motion.dy))
    parts = []
    if speed < 0.3:
        parts.append("The view is almost still")
    else:
        parts.append(
            f"The whole view drifts {_speed_word(speed)} {_direction(motion.dx, motion.dy)} "
            f"(about {speed:.1f} pixels per frame)"
        )
    if motion.zoom > 0.002:
        parts.append("and zooms in")
    elif motion.zoom < -0.002:
        parts.append("and zooms out")
    local = motion.activity
    if local < 0.3:
        parts.append("with little movement inside the scene.")
    elif local < 1.5:
        parts.append("while something in the scene moves a little.")
    else:
        parts.append("while things in the scene move a lot.")
    return " ".join(parts)


def _describe_light(brightness: float) -> str:
    if brightness < 0.3:
        return "The scene is dimly lit."
    if brightness > 0.65:
        return "The scene is brightly lit."
    return "The scene is moderately lit."


def _confirmed_count(counts: list[int]) -> int:
    """The largest count seen in at least two sampled frames (one frame alone may be a false
    detection, and a turned head hides a face from the cascade in others)."""
    confirmed = [c for c in set(counts) if sum(other >= c for other in counts) >= 2]
    return max(confirmed, default=0) if len(counts) > 1 else (counts[0] if counts else 0)


@dataclass(frozen=True)
class MeasuredFactsCaptioner:
    """Offline captioner: faces (Haar cascade), motion (Farneback flow), light and colours.

    The text runs content -> motion -> scene -> style cues, and every clause comes from a number
    it measured; the numbers also travel as structured fields (``Caption``).
    """

    face_samples: int = 5
    name: str = "measured-facts"

    def caption(self, segment: VideoSegment) -> Caption:
        frames = segment.frames
        picks = np.unique(
            np.linspace(0, segment.num_frames - 1, num=self.face_samples).round().astype(int)
        )
        face_sets = [detect_faces(frames[i]) for i in picks]
        face_count = _confirmed_count([len(found) for found in face_sets])
        faces = max(face_sets, key=len)[:face_count] if face_count else []
        motion = measure_motion(frames)
        brightness = mean_brightness(frames)
        colours = [name for name, _ in dominant_colours(frames[segment.num_frames // 2])]
        text = " ".join(
            [
                _describe_faces(faces, segment.width, segment.height),
                _describe_motion(motion),
                _describe_light(brightness),
                f"Dominant colours: {', '.join(colours)}.",
            ]
        )
        return Caption(
            text=text,
            motion=motion,
            faces=face_count,
            brightness=brightness,
            colours=tuple(colours),
        )
