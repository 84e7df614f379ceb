"""The motion track at the sender: six face landmarks of the largest face (MediaPipe face mesh,
``models/README.md``: source, licence, checksum) and up to two palms (the analysis' palm
detections) at the frames the analysis sampled, linked into points that keep their identity.

The face is found by OpenCV's cascade once, then followed the way MediaPipe's own pipeline
does: each sample's crop is the square around the previous sample's landmarks, so a head that
turns past what the frontal cascade sees stays tracked while the mesh still recognises a face.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.motion_track import MotionTrack, PointKind, Position, TrackedPoint
from mirage_stream.sender.detectors import Box, detect_faces
from mirage_stream.sender.hands import Palm
from mirage_stream.sender.shipped_model import ShippedModel
from mirage_stream.types import FrameArray

MODEL_FILE = "face_landmark.tflite"
MODEL_SHA256 = "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"
_INPUT = 192
# Mesh indices: nose tip, chin, the outer corners of both eyes, the inner upper and lower lip.
FACE_LANDMARKS = (1, 152, 33, 263, 13, 14)
_LIPS = (13, 14)
MIN_FACE_SCORE = 0.5  # the mesh's own face-presence output, a sigmoid
_CROP_SCALE = 1.5  # MediaPipe widens the landmarks' box this much for the next crop
# How far the picture around a landmark follows it, as a share of the face's size: the whole
# head for the rigid points, the mouth alone for the lips.
_FACE_REACH = 0.2
_LIP_REACH = 0.12
_MAX_HANDS = 2
_HAND_LINK = 0.25  # a palm further than this (share of the width) from a track starts anew
_HAND_REACH = 1.2  # times the palm's size


@dataclass(frozen=True)
class FaceMesh:
    points: npt.NDArray[np.float32]  # 468 x 2, frame pixels
    score: float

    @property
    def size(self) -> float:
        span = self.points.max(axis=0) - self.points.min(axis=0)
        return float(span.max())


class FaceLandmarker:
    """MediaPipe's face mesh on a square crop; one LiteRT interpreter per thread."""

    name = "mediapipe-face-mesh"

    def __init__(self) -> None:
        self._model = ShippedModel(MODEL_FILE, MODEL_SHA256)

    def mesh(self, frame: FrameArray, centre: Position, side: float) -> FaceMesh:
        """Landmarks in the ``side``-pixel square around ``centre`` (pixels); the crop may
        reach past the frame (black there, as MediaPipe pads)."""
        scale = _INPUT / side
        x0, y0 = centre[0] - side / 2, centre[1] - side / 2
        to_crop = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], np.float32)
        crop = cv2.warpAffine(frame, to_crop, (_INPUT, _INPUT), flags=cv2.INTER_LINEAR)
        interpreter = self._model.interpreter()
        interpreter.set_tensor(
            interpreter.get_input_details()[0]["index"], (crop.astype(np.float32) / 255)[None]
        )
        interpreter.invoke()
        landmarks, presence = (
            interpreter.get_tensor(o["index"]) for o in interpreter.get_output_details()
        )
        points = landmarks.reshape(-1, 3)[:, :2] / scale + np.array([x0, y0], np.float32)
        logit = float(np.clip(presence.ravel()[0], -60, 60))
        return FaceMesh(points.astype(np.float32), 1 / (1 + math.exp(-logit)))


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

    landmarker: FaceLandmarker = field(default_factory=FaceLandmarker)
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
        for index in sample_frames:
            frame = frames[index]
            previous = self._follow(frame, previous) if previous else None
            if previous is None:
                previous = self._find(frame, faces.get(index, ()))
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

    def _find(self, frame: FrameArray, known: Sequence[Box] = ()) -> FaceMesh | None:
        # The analysis' box where it has one (its cascade ran on this frame already); else a
        # search at full width, which also finds faces too small for the analysis' copy.
        faces = list(known) or detect_faces(frame, work_width=frame.shape[1])
        if not faces:
            return None
        box = faces[0]
        centre = (box.x + box.width / 2, box.y + box.height / 2)
        mesh = self.landmarker.mesh(frame, centre, _CROP_SCALE * max(box.width, box.height))
        return mesh if mesh.score >= MIN_FACE_SCORE else None

    def _follow(self, frame: FrameArray, previous: FaceMesh) -> FaceMesh | None:
        low, high = previous.points.min(axis=0), previous.points.max(axis=0)
        centre = (float(low[0] + high[0]) / 2, float(low[1] + high[1]) / 2)
        mesh = self.landmarker.mesh(frame, centre, _CROP_SCALE * previous.size)
        return mesh if mesh.score >= MIN_FACE_SCORE else None


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
