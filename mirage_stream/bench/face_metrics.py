"""How a received face compares with the source's, as a standard face recogniser judges it:
dlib's HOG face detector, its 68-point shape predictor and its 128-D face descriptor (ResNet,
99.38% on LFW), where two faces under 0.6 apart are the same person by dlib's convention.

For measuring only, never on the product's path: the bench extra installs PyPI ``dlib-bin``
and ``face-recognition-models`` (whose 68-point predictor was trained on iBUG 300-W, terms
that allow research use only). Landmarks are normalised by the source's outer eye-corner
distance; the mouth's opening is the mean gap of the three inner-lip pairs over that
distance.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mirage_stream.errors import InputError
from mirage_stream.metrics.fidelity import psnr_db, ssim
from mirage_stream.types import FrameArray

SAME_PERSON = 0.6  # dlib's convention for its descriptor distance
_OUTER_EYES = (36, 45)
_INNER_LIPS = ((61, 67), (62, 66), (63, 65))
_UPSAMPLE = 1  # finds faces down to about 40 px


@dataclass(frozen=True)
class FaceLook:
    """One face as dlib sees it."""

    box: tuple[int, int, int, int]  # left, top, right, bottom
    landmarks: npt.NDArray[np.float64]  # 68 x 2
    descriptor: npt.NDArray[np.float64]  # 128

    @property
    def eye_distance(self) -> float:
        a, b = _OUTER_EYES
        return float(np.linalg.norm(self.landmarks[a] - self.landmarks[b]))

    @property
    def mouth_open(self) -> float:
        gaps = [np.linalg.norm(self.landmarks[a] - self.landmarks[b]) for a, b in _INNER_LIPS]
        return float(np.mean(gaps)) / max(self.eye_distance, 1e-6)


@dataclass(frozen=True)
class FrameComparison:
    """A received frame against its source frame (whose face was found)."""

    found: bool  # the detector found a face in the received frame
    distance: float | None  # descriptor distance, where found
    landmark_error: float  # mean 68-point error / source eye distance
    mouth_source: float
    mouth_received: float
    face_psnr_db: float
    face_ssim: float


def _models_folder() -> Path:
    # The package's own __init__ needs pkg_resources, gone from recent setuptools; its files
    # are all that is needed.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "bench portrait needs dlib's face models: pip install -e '.[bench]' "
            "(PyPI dlib-bin and face-recognition-models)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@cache
def _dlib() -> tuple[Any, Any, Any]:
    try:
        import dlib
    except ImportError:
        raise InputError(
            "bench portrait needs dlib: pip install -e '.[bench]' (PyPI dlib-bin)"
        ) from None
    folder = _models_folder()
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(folder / "shape_predictor_68_face_landmarks.dat")),
        dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat")),
    )


def _rectangle(box: tuple[int, int, int, int]) -> Any:
    import dlib

    return dlib.rectangle(*box)


def look(image: FrameArray, near: tuple[int, int, int, int] | None = None) -> FaceLook | None:
    """The face dlib finds in ``image`` (the one nearest ``near`` when given, else the
    largest), or None."""
    detector, predictor, recogniser = _dlib()
    image = np.ascontiguousarray(image)
    boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in detector(image, _UPSAMPLE)]
    if not boxes:
        return None
    if near is None:
        box = max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    else:
        box = min(boxes, key=lambda b: math.dist(_centre(b), _centre(near)))
    return _described(image, box, predictor, recogniser)


def look_at(image: FrameArray, box: tuple[int, int, int, int]) -> FaceLook:
    """The face in ``box`` of ``image``, whether or not a detector would find it there."""
    _, predictor, recogniser = _dlib()
    return _described(np.ascontiguousarray(image), box, predictor, recogniser)


def _described(
    image: FrameArray, box: tuple[int, int, int, int], predictor: Any, recogniser: Any
) -> FaceLook:
    shape = predictor(image, _rectangle(box))
    landmarks = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
    descriptor = np.array(recogniser.compute_face_descriptor(image, shape), np.float64)
    return FaceLook(box, landmarks, descriptor)


def _centre(box: tuple[int, int, int, int]) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def compare(source: FrameArray, source_face: FaceLook, received: FrameArray) -> FrameComparison:
    found = look(received, near=source_face.box)
    if found is not None and math.dist(_centre(found.box), _centre(source_face.box)) > 0.5 * (
        source_face.box[2] - source_face.box[0]
    ):
        found = None  # a face elsewhere is not this one
    seen = found if found is not None else look_at(received, source_face.box)
    eye = max(source_face.eye_distance, 1e-6)
    error = float(np.linalg.norm(seen.landmarks - source_face.landmarks, axis=1).mean()) / eye
    left, top, right, bottom = source_face.box
    grow = (right - left) // 5
    height, width = source.shape[:2]
    y0, y1 = max(0, top - grow), min(height, bottom + grow)
    x0, x1 = max(0, left - grow), min(width, right + grow)
    crop_s, crop_r = source[y0:y1, x0:x1], received[y0:y1, x0:x1]
    return FrameComparison(
        found=found is not None,
        distance=None
        if found is None
        else float(np.linalg.norm(found.descriptor - source_face.descriptor)),
        landmark_error=error,
        mouth_source=source_face.mouth_open,
        mouth_received=seen.mouth_open,
        face_psnr_db=psnr_db(crop_s, crop_r) if crop_s.size else float("nan"),
        face_ssim=ssim(crop_s, crop_r) if min(crop_s.shape[:2], default=0) >= 7 else float("nan"),
    )


@dataclass(frozen=True)
class FaceScores:
    """A received video's faces against the source's, over the sampled frames."""

    frames: int  # sampled frames whose source shows a face
    found_share: float
    same_person_share: float  # found and under 0.6 from the source's descriptor
    mean_distance: float | None  # over frames where found
    landmark_error: float
    mouth_correlation: float | None  # None where the source's mouth hardly moves
    face_psnr_db: float
    face_ssim: float


MOUTH_MOVES = 0.02  # the source's opening must vary by at least this (std, eye distances)


def scores(comparisons: list[FrameComparison]) -> FaceScores | None:
    if not comparisons:
        return None
    found = [c for c in comparisons if c.found]
    distances = [c.distance for c in found if c.distance is not None]
    source = np.array([c.mouth_source for c in comparisons])
    received = np.array([c.mouth_received for c in comparisons])
    correlation = None
    if len(comparisons) >= 3 and source.std() >= MOUTH_MOVES and received.std() > 0:
        correlation = float(np.corrcoef(source, received)[0, 1])
    return FaceScores(
        frames=len(comparisons),
        found_share=len(found) / len(comparisons),
        same_person_share=sum(d < SAME_PERSON for d in distances) / len(comparisons),
        mean_distance=float(np.mean(distances)) if distances else None,
        landmark_error=float(np.mean([c.landmark_error for c in comparisons])),
        mouth_correlation=correlation,
        face_psnr_db=float(np.nanmean([c.face_psnr_db for c in comparisons])),
        face_ssim=float(np.nanmean([c.face_ssim for c in comparisons])),
    )
