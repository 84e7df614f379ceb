"""OpenCV's detectors: frontal faces (Haar cascade) and people (HOG), one of each per thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import cv2

from mirage_stream.types import FrameArray


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels."""

    x: int
    y: int
    width: int
    height: int


T = TypeVar("T")


def _one_per_thread(factory: Callable[[], T]) -> Callable[[], T]:
    """``factory()`` made once per thread. OpenCV's detectors keep scratch state inside the
    object, so one shared by two threads (the sender's analysis and the player's face check
    run at once) corrupts memory and crashes; loading one per thread is cheap."""
    local = threading.local()

    def get() -> T:
        made: T | None = getattr(local, "made", None)
        if made is None:
            made = factory()
            local.made = made
        return made

    return get


@_one_per_thread
def _face_cascade() -> cv2.CascadeClassifier:
    path = str(cv2.data.haarcascades) + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV face cascade missing at {path}")
    return cascade


def detect_faces(frame: FrameArray, work_width: int = 200) -> list[Box]:
    """Frontal faces found by OpenCV's Haar cascade, largest first, in ``frame``'s pixels.

    The cascade runs on a copy ``work_width`` pixels wide (faces under about 30 pixels at
    320x240 are missed): it costs a quarter of the full-size search on two cores.
    """
    scale = min(1.0, work_width / frame.shape[1])
    size = (max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale)))
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA) if scale < 1 else frame
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    min_side = max(20, min(gray.shape) // 10)
    boxes = _face_cascade().detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
    )
    faces = [
        Box(round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        for x, y, w, h in boxes
    ]
    return sorted(faces, key=lambda box: box.width * box.height, reverse=True)


@_one_per_thread
def people_detector() -> cv2.HOGDescriptor:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())  # type: ignore[attr-defined]
    return hog
