"""People in a segment, at the sizes they appear in real video: motion proposes, shape and the
HOG detector on source pixels confirm.

OpenCV's HOG people detector needs a person about 100 pixels tall and fires on railings, poles
and cartoon rabbits; run alone on the 320x240 working copy it misses everyone more than a few
metres away. So people are found in three steps:

1. **Motion regions** (camera still, per shot): each sampled working frame against the shot's
   median background; regions of person-like shape (taller than wide, at least
   ``MIN_HEIGHT_WORKING`` pixels) are linked over frames into tracks. A track seen in most sampled
   frames is a *mover*.
2. **Confirmation on source pixels**: around each mover, the detail frame nearest its middle
   (source resolution) is cropped and up-scaled so that the region is 96 pixels tall, as the
   detector's people are in its 128-pixel window, and the HOG detector runs on that crop only
   (cheap). A hit confirms a person.
3. **Walking**: a mover followed over most of the shot that travels steadily sideways is a
   person walking in that direction, even unconfirmed (a gait across the frame is strong
   evidence by itself); a mover that neither walks nor is confirmed is left out.

Each finding carries its confidence; the captioner states only what is confident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.sender.detectors import Box, people_detector
from mirage_stream.sender.shots import shot_spans
from mirage_stream.types import DetailFrame, FrameArray

MIN_HEIGHT_WORKING = 10  # pixels at the working height (240): 25 px at 576, 20 px at 480
_SAMPLES = 10  # frames per shot compared with its background
_BACKGROUND_FRAMES = 9  # frames per shot whose median is the background
_MIN_SHOT_FRAMES = 8
_FOREGROUND_LEVEL = 28  # grey levels from the background: above sensor noise and coding grain
_MAX_FOREGROUND_SHARE = 0.35  # more than this moves: the camera moved or the light changed
_ASPECT = (1.4, 8.0)  # height / width of a person: seen side-on mid-stride, very narrow
_MIN_FILL = 0.25  # region pixels over its box
_TRACKED_SHARE = 0.6  # a mover is seen in at least this share of the sampled frames
_WALK_SPAN = 0.8  # walking is claimed only for movers followed over this share of the shot
_WALK_SPEED = 0.02  # body heights per frame: 0.5 heights per second at 25 fps
_WALK_STEADINESS = 0.7  # share of steps in the track's main direction
_HOG_HEIGHT = 128  # the detector's window height
_HOG_WEIGHT = 0.3

CONFIDENCE_CONFIRMED = 0.9
CONFIDENCE_WALKING = 0.75
CONFIDENCE_MOVER = 0.4


@dataclass(frozen=True)
class PersonTrack:
    """One person-shaped mover: its median box (working pixels), its mean horizontal speed
    (working pixels per frame), and what the evidence says."""

    box: Box
    speed_x: float
    frames_seen: int
    walking: str  # "left", "right" or "" (not walking steadily)
    confirmed: bool  # the HOG detector fired on source pixels around it
    confidence: float


@dataclass(frozen=True)
class PeopleFinding:
    tracks: tuple[PersonTrack, ...]
    shots_searched: int  # shots where the camera was still enough to search for movers

    def people(self, threshold: float) -> tuple[PersonTrack, ...]:
        return tuple(track for track in self.tracks if track.confidence >= threshold)


def _merge_stacked(boxes: list[Box]) -> list[Box]:
    """Join regions stacked one above the other with a small gap: a person crossing a pole or
    a railing is cut into head-and-body and legs."""
    merged = sorted(boxes, key=lambda b: b.y)
    changed = True
    while changed:
        changed = False
        for i, upper in enumerate(merged):
            for lower in merged[i + 1 :]:
                overlap = min(upper.x + upper.width, lower.x + lower.width) - max(upper.x, lower.x)
                gap = lower.y - (upper.y + upper.height)
                narrow = min(upper.width, lower.width)
                if overlap >= 0.5 * narrow and gap <= 0.5 * min(upper.height, lower.height):
                    x0, y0 = min(upper.x, lower.x), min(upper.y, lower.y)
                    x1 = max(upper.x + upper.width, lower.x + lower.width)
                    y1 = max(upper.y + upper.height, lower.y + lower.height)
                    merged.remove(upper)
                    merged.remove(lower)
                    merged.append(Box(x0, y0, x1 - x0, y1 - y0))
                    merged.sort(key=lambda b: b.y)
                    changed = True
                    break
            if changed:
                break
    return merged


def _regions(mask: npt.NDArray[np.uint8]) -> list[Box]:
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    pieces = [
        Box(int(stats[label][0]), int(stats[label][1]), int(stats[label][2]), int(stats[label][3]))
        for label in range(1, count)
        if stats[label][4] >= 4
    ]
    boxes = []
    for box in _merge_stacked(pieces):
        x, y, w, h = box.x, box.y, box.width, box.height
        if h < MIN_HEIGHT_WORKING or h > 0.95 * mask.shape[0]:
            continue
        area = int(mask[y : y + h, x : x + w].sum())
        if not _ASPECT[0] <= h / max(w, 1) <= _ASPECT[1] or area < _MIN_FILL * w * h:
            continue
        boxes.append(box)
    return boxes


def _foreground(frame: FrameArray, background: FrameArray) -> npt.NDArray[np.uint8]:
    difference = np.asarray(cv2.absdiff(frame, background), dtype=np.uint8).max(axis=2)
    mask = (difference > _FOREGROUND_LEVEL).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    # Join head, body and legs, which a thin neck or a stride can split apart.
    return np.asarray(
        cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 3), np.uint8)), dtype=np.uint8
    )


def _link(per_frame: list[tuple[int, list[Box]]]) -> list[list[tuple[int, Box]]]:
    """Greedy nearest-centre linking of regions from one sampled frame to the next."""
    tracks: list[list[tuple[int, Box]]] = []
    for frame_index, boxes in per_frame:
        free = list(boxes)
        for track in tracks:
            last_index, last = track[-1]
            if last_index == frame_index or not free:
                continue
            gap = frame_index - last_index
            reach = 0.25 * last.height * gap / 4 + 0.6 * last.height

            def distance(box: Box, last: Box = last) -> float:
                return float(
                    np.hypot(
                        box.x + box.width / 2 - last.x - last.width / 2,
                        box.y + box.height - last.y - last.height,
                    )
                )

            similar = [box for box in free if 0.4 <= box.height / last.height <= 2.5]
            if not similar:
                continue
            nearest = min(similar, key=distance)
            if distance(nearest) <= reach:
                track.append((frame_index, nearest))
                free.remove(nearest)
        tracks += [[(frame_index, box)] for box in free]
    return tracks


def _walking(track: list[tuple[int, Box]], shot_frames: int) -> tuple[str, float]:
    """Direction and speed of a mover that walks: it spans most of the shot (occlusions by
    poles leave gaps, false movers come and go) and travels steadily sideways."""
    centres = np.array([box.x + box.width / 2 for _, box in track])
    times = np.array([index for index, _ in track], dtype=np.float64)
    if times[-1] - times[0] < _WALK_SPAN * (shot_frames - 1) or times[-1] == times[0]:
        return "", 0.0
    speed = float(np.polyfit(times, centres, 1)[0])
    height = float(np.median([box.height for _, box in track]))
    steps = np.sign(np.diff(centres))
    steady = float(np.mean(steps == np.sign(speed))) if speed else 0.0
    if abs(speed) >= _WALK_SPEED * height and steady >= _WALK_STEADINESS:
        return ("right" if speed > 0 else "left"), speed
    return "", speed


def _confirmed(
    box: Box, details: tuple[DetailFrame, ...], frame_index: int, working_width: int
) -> bool:
    """HOG on source pixels around ``box``, in the detail frame nearest ``frame_index``."""
    if not details:
        return False
    detail = min(details, key=lambda d: abs(d.index - frame_index))
    scale = detail.scale(working_width)
    pad_x, pad_y = box.width * 0.8, box.height * 0.3
    x0 = max(0, int((box.x - pad_x) * scale))
    y0 = max(0, int((box.y - pad_y) * scale))
    x1 = min(detail.image.shape[1], int((box.x + box.width + pad_x) * scale))
    y1 = min(detail.image.shape[0], int((box.y + box.height + pad_y) * scale))
    crop = detail.image[y0:y1, x0:x1]
    if crop.size == 0:
        return False
    # The detector's people are about 96 of its window's 128 pixels tall.
    zoom = 96 / max(1.0, box.height * scale)
    if zoom > 1:
        crop = np.asarray(
            cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC), np.uint8
        )
    gray = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    if gray.shape[0] < _HOG_HEIGHT or gray.shape[1] < _HOG_HEIGHT // 2:
        return False
    _, weights = people_detector().detectMultiScale(
        gray, winStride=(8, 8), padding=(8, 8), scale=1.1
    )
    return bool(len(weights)) and float(np.max(weights)) >= _HOG_WEIGHT


def find_people(
    frames: npt.NDArray[np.uint8],
    cuts: tuple[int, ...] = (),
    details: tuple[DetailFrame, ...] = (),
    camera_moves: Callable[[int, int], bool] | None = None,
) -> PeopleFinding:
    """Person-shaped movers in each still-camera shot of ``frames`` (working size), confirmed
    on ``details`` where it can (see the module's docstring). ``camera_moves(start, end)``
    says whether the camera pans or zooms in that shot (measured by optical flow): there the
    whole background moves, and a post or a tree drifting with a slow pan would pass for a
    walker, so the shot is not searched."""
    width = frames.shape[2]
    found: list[PersonTrack] = []
    searched = 0
    for start, end in shot_spans(frames.shape[0], cuts):
        if end - start < _MIN_SHOT_FRAMES:
            continue
        if camera_moves is not None and camera_moves(start, end):
            continue
        picks = np.unique(np.linspace(start, end - 1, _SAMPLES).round().astype(int))
        step = max(1, (end - start) // _BACKGROUND_FRAMES)
        background = np.asarray(np.median(frames[start:end:step], axis=0), dtype=np.uint8)
        masks = [_foreground(frames[i], background) for i in picks]
        if float(np.median([m.mean() for m in masks])) > _MAX_FOREGROUND_SHARE:
            continue  # the camera moves: the median is no background
        searched += 1
        per_frame = [(int(i), _regions(m)) for i, m in zip(picks, masks, strict=True)]
        for track in _link(per_frame):
            if len(track) < _TRACKED_SHARE * len(picks):
                continue
            walking, speed = _walking(track, end - start)
            middle_index, middle_box = track[len(track) // 2]
            confirmed = _confirmed(middle_box, details, middle_index, width)
            confidence = (
                CONFIDENCE_CONFIRMED
                if confirmed
                else CONFIDENCE_WALKING
                if walking
                else CONFIDENCE_MOVER
            )
            boxes = np.array([[b.x, b.y, b.width, b.height] for _, b in track])
            x, y, w, h = (int(v) for v in np.median(boxes, axis=0))
            found.append(
                PersonTrack(Box(x, y, w, h), speed, len(track), walking, confirmed, confidence)
            )
    return PeopleFinding(tuple(found), searched)
