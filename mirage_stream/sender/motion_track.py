"""The motion track at the sender: six face landmarks of the largest face (``face_mesh``) and
up to two palms (the analysis' palm detections) at the frames the analysis sampled, linked into
points that keep their identity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mirage_stream.motion_track import MotionTrack, PointKind, TrackedPoint
from mirage_stream.sender.detectors import Box
from mirage_stream.sender.face_mesh import FaceFollower, FaceMesh
from mirage_stream.sender.hands import Palm
from mirage_stream.types import FrameArray

# Mesh indices: nose tip, chin, the outer corners of both eyes, the inner upper and lower lip.
FACE_LANDMARKS = (1, 152, 33, 263, 13, 14)
_LIPS = (13, 14)
# How far the picture around a landmark follows it, as a share of the face's size: the whole
# head for the rigid points, the mouth alone for the lips.
_FACE_REACH = 0.2
_LIP_REACH = 0.12
_MAX_HANDS = 2
_HAND_LINK = 0.25  # a palm further than this (share of the width) from a track starts anew
_HAND_REACH = 1.2  # times the palm's size


class MotionTracker(Protocol):
    @property
    def name(self) -> str: ...

    def track(
        self,
        frames: Sequence[FrameArray] | npt.NDArray[np.uint8],
        sample_frames: Sequence[int],
        palms: Sequence[Sequence[Palm]],
        faces: Mapping[int, Sequence[Box]] | None = None,
    ) -> MotionTrack | None: ...


@dataclass
class LandmarkTracker:
    """Face landmarks and palms into a ``MotionTrack``; None when nothing was seen twice."""

    follower: FaceFollower = field(default_factory=FaceFollower)
    name: str = "face-mesh+palms"

    def track(
        self,
        frames: Sequence[FrameArray] | npt.NDArray[np.uint8],
        sample_frames: Sequence[int],
        palms: Sequence[Sequence[Palm]],
        faces: Mapping[int, Sequence[Box]] | None = None,
    ) -> MotionTrack | None:
        """``faces``: boxes the analysis already found at some of the frames (largest first),
        where the mesh then starts instead of a new face search."""
        if len(sample_frames) < 2:
            return None
        points = self._face_points(frames, sample_frames, faces or {}) + _hand_points(palms)
        kept = tuple(p for p in points if p.seen >= 2)
        return MotionTrack(tuple(sample_frames), kept) if kept else None

    def _face_points(
        self,
        frames: Sequence[FrameArray] | npt.NDArray[np.uint8],
        sample_frames: Sequence[int],
        faces: Mapping[int, Sequence[Box]],
    ) -> list[TrackedPoint]:
        meshes: list[FaceMesh | None] = []
        previous: FaceMesh | None = None
        searched = False  # a search over the whole frame found nothing
        for index in sample_frames:
            boxes = faces.get(index, ())
            if previous is None and searched and not boxes:
                # Searching again costs a whole-frame cascade per sample: only a face the
                # analysis found starts the mesh again.
                meshes.append(None)
                continue
            previous = self.follower.next(frames[index], previous, boxes)
            searched = previous is None and not boxes
            meshes.append(previous)
        seen = [m for m in meshes if m is not None]
        if len(seen) < 2:
            return []
        height, width = frames[0].shape[:2]
        size = float(np.median([m.size for m in seen])) / width
        return [
            TrackedPoint(
                PointKind.FACE,
                (_LIP_REACH if landmark in _LIPS else _FACE_REACH) * size,
                tuple(
                    None
                    if m is None
                    else (
                        float(m.points[landmark, 0]) / width,
                        float(m.points[landmark, 1]) / height,
                    )
                    for m in meshes
                ),
            )
            for landmark in FACE_LANDMARKS
        ]


def _hand_points(palms: Sequence[Sequence[Palm]]) -> list[TrackedPoint]:
    """Palms linked across samples, nearest first, into at most two tracks."""
    tracks: list[list[Palm | None]] = []
    for sample, found in enumerate(palms):
        for track in tracks:
            track.append(None)
        for palm in sorted(found, key=lambda p: -p.score):
            open_tracks = [t for t in tracks if t[-1] is None and _last(t) is not None]
            nearest = min(
                open_tracks,
                key=lambda t: _distance(_last(t), palm),
                default=None,
            )
            if nearest is not None and _distance(_last(nearest), palm) <= _HAND_LINK:
                nearest[-1] = palm
            elif len(tracks) < _MAX_HANDS:
                tracks.append([None] * sample + [palm])
    return [
        TrackedPoint(
            PointKind.HAND,
            _HAND_REACH * float(np.median([p.size for p in track if p])),
            tuple(None if p is None else (p.x, p.y) for p in track),
        )
        for track in tracks
    ]


def _last(track: list[Palm | None]) -> Palm | None:
    """The track's latest sighting before the sample being linked."""
    return next((p for p in reversed(track[:-1]) if p is not None), None)


def _distance(a: Palm | None, b: Palm) -> float:
    return math.inf if a is None else math.dist((a.x, a.y), (b.x, b.y))


class NoMotionTracker:
    """Sends no track: the paper's payload."""

    name = "none"

    def track(
        self,
        frames: Sequence[FrameArray] | npt.NDArray[np.uint8],
        sample_frames: Sequence[int],
        palms: Sequence[Sequence[Palm]],
        faces: Mapping[int, Sequence[Box]] | None = None,
    ) -> MotionTrack | None:
        return None
