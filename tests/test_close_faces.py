"""Faces near the camera from MediaPipe's short-range detector: the shipped model on real
footage from outside the project, its decoding, and two frames to confirm a face."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mirage_stream.bench.real_footage import footage_frames, load_real_set
from mirage_stream.errors import InputError
from mirage_stream.sender.close_faces import (
    CLOSE_FACE_DETECTORS,
    MIN_FACE_SCORE,
    NoCloseFaceDetector,
    ShortRangeFaceDetector,
    close_face_count,
    decode_faces,
)
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.detectors import detect_faces
from mirage_stream.sender.hands import blaze_anchors


def _working_frames(name: str) -> list[np.ndarray]:
    clip = next(clip for clip in load_real_set() if clip.name == name)
    return [cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA) for f in footage_frames(clip)]


def test_tilted_heads_the_cascade_misses_are_found_and_an_empty_room_has_none():
    detector = ShortRangeFaceDetector()
    heads = _working_frames("two-heads")[::10]
    assert sum(len(detect_faces(f)) for f in heads) < 2 * len(heads)  # the cascade misses some
    found = [detector.detect(f) for f in heads]
    assert all(found) and max(len(faces) for faces in found) == 2
    for face in found[0]:
        assert face.score >= MIN_FACE_SCORE and 0.05 < face.width < 0.4
    assert close_face_count(found) >= 1
    empty = _working_frames("one-by-one-empty")[::10]
    assert close_face_count([detector.detect(f) for f in empty]) == 0


def test_decoding_undoes_the_letterbox():
    anchors = blaze_anchors(128)
    regressors = np.zeros((896, 16), np.float32)
    logits = np.full(896, -20.0, np.float32)
    logits[0] = 5.0  # the first anchor (centre 1/32, 1/32 of the square), offset by 16 px
    regressors[0, :4] = [16.0, 16.0, 32.0, 32.0]
    # A 320x240 frame letterboxed into a 320 square, 40 px down.
    (face,) = decode_faces(regressors, logits, anchors, 320, 0, 40, 320, 240)
    centre = (1 / 32 + 16 / 128) * 320
    assert face.x * 320 == pytest.approx(centre - 40)
    assert face.y * 240 == pytest.approx(centre - 40 - 40)
    assert (face.width * 320, face.height * 240) == pytest.approx((80, 80))


def test_one_frame_alone_is_no_face():
    found = [[object()] * n for n in (0, 2, 0, 1)]
    assert close_face_count(found) == 1
    assert close_face_count(found[:3]) == 0


def test_close_face_detectors_by_name():
    assert CLOSE_FACE_DETECTORS.names() == ["mediapipe-face-short", "none"]
    assert NoCloseFaceDetector().detect(np.zeros((8, 8, 3), np.uint8)) == []
    with pytest.raises(InputError, match="--close-face-detector"):
        SenderConfig(close_face_detector="retinaface")
