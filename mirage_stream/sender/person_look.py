"""What the person nearest the camera does with the face and what they wear on it, over a
segment: smiles, opens the mouth wide, closes the eyes, turns to look somewhere, wears glasses.

Each frame is read by ``face_reading.read_face`` from MediaPipe's face mesh; a claim needs the
same reading in several sampled frames, so that one mis-fitted mesh or a blink says nothing.
Nothing here says who the person is, nor their gender, age or ethnicity.

Thresholds were read on the tune sources only (``python tools/face_scores.py``): the HDTF
talking heads and the head-pose clips of the real-footage set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from mirage_stream.looks import PersonLook
from mirage_stream.registry import Registry
from mirage_stream.sender.detectors import Box
from mirage_stream.sender.face_mesh import MIN_FACE_SCORE, FaceLandmarker, FaceMesh
from mirage_stream.sender.face_reading import FaceReading, read_face
from mirage_stream.types import FrameArray

# Mouth corners this far above the middle of the lips (face heights): a smile. Talking moves
# them up to 0.024 on the tune half; a broad smile lifts them 0.03-0.04.
SMILE_LIFT = 0.03
# The inner lips this far apart (face heights): the mouth wide open. Speech opens it to 0.15.
MOUTH_WIDE_OPEN = 0.2
# The lids' gap over the eye's width: open eyes read 0.2-0.45, closed ones under 0.1.
EYES_CLOSED = 0.12
# The nose this far from the face's middle (half face widths): the head turned to look aside;
# facing the camera reads within 0.2, a three-quarter view 0.5 and more.
TURNED = 0.45
# The nose tip between the eye line (0) and the chin (1): facing the camera reads 0.22-0.5.
LOOKS_UP, LOOKS_DOWN = 0.12, 0.62
# The glasses bridge across the nose against the skin's texture: 18-29 with glasses, under 6
# without on the tune half.
GLASSES_EDGE = 10.0
# Readings that must agree: a smile or a turn shows in two sampled frames; a state that lasts
# (closed eyes, glasses) in most of them.
SEEN_IN = 2
MOST = 0.5


class FaceReader(Protocol):
    @property
    def name(self) -> str: ...

    def read(self, frame: FrameArray, face: Box) -> FaceReading | None:
        """The face in ``face`` read from its mesh, or None where the mesh sees no face."""
        ...

    def confirms(self, frame: FrameArray, face: Box) -> bool:
        """Whether a face is in ``face`` (True where this reader cannot tell)."""
        ...


class NoFaceReader:
    """Reads no face: the caption says nothing of expressions or glasses."""

    name = "none"

    def read(self, frame: FrameArray, face: Box) -> FaceReading | None:
        return None

    def confirms(self, frame: FrameArray, face: Box) -> bool:
        return True


_CROP_SCALE = 1.5  # MediaPipe's face crop: the face box widened half again


class MeshFaceReader:
    """MediaPipe's face mesh on the face's box, then ``read_face``."""

    name = "mediapipe-face-mesh"

    def __init__(self) -> None:
        self._landmarker = FaceLandmarker()

    def mesh(self, frame: FrameArray, face: Box) -> FaceMesh | None:
        centre = (face.x + face.width / 2, face.y + face.height / 2)
        found = self._landmarker.mesh(frame, centre, _CROP_SCALE * max(face.width, face.height))
        return found if found.score >= MIN_FACE_SCORE else None

    def read(self, frame: FrameArray, face: Box) -> FaceReading | None:
        found = self.mesh(frame, face)
        return None if found is None else read_face(frame, found)

    def confirms(self, frame: FrameArray, face: Box) -> bool:
        return self.mesh(frame, face) is not None


def person_look(readings: Sequence[FaceReading]) -> PersonLook:
    """The claims that enough of a segment's ``readings`` (sampled frames) agree on."""
    if len(readings) < SEEN_IN:
        # One frame alone may be a mesh fitted on something else (a face printed on a shirt).
        return PersonLook()

    def seen(test: Callable[[FaceReading], bool]) -> bool:
        return sum(test(r) for r in readings) >= SEEN_IN

    def mostly(test: Callable[[FaceReading], bool]) -> bool:
        return sum(test(r) for r in readings) > MOST * len(readings)

    looks = tuple(
        direction
        for direction, test in (
            ("left", lambda r: r.turn <= -TURNED),
            ("right", lambda r: r.turn >= TURNED),
            ("up", lambda r: r.tilt <= LOOKS_UP),
            ("down", lambda r: r.tilt >= LOOKS_DOWN),
        )
        if seen(test)
    )
    return PersonLook(
        smiling=seen(lambda r: r.corner_lift >= SMILE_LIFT),
        mouth_open=seen(lambda r: r.mouth_open >= MOUTH_WIDE_OPEN),
        eyes_closed=mostly(lambda r: r.eyes_open <= EYES_CLOSED),
        looks=looks,
        glasses=mostly(lambda r: r.bridge_edge >= GLASSES_EDGE),
    )


FACE_READERS: Registry[Callable[[], FaceReader]] = Registry("face reader", "--face-reader")
FACE_READERS.add(
    "mediapipe-face-mesh",
    "MediaPipe face mesh: expressions, head direction, glasses (shipped weights)",
    MeshFaceReader,
)
FACE_READERS.add("none", "no face reading", NoFaceReader)
DEFAULT_FACE_READER = "mediapipe-face-mesh"
