"""Held keyframes warped to follow the motion track: a generated frame that shows a keyframe
as it was (the generator held it) is moved, around the tracked landmarks, from where they
were at that keyframe to where the track says they are now. Frames the generator morphed or
slid are left alone: where their landmarks are is not known, and warping them would move a
picture from the wrong place.

The displacement at a pixel x is a Gaussian-weighted mean of the landmarks' moves,

    d(x) = sum_i g_i(x) (q_i - p_i) / max(1, sum_i g_i(x)),
    g_i(x) = exp(-|x - q_i|^2 / (2 r_i^2)),

with p_i a landmark at the keyframe, q_i at the frame (for a face's landmarks: p_i plus their
mean move, so the head moves whole) and r_i its reach; the frame samples the
keyframe at x - d(x) (a backward warp). d fades to 0 away from the landmarks, so the rest of
the picture stays where it was and nothing is blended: no double image. Landmarks far from each
other move independently (two hands), landmarks close together move the region as one (a head).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.motion_track import MotionTrack, PointKind
from mirage_stream.types import FrameArray

_GRID = 4  # the displacement is smooth: computed every 4 pixels, then resized up
_STILL = 0.25  # pixels: a landmark that moved less than this leaves the frame alone


def held_anchor(anchors: list[tuple[int, FrameArray]], frame: int, shown: FrameArray) -> int | None:
    """The frame index of the keyframe that ``shown`` is, unchanged; nearest first."""
    for index, image in sorted(anchors, key=lambda anchor: (abs(anchor[0] - frame), anchor[0])):
        if image.shape == shown.shape and np.array_equal(image, shown):
            return index
    return None


def _moves(
    track: MotionTrack, index: int, frame: int, width: int, height: int
) -> list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], float]]:
    """(p_i, q_i, r_i) in pixels for the landmarks known at both frames. A face's landmarks
    all take their mean move: the head goes where the track says, kept whole (moving each
    landmark on its own bent blurry faces out of shape, and the face detector then lost them:
    carphone went from 30 of 30 sampled frames with a face to 26)."""
    known = []
    for point in track.points:
        before, after = track.position(point, index), track.position(point, frame)
        if before is not None and after is not None:
            p = np.array([before[0] * width, before[1] * height], np.float32)
            q = np.array([after[0] * width, after[1] * height], np.float32)
            known.append((point.kind, p, q, max(1.0, point.reach * width)))
    face = [q - p for kind, p, q, _ in known if kind is PointKind.FACE]
    head_move = np.mean(face, axis=0).astype(np.float32) if face else np.zeros(2, np.float32)
    moves = [
        (p, p + head_move if kind is PointKind.FACE else q, reach) for kind, p, q, reach in known
    ]
    return [(p, q, r) for p, q, r in moves if float(np.hypot(*(q - p))) >= _STILL]


def follow_track(
    frames: npt.NDArray[np.uint8],
    anchors: list[tuple[int, FrameArray]],
    track: MotionTrack,
) -> int:
    """Warp ``frames`` in place; the number of frames changed."""
    count, height, width = frames.shape[:3]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    coarse_y, coarse_x = np.mgrid[0:height:_GRID, 0:width:_GRID].astype(np.float32)
    changed = 0
    first, last = min(i for i, _ in anchors), max(i for i, _ in anchors)
    for t in range(count):
        if first <= t <= last:
            continue  # between two keyframes the pictures say where things went
        index = held_anchor(anchors, t, frames[t])
        if index is None or index == t:
            continue  # morphed, or a keyframe shown at its own time: as decoded
        moves = _moves(track, index, t, width, height)
        if not moves:
            continue
        total = np.zeros_like(coarse_x)
        shift_x = np.zeros_like(coarse_x)
        shift_y = np.zeros_like(coarse_x)
        for p, q, reach in moves:
            weight = np.exp(
                -((coarse_x - q[0]) ** 2 + (coarse_y - q[1]) ** 2) / (2 * reach * reach)
            )
            total += weight
            shift_x += weight * (q[0] - p[0])
            shift_y += weight * (q[1] - p[1])
        norm = np.maximum(total, 1.0)
        fields = [
            cv2.resize(np.ascontiguousarray(a), (width, height), interpolation=cv2.INTER_LINEAR)
            for a in (shift_x / norm, shift_y / norm)
        ]
        frames[t] = cv2.remap(
            frames[t],
            xs - fields[0],
            ys - fields[1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        changed += 1
    return changed
