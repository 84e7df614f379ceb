"""Scene analysis: one pass of measurements over a segment, shared by the captioner, the keyframe
selector and the privacy filter so that no detector runs twice on the same frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mirage_stream.sender.measure import (
    Box,
    FlowPair,
    camera_motion,
    camera_shake,
    detect_faces,
    detect_people,
    dominant_colours,
    exposure,
    flat_area_noise,
    mean_brightness,
    measure_flow,
    mouth_motion,
    scene_cuts,
    sharpness,
    sky_share,
    thumbnail,
    vegetation_share,
    vivid_share,
)
from mirage_stream.types import FaceFact, SceneFacts, VideoSegment

# Thresholds, each checked against the shipped clips (tests/test_scene.py) and synthetic scenes.
_TALKING_MOUTH_PX = 0.35  # mouth residual flow over two frames
_TALKING_RATIO = 1.1  # mouth against eyes: speech moves the mouth more than the brow
_SKY_SHARE = 0.05  # of the top third (median over candidates)
_VEGETATION_SHARE = 0.15  # of the frame
_CLOSE_UP_FACE = 0.25  # of the frame width: the background is too small to judge the setting
_VIVID_SHARE = 0.2
_RENDER_NOISE = 1.5  # grey levels between frames in flat areas
_GESTURE_SHARE = 0.04  # of the frame moving against the camera, with a person present


@dataclass(frozen=True)
class FrameFeatures:
    """Measurements of one candidate keyframe (eq. 4's per-frame features m_t)."""

    index: int
    sharpness: float
    exposure: float
    faces: tuple[Box, ...]
    thumbnail: npt.NDArray[np.float32]


@dataclass(frozen=True)
class SegmentAnalysis:
    facts: SceneFacts
    candidates: tuple[FrameFeatures, ...]
    mean_thumbnail: npt.NDArray[np.float32]  # what the segment looks like on average
    cut_frames: tuple[int, ...]

    def features_of(self, index: int) -> FrameFeatures | None:
        return next((c for c in self.candidates if c.index == index), None)


def _confirmed_count(counts: list[int]) -> int:
    """The largest count seen in at least two sampled frames (one frame alone may be a false
    detection, and a turned head hides a face from the cascade in others)."""
    if len(counts) <= 1:
        return counts[0] if counts else 0
    confirmed = [c for c in set(counts) if sum(other >= c for other in counts) >= 2]
    return max(confirmed, default=0)


def _candidate_indices(count: int, candidates: int, cuts: tuple[int, ...]) -> list[int]:
    """Evenly spaced frames plus the first frame of every shot after a cut."""
    spread = np.linspace(0, count - 1, num=min(candidates, count)).round().astype(int)
    return sorted({int(i) for i in spread} | {cut for cut in cuts if cut < count})


def _face_facts(faces: tuple[Box, ...], width: int, height: int) -> tuple[FaceFact, ...]:
    return tuple(
        FaceFact(b.x / width, b.y / height, b.width / width, b.height / height) for b in faces
    )


@dataclass(frozen=True)
class SceneAnalyser:
    """Measures a segment once: cuts, flow, faces, people, talking, setting and style cues.

    The work per segment scales with its length (``per_second`` candidate keyframes, capped
    by ``candidates``), so that short segments do not pay a long segment's cost.
    """

    candidates: int = 6
    people_samples: int = 2
    per_second: float = 3.0

    def analyse(self, segment: VideoSegment) -> SegmentAnalysis:
        frames = segment.frames
        count = segment.num_frames
        if count == 0:
            raise ValueError("a segment needs at least one frame")
        cuts = scene_cuts(frames) if count > 1 else ()
        wanted = min(self.candidates, max(2, round(self.per_second * segment.duration)))
        features = tuple(
            FrameFeatures(
                index=i,
                sharpness=sharpness(frames[i]),
                exposure=exposure(frames[i]),
                faces=tuple(detect_faces(frames[i])),
                thumbnail=thumbnail(frames[i]),
            )
            for i in _candidate_indices(count, wanted, cuts)
        )
        face_count = _confirmed_count([len(f.faces) for f in features])
        richest = max(features, key=lambda f: len(f.faces))
        faces = richest.faces[:face_count]
        samples = min(self.people_samples, wanted // 2)
        people_picks = np.unique(np.linspace(0, count - 1, samples).round())
        people = _confirmed_count([len(detect_people(frames[int(i)])) for i in people_picks])
        flow = measure_flow(frames, pairs=wanted, cuts=cuts)
        motion = camera_motion(flow)
        middle = frames[count // 2]
        close_up = any(box.width >= _CLOSE_UP_FACE * segment.width for box in faces)
        sky = float(np.median([sky_share(frames[f.index]) for f in features]))
        outdoor_cues = not close_up and (
            sky >= _SKY_SHARE or vegetation_share(middle) >= _VEGETATION_SHARE
        )
        subject = _subject(flow)
        person_count = max(face_count, people)
        facts = SceneFacts(
            motion=motion,
            camera_shake=camera_shake(flow),
            subject_dx=subject[0],
            subject_dy=subject[1],
            subject_share=subject[2],
            moving_objects=subject[3],
            subject_x=subject[4],
            subject_y=subject[5],
            people=person_count,
            faces=_face_facts(faces, segment.width, segment.height),
            talking=face_count > 0 and _talking(frames, features, cuts),
            gesturing=person_count > 0 and subject[2] >= _GESTURE_SHARE,
            brightness=mean_brightness(frames),
            outdoors=outdoor_cues,
            animation=vivid_share(middle) >= _VIVID_SHARE
            and count > 1
            and flat_area_noise(frames) <= _RENDER_NOISE,
            colours=tuple(name for name, _ in dominant_colours(middle)),
            cuts=tuple(cut / segment.fps for cut in cuts),
        )
        mean_thumbnail = np.mean([f.thumbnail for f in features], axis=0).astype(np.float32)
        return SegmentAnalysis(facts, features, mean_thumbnail, cuts)


def _subject(flow: list[FlowPair]) -> tuple[float, float, float, int, float, float]:
    """Median subject motion over the frame pairs: (dx, dy, share of the frame, regions,
    centre x, centre y)."""
    if not flow:
        return 0.0, 0.0, 0.0, 0, 0.5, 0.5
    share = float(np.median([pair.subject_share for pair in flow]))
    regions = int(np.median([pair.moving_objects for pair in flow]))
    dx = float(np.median([pair.subject_dx for pair in flow]))
    dy = float(np.median([pair.subject_dy for pair in flow]))
    x = float(np.median([pair.subject_x for pair in flow]))
    y = float(np.median([pair.subject_y for pair in flow]))
    return dx, dy, share, regions, x, y


def _talking(
    frames: npt.NDArray[np.uint8], features: tuple[FrameFeatures, ...], cuts: tuple[int, ...]
) -> bool:
    """Mouth-region motion against the face, two frames apart, at the frames with a face."""
    samples = []
    for feature in features:
        later = feature.index + 2
        if not feature.faces or later >= frames.shape[0] or feature.index + 1 in cuts:
            continue
        if later in cuts:
            continue
        samples.append(mouth_motion(frames[feature.index], frames[later], feature.faces[0]))
    if not samples:
        return False
    mouth = float(np.median([m for m, _ in samples]))
    ratio = float(np.median([m / max(e, 1e-3) for m, e in samples]))
    return mouth >= _TALKING_MOUTH_PX and ratio >= _TALKING_RATIO
