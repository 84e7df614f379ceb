"""Hands in view, from MediaPipe's palm detector and hand landmark model (``models/README.md``:
source, licence, checksum) under the LiteRT interpreter: where hands are in the sampled frames,
and whether they move between them (a gesture, signing) or rest.

A palm box alone is not a hand: on talking heads the palm detector fires on long dark hair,
earrings and the face itself. The default detector keeps a palm only where the landmark model,
run on the hand's crop as MediaPipe's own pipeline does, says a hand is there.
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
LANDMARK_MODEL_FILE = "hand_landmark_lite.tflite"
LANDMARK_MODEL_SHA256 = "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6"
_LANDMARK_INPUT = 224
# The landmark model's hand-presence output (a probability). On the tune sources (see
# tools/hand_scores.py) true hands score 0.94-0.99 and the palms found on a talking head's
# long hair under 0.05; the middle is the model's own decision point.
MIN_HAND_PRESENCE = 0.5
# MediaPipe's palm-to-hand crop: the palm box moved half its size towards the fingers and
# widened 2.6 times, turned so that the fingers point up.
_HAND_SHIFT, _HAND_SCALE = 0.5, 2.6
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
    # The wrist and the middle finger's knuckle, fractions of the frame: which way the hand
    # points (None where not measured).
    wrist: tuple[float, float] | None = None
    knuckle: tuple[float, float] | None = None


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

    @property
    def frames_needed(self) -> int:
        """Sampled frames with a hand before hands are said to be in view: two for a detector
        whose single finds may be false, one where a second model confirms each."""
        ...

    def detect(self, frame: FrameArray) -> list[Palm]: ...


class NoHandDetector:
    """Finds no hands: no hands claim rests on it."""

    name = "none"
    frames_needed = 2

    def detect(self, frame: FrameArray) -> list[Palm]:
        return []


class PalmDetector:
    """MediaPipe's palm detector; one LiteRT interpreter per thread (it keeps its tensors
    inside)."""

    name = "mediapipe-palm"
    frames_needed = 2  # palms on a belt of vegetables, bottles, hair: one frame may be false

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
        # Keypoints 0 (wrist) and 2 (middle knuckle) follow the box, as offsets from the anchor.
        keypoints = [
            (
                regressors[keep, 4 + 2 * k] / _INPUT + self._anchors[keep, 0],
                regressors[keep, 5 + 2 * k] / _INPUT + self._anchors[keep, 1],
            )
            for k in (0, 2)
        ]

        def in_frame(x_in_square: float, y_in_square: float) -> tuple[float, float]:
            return (x_in_square * side - left) / width, (y_in_square * side - top) / height

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
                in_frame(float(keypoints[0][0][i]), float(keypoints[0][1][i])),
                in_frame(float(keypoints[1][0][i]), float(keypoints[1][1][i])),
            )
            for i in chosen
        ]


def hand_crop(frame: FrameArray, palm: Palm, size: int = _LANDMARK_INPUT) -> FrameArray:
    """The ``size`` x ``size`` square around the hand of ``palm``, fingers up (MediaPipe's
    palm-to-hand region), black where it leaves the frame."""
    height, width = frame.shape[:2]
    centre = np.array([palm.x * width, palm.y * height])
    side = palm.size * width
    up = np.array([0.0, -1.0])
    if palm.wrist is not None and palm.knuckle is not None:
        pointing = np.array(
            [
                (palm.knuckle[0] - palm.wrist[0]) * width,
                (palm.knuckle[1] - palm.wrist[1]) * height,
            ]
        )
        if np.linalg.norm(pointing) > 1e-6:
            up = pointing / np.linalg.norm(pointing)
    across = np.array([-up[1], up[0]])
    centre = centre + _HAND_SHIFT * side * up
    side *= _HAND_SCALE
    # Crop pixel (a, b) comes from centre + (a / size - 1/2) side across - (b / size - 1/2) side up.
    to_frame = np.column_stack(
        [across * side / size, -up * side / size, centre - side / 2 * across + side / 2 * up]
    ).astype(np.float64)
    crop = cv2.warpAffine(
        frame, to_frame, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    )
    return np.asarray(crop, np.uint8)


class HandLandmarkConfirmer:
    """MediaPipe's hand landmark model on each palm's hand crop: its hand-presence output."""

    def __init__(self) -> None:
        self._model = ShippedModel(LANDMARK_MODEL_FILE, LANDMARK_MODEL_SHA256)

    def presence(self, frame: FrameArray, palm: Palm) -> float:
        interpreter = self._model.interpreter()
        crop = hand_crop(frame, palm).astype(np.float32) / 255
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], crop[None])
        interpreter.invoke()
        outputs = {o["name"]: o["index"] for o in interpreter.get_output_details()}
        # Outputs: 63 landmark coordinates, hand presence, handedness, 63 world coordinates;
        # this model's presence is already a probability (no sigmoid to apply).
        return float(interpreter.get_tensor(outputs["Identity_1"]).ravel()[0])


class ConfirmedHandDetector:
    """Palms that the hand landmark model confirms as hands (see the module's docstring)."""

    name = "mediapipe-hand"
    # A palm the landmark model confirms is a hand (on the tune half every confirmed palm was
    # a real hand, every false palm scored under 0.1): one sampled frame is enough.
    frames_needed = 1

    def __init__(self) -> None:
        self._palms = PalmDetector()
        self._landmarks = HandLandmarkConfirmer()

    def detect(self, frame: FrameArray) -> list[Palm]:
        return [
            palm
            for palm in self._palms.detect(frame)
            if self._landmarks.presence(frame, palm) >= MIN_HAND_PRESENCE
        ]


@dataclass(frozen=True)
class HandsSeen:
    frames_with_hands: int
    samples: int
    gesturing: bool  # a palm moved between two sampled frames
    on_upright_body: bool = False  # a palm inside a person's box taller than wide
    frames_needed: int = 2  # the detector's ``frames_needed``

    @property
    def in_view(self) -> bool:
        """Hands in enough sampled frames (one palm alone may be a false detection)."""
        return self.frames_with_hands >= max(1, min(self.frames_needed, self.samples))


def hands_seen(
    palms: list[list[Palm]],
    bodies: list[list[Detection]] | None = None,
    frames_needed: int = 2,
) -> HandsSeen:
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
        frames_needed=frames_needed,
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
HAND_DETECTORS.add(
    "mediapipe-hand",
    "MediaPipe palm detector, each palm confirmed by the hand landmark model (shipped weights)",
    ConfirmedHandDetector,
)
HAND_DETECTORS.add(
    "mediapipe-palm", "MediaPipe palm detector alone (shipped weights; cheaper)", PalmDetector
)
HAND_DETECTORS.add("none", "no hand detector", NoHandDetector)
DEFAULT_HAND_DETECTOR = "mediapipe-hand"
