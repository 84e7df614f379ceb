"""Hands in view, from MediaPipe's palm detector (``models/README.md``: source, licence,
checksum) under the LiteRT interpreter: where palms are in the sampled frames, and whether they
move between them (a gesture, signing) or rest.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.registry import Registry
from mirage_stream.sender.objects import Detection
from mirage_stream.sender.shipped_model import ShippedModel
from mirage_stream.types import FrameArray

MODEL_FILE = "palm_detection_lite.tflite"
MODEL_SHA256 = "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18"
_INPUT = 192
# Chosen on the tune sources of the real-footage set, on 320x240 working frames: true palms
# there score 0.61-0.92 (most over 0.84), false ones (broccoli on a belt, bottles, a wooden
# floor) up to 0.77.
MIN_PALM_SCORE = 0.8
_NMS_IOU = 0.3
# A palm that moves this far (fractions of the frame width) between two sampled frames is a
# hand gesturing; resting hands move a few hundredths at most.
_GESTURE_TRAVEL = 0.06


@dataclass(frozen=True)
class Palm:
    score: float
    x: float  # centre, fractions of the frame
    y: float
    size: float  # side of the palm's box, fractions of the frame width


def blaze_anchors(input_size: int = _INPUT) -> npt.NDArray[np.float32]:
    """The anchor centres of MediaPipe's single-shot detectors of the BlazeFace family (the
    palm detector at 192, 2016 anchors; the short-range face detector at 128, 896): cells of 2
    at stride 8, then of 6 at stride 16 (the three stride-16 layers merged), fixed size, in the
    models' output order."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = input_size // stride
        for row in range(cells):
            for column in range(cells):
                centres += [((column + 0.5) / cells, (row + 0.5) / cells)] * per_cell
    return np.asarray(centres, dtype=np.float32)


def letterboxed(frame: FrameArray, size: int) -> tuple[npt.NDArray[np.uint8], int, int, int]:
    """``frame`` centred in a black square and resized to ``size`` x ``size``, as MediaPipe's
    detectors were trained: (the image, the square's side, the frame's left and top in it)."""
    height, width = frame.shape[:2]
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    square = np.zeros((side, side, 3), np.uint8)
    square[top : top + height, left : left + width] = frame
    image = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA)
    return np.asarray(image, dtype=np.uint8), side, left, top


class HandDetector(Protocol):
    @property
    def name(self) -> str: ...

    def detect(self, frame: FrameArray) -> list[Palm]: ...


class NoHandDetector:
    """Finds no hands: no hands claim rests on it."""

    name = "none"

    def detect(self, frame: FrameArray) -> list[Palm]:
        return []


class PalmDetector:
    """MediaPipe's palm detector; one LiteRT interpreter per thread (it keeps its tensors
    inside)."""

    name = "mediapipe-palm"

    def __init__(self) -> None:
        self._model = ShippedModel(MODEL_FILE, MODEL_SHA256)
        self._anchors = blaze_anchors()

    def detect(self, frame: FrameArray) -> list[Palm]:
        """Palms in ``frame``: the frame letterboxed to a square, as the model was trained."""
        height, width = frame.shape[:2]
        tensor, side, left, top = letterboxed(frame, _INPUT)
        interpreter = self._model.interpreter()
        interpreter.set_tensor(
            interpreter.get_input_details()[0]["index"], (tensor.astype(np.float32) / 255)[None]
        )
        interpreter.invoke()
        regressors, logits = (
            interpreter.get_tensor(o["index"])[0] for o in interpreter.get_output_details()
        )
        scores = 1 / (1 + np.exp(-np.clip(logits[:, 0], -100, 100)))
        keep = np.nonzero(scores >= MIN_PALM_SCORE)[0]
        if keep.size == 0:
            return []
        x = regressors[keep, 0] / _INPUT + self._anchors[keep, 0]
        y = regressors[keep, 1] / _INPUT + self._anchors[keep, 1]
        size = np.maximum(regressors[keep, 2], regressors[keep, 3]) / _INPUT
        rects = [
            [float(a - s / 2), float(b - s / 2), float(s), float(s)]
            for a, b, s in zip(x, y, size, strict=True)
        ]
        chosen = np.asarray(
            cv2.dnn.NMSBoxes(rects, scores[keep].tolist(), MIN_PALM_SCORE, _NMS_IOU), dtype=int
        ).reshape(-1)
        # Back from the square to the frame: undo the letterbox.
        return [
            Palm(
                round(float(scores[keep[i]]), 3),
                (float(x[i]) * side - left) / width,
                (float(y[i]) * side - top) / height,
                float(size[i]) * side / width,
            )
            for i in chosen
        ]


@dataclass(frozen=True)
class HandsSeen:
    frames_with_hands: int
    samples: int
    gesturing: bool  # a palm moved between two sampled frames
    on_upright_body: bool = False  # a palm inside a person's box taller than wide

    @property
    def in_view(self) -> bool:
        """Palms in at least two sampled frames (one alone may be a false detection)."""
        return self.frames_with_hands >= min(2, self.samples)


def hands_seen(palms: list[list[Palm]], bodies: list[list[Detection]] | None = None) -> HandsSeen:
    """From the palms of each sampled frame, in order, and the people detected there."""
    travels = []
    for before, after in itertools.pairwise(palms):
        if before and after:
            # Each palm after to the nearest palm before: how far the hands went.
            travels.append(
                max(min(math.dist((a.x, a.y), (b.x, b.y)) for b in before) for a in after)
            )
    return HandsSeen(
        frames_with_hands=sum(bool(found) for found in palms),
        samples=len(palms),
        gesturing=any(travel >= _GESTURE_TRAVEL for travel in travels),
        on_upright_body=any(
            body.height >= body.width
            and body.x <= palm.x <= body.x + body.width
            and body.y <= palm.y <= body.y + body.height
            for found, people in zip(palms, bodies or [[] for _ in palms], strict=True)
            for palm in found
            for body in people
        ),
    )


HAND_DETECTORS: Registry[Callable[[], HandDetector]] = Registry("hand detector", "--hand-detector")
HAND_DETECTORS.add("mediapipe-palm", "MediaPipe palm detector (shipped weights)", PalmDetector)
HAND_DETECTORS.add("none", "no hand detector", NoHandDetector)
DEFAULT_HAND_DETECTOR = "mediapipe-palm"
