"""MediaPipe's face mesh (468 landmarks in 3-D, ``models/README.md``: source, licence,
checksum) and a follower that keeps one face from frame to frame.

The face is found by OpenCV's cascade once, then followed the way MediaPipe's own pipeline
does: each frame's crop is the square around the previous frame's landmarks, so a head that
turns past what the frontal cascade sees stays tracked while the mesh still recognises a face.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.sender.detectors import Box, detect_faces
from mirage_stream.sender.shipped_model import ShippedModel
from mirage_stream.types import FrameArray

MODEL_FILE = "face_landmark.tflite"
MODEL_SHA256 = "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"
_INPUT = 192
MIN_FACE_SCORE = 0.5  # the mesh's own face-presence output, a sigmoid
_CROP_SCALE = 1.5  # MediaPipe widens the landmarks' box this much for the next crop

Position = tuple[float, float]


@dataclass(frozen=True)
class FaceMesh:
    points3d: npt.NDArray[np.float32]  # 468 x 3: x, y in frame pixels, z in the same scale
    score: float

    @property
    def points(self) -> npt.NDArray[np.float32]:
        """468 x 2, frame pixels."""
        return self.points3d[:, :2]

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
        points = landmarks.reshape(-1, 3) / scale + np.array([x0, y0, 0], np.float32)
        logit = float(np.clip(presence.ravel()[0], -60, 60))
        return FaceMesh(points.astype(np.float32), 1 / (1 + math.exp(-logit)))


@dataclass
class FaceFollower:
    """The largest face, found once and then followed by its own landmarks."""

    landmarker: FaceLandmarker = field(default_factory=FaceLandmarker)

    def find(self, frame: FrameArray, known: Sequence[Box] = ()) -> FaceMesh | None:
        """``known``: boxes already found on this frame (largest first); else a cascade search
        at full width, which also finds faces too small for the analysis' copy."""
        faces = list(known) or detect_faces(frame, work_width=frame.shape[1])
        if not faces:
            return None
        box = faces[0]
        centre = (box.x + box.width / 2, box.y + box.height / 2)
        mesh = self.landmarker.mesh(frame, centre, _CROP_SCALE * max(box.width, box.height))
        return mesh if mesh.score >= MIN_FACE_SCORE else None

    def follow(self, frame: FrameArray, previous: FaceMesh) -> FaceMesh | None:
        low, high = previous.points.min(axis=0), previous.points.max(axis=0)
        centre = (float(low[0] + high[0]) / 2, float(low[1] + high[1]) / 2)
        mesh = self.landmarker.mesh(frame, centre, _CROP_SCALE * previous.size)
        return mesh if mesh.score >= MIN_FACE_SCORE else None

    def next(
        self, frame: FrameArray, previous: FaceMesh | None, known: Sequence[Box] = ()
    ) -> FaceMesh | None:
        """The face on ``frame``: followed from ``previous``, else searched anew."""
        followed = self.follow(frame, previous) if previous is not None else None
        return followed if followed is not None else self.find(frame, known)
