"""The motion track: where a few landmarks of the people in view are at a few frames of the
segment. The sender measures it (``sender.motion_track``), the payload's hints carry it
(``wire.track_bits``) and the offline generator warps the keyframes to follow it
(``receiver.landmark_warp``). This goes beyond the paper, which sends motion only as words.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

Position = tuple[float, float]  # fractions of the frame's width and height


class PointKind(enum.IntEnum):
    FACE = 0  # a face landmark: moves smoothly, so it travels delta-coded
    HAND = 1  # a palm: jumps between samples, so each sighting travels whole


@dataclass(frozen=True)
class TrackedPoint:
    kind: PointKind
    reach: float  # how far around the point the picture moves with it, fraction of the width
    positions: tuple[Position | None, ...]  # one per sample; None where it was not seen

    @property
    def seen(self) -> int:
        return sum(p is not None for p in self.positions)


@dataclass(frozen=True)
class MotionTrack:
    sample_frames: tuple[int, ...]  # frame index in the segment of each sample, increasing
    points: tuple[TrackedPoint, ...]

    def __post_init__(self) -> None:
        if any(b <= a for a, b in zip(self.sample_frames, self.sample_frames[1:], strict=False)):
            raise ValueError("sample frames must increase")
        for point in self.points:
            if len(point.positions) != len(self.sample_frames):
                raise ValueError("each point needs one position per sample")

    def position(self, point: TrackedPoint, frame: int) -> Position | None:
        """Where ``point`` is at ``frame``: None when the sample nearest to ``frame`` (the
        earlier on a tie) missed it; else linear between the two consecutive samples around
        ``frame`` where both saw it, or the nearest sighting held (before the first sample,
        after the last, or beside a sample that missed it)."""
        frames, positions = self.sample_frames, point.positions
        if not frames:
            return None
        nearest = min(range(len(frames)), key=lambda i: (abs(frames[i] - frame), i))
        if positions[nearest] is None:
            return None
        after = next((i for i, at in enumerate(frames) if at >= frame), None)
        if after is None or after == 0 or frames[after] == frame:
            return positions[nearest]
        a, b = positions[after - 1], positions[after]
        if a is None or b is None:
            return positions[nearest]
        share = (frame - frames[after - 1]) / (frames[after] - frames[after - 1])
        return (a[0] + share * (b[0] - a[0]), a[1] + share * (b[1] - a[1]))
