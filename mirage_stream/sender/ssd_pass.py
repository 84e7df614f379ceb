"""One run of the shipped SSD-MobileNetV2 per frame, shared by the object detector (its boxes
and class scores) and the indoor / outdoor probe (its backbone's last feature map): the probe
looks at frames the detector has just run on, and running the network twice on a frame cost a
fifth of the sender's time on a 640x480 call.

The run keeps its intermediate tensors (the backbone's output is otherwise overwritten by later
layers); the last few frames' outputs are kept per thread, keyed by the network's input.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.sender.shipped_model import ShippedModel
from mirage_stream.types import FrameArray

MODEL_FILE = "ssd_mobilenetv2_oidv4_fp16.tflite"
MODEL_SHA256 = "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6"
INPUT = 300
FEATURE_TENSOR = "FeatureExtractor/MobilenetV2/Conv_1/Relu6"
_KEPT_FRAMES = 8  # a segment's sampled frames (at most six) and a little more

_PER_THREAD = threading.local()


@dataclass(frozen=True)
class SsdOutputs:
    boxes: npt.NDArray[np.float32]  # 1917 x 4 box-coder offsets
    logits: npt.NDArray[np.float32]  # 1917 x classes
    embedding: npt.NDArray[np.float32]  # the backbone's last feature map averaged: 1280


def network_input(frame: FrameArray) -> npt.NDArray[np.float32]:
    """The frame as the network takes it: 300x300, RGB scaled to [-1, 1]."""
    image = cv2.resize(frame, (INPUT, INPUT), interpolation=cv2.INTER_AREA)
    return np.asarray(image.astype(np.float32) / 127.5 - 1.0, np.float32)


class SsdPass:
    """The SSD on an interpreter that keeps its tensors, one per thread, memoised per frame."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            # LiteRT warns that keeping tensors is meant for debugging: it costs memory (tens
            # of MB for this network) and about a tenth more time, both measured.
            warnings.simplefilter("ignore", UserWarning)
            self._model = ShippedModel(MODEL_FILE, MODEL_SHA256, keep_tensors=True)

    def _interpreter(self) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return self._model.interpreter()

    def run(self, frame: FrameArray) -> SsdOutputs:
        tensor = network_input(frame)
        key = hashlib.blake2b(tensor.tobytes(), digest_size=16).digest()
        kept: OrderedDict[bytes, SsdOutputs] = _PER_THREAD.__dict__.setdefault(
            "kept", OrderedDict()
        )
        if (found := kept.get(key)) is not None:
            kept.move_to_end(key)
            return found
        interpreter = self._interpreter()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor[None])
        interpreter.invoke()
        outputs = {
            o["name"]: interpreter.get_tensor(o["index"]) for o in interpreter.get_output_details()
        }
        features = interpreter.get_tensor(_feature_index(interpreter))[0]
        result = SsdOutputs(
            boxes=np.asarray(next(v for k, v in outputs.items() if "box" in k)[0], np.float32),
            logits=np.asarray(next(v for k, v in outputs.items() if "class" in k)[0], np.float32),
            embedding=np.asarray(features.mean(axis=(0, 1)), np.float32),
        )
        kept[key] = result
        while len(kept) > _KEPT_FRAMES:
            kept.popitem(last=False)
        return result


def _feature_index(interpreter: Any) -> int:
    """Where the backbone's output lies: a look-up over hundreds of tensors, done once per
    interpreter."""
    known: dict[int, int] = _PER_THREAD.__dict__.setdefault("feature_index", {})
    if id(interpreter) not in known:
        known[id(interpreter)] = next(
            t["index"]
            for t in interpreter.get_tensor_details()
            if t["name"].startswith(FEATURE_TENSOR) and len(t["shape"]) == 4
        )
    return known[id(interpreter)]
