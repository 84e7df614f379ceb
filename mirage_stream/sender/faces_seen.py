"""The faces of a segment's analysis: which cascade faces are people (the face mesh confirms
every face past the largest), the largest face per frame (the cascade's, else the short-range
detector's), whether it talks or turns, what the face mesh reads on it, and where it is for
the colours that leave it out."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from mirage_stream.looks import PersonLook
from mirage_stream.sender.detectors import Box
from mirage_stream.sender.flow import mouth_motion
from mirage_stream.sender.objects import Detection
from mirage_stream.sender.person_look import FaceReader, person_look
from mirage_stream.types import VideoSegment

_TALKING_MOUTH_PX = 0.35  # mouth residual flow over two frames
_TALKING_RATIO = 1.1  # mouth against eyes: speech moves the mouth more than the brow
# A head that turns moves its brow as much as its mouth (several pixels over two frames): mouth
# motion is read as speech only while the brow stays within this share of the face's width.
_TURNING_BROW_SHARE = 0.03
# The person's face is read (expressions, head direction, glasses) when at least this wide
# (the caption's "at medium distance"): a face far away is someone in a scene, not a caller.
READABLE_FACE = 0.15


@dataclass(frozen=True)
class FrameFeatures:
    """Measurements of one candidate keyframe (eq. 4's per-frame features m_t)."""

    index: int
    sharpness: float
    exposure: float
    faces: tuple[Box, ...]
    thumbnail: npt.NDArray[np.float32]


def confirmed_faces(
    reader: FaceReader, frames: npt.NDArray[np.uint8], feature: FrameFeatures
) -> FrameFeatures:
    """The candidate's faces past the largest kept only where the face mesh sees a face: the
    cascade fires on shirts, hair and background patterns beside a close-up, and a second face
    is a second person."""
    if len(feature.faces) < 2:
        return feature
    frame = frames[feature.index]
    kept = feature.faces[:1] + tuple(
        face for face in feature.faces[1:] if reader.confirms(frame, face)
    )
    return replace(feature, faces=kept)


def largest_faces(
    features: tuple[FrameFeatures, ...],
    close: dict[int, list[Detection]],
    width: int,
    height: int,
) -> list[tuple[int, Box]]:
    """Per frame, the largest face: the short-range detector's on the sampled frames (a face
    model, which keeps turned and tilted heads the cascade loses), and the cascade's on the
    candidate frames the detector did not look at or found nothing on."""
    found = {
        index: Box(
            int(face.x * width),
            int(face.y * height),
            int(face.width * width),
            int(face.height * height),
        )
        for index, faces in close.items()
        if faces
        for face in [max(faces, key=lambda d: d.width)]
    }
    for feature in features:
        if feature.faces and feature.index not in found:
            found[feature.index] = feature.faces[0]
    return sorted(found.items())


def read_look(
    reader: FaceReader, frames: npt.NDArray[np.uint8], faces: list[tuple[int, Box]]
) -> PersonLook:
    """The person nearest the camera, from the faces wide enough for the mesh to read."""
    width = frames.shape[2]
    readings = [
        reading
        for index, face in faces
        if face.width >= READABLE_FACE * width
        and (reading := reader.read(frames[index], face)) is not None
    ]
    return person_look(readings)


def face_regions(
    faces: list[tuple[int, Box]], index: int, segment: VideoSegment
) -> list[tuple[float, float, float, float]]:
    """The face nearest frame ``index`` (fractions of the frame), widened by a fifth on each
    side to take in the skin around the box."""
    if not faces:
        return []
    _, face = min(faces, key=lambda found: abs(found[0] - index))
    margin_x, margin_y = 0.2 * face.width, 0.2 * face.height
    return [
        (
            (face.x - margin_x) / segment.width,
            (face.y - margin_y) / segment.height,
            (face.width + 2 * margin_x) / segment.width,
            (face.height + 2 * margin_y) / segment.height,
        )
    ]


def on_face(x: float, y: float, face: Box, width: int, height: int) -> bool:
    """Whether the centre of what moves (fractions of the frame) lies on the face, widened by
    a third: a turning or nodding head is not a gesture."""
    margin_x, margin_y = face.width / 3, face.height / 3
    inside_x = face.x - margin_x <= x * width <= face.x + face.width + margin_x
    inside_y = face.y - margin_y <= y * height <= face.y + face.height + margin_y
    return inside_x and inside_y


def face_motion(
    frames: npt.NDArray[np.uint8], features: tuple[FrameFeatures, ...], cuts: tuple[int, ...]
) -> tuple[bool, bool]:
    """Whether the largest face talks and whether it turns: mouth-region motion against the
    face, two frames apart, at the frames with a face; a turning head moves its brow too."""
    samples = []
    for feature in features:
        later = feature.index + 2
        if not feature.faces or later >= frames.shape[0] or feature.index + 1 in cuts:
            continue
        if later in cuts:
            continue
        face = feature.faces[0]
        mouth, brow = mouth_motion(frames[feature.index], frames[later], face)
        samples.append((mouth, brow, face.width))
    if not samples:
        return False, False
    mouth = float(np.median([m for m, _, _ in samples]))
    ratio = float(np.median([m / max(e, 1e-3) for m, e, _ in samples]))
    turning = float(np.median([e / w for _, e, w in samples])) > _TURNING_BROW_SHARE
    return mouth >= _TALKING_MOUTH_PX and ratio >= _TALKING_RATIO and not turning, turning
