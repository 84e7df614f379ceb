"""Measurements of a segment that the offline captioner turns into words.

Each function measures one thing with OpenCV and returns numbers, not prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.types import FrameArray, MotionHints

# Flow is measured at this width: enough for global motion, cheap on two cores.
_FLOW_WIDTH = 160
_FLOW_PAIRS = 4


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    width: int
    height: int


@cache
def _face_cascade() -> cv2.CascadeClassifier:
    path = str(cv2.data.haarcascades) + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV face cascade missing at {path}")
    return cascade


def detect_faces(frame: FrameArray) -> list[FaceBox]:
    """Frontal faces found by OpenCV's Haar cascade, largest first."""
    gray = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
    min_side = max(20, min(gray.shape) // 10)
    boxes = _face_cascade().detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
    )
    faces = [FaceBox(int(x), int(y), int(w), int(h)) for x, y, w, h in boxes]
    return sorted(faces, key=lambda box: box.width * box.height, reverse=True)


def _gray_small(frame: FrameArray) -> npt.NDArray[np.uint8]:
    scale = _FLOW_WIDTH / frame.shape[1]
    size = (_FLOW_WIDTH, max(8, round(frame.shape[0] * scale)))
    gray = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
    return np.asarray(gray, dtype=np.uint8)


def measure_motion(frames: npt.NDArray[np.uint8]) -> MotionHints:
    """Global motion (translation + zoom) and residual local activity from dense optical flow.

    Farneback flow on a few consecutive frame pairs spread over the segment; a least-squares fit
    of u = dx + z (x - cx), v = dy + z (y - cy) gives translation and zoom per frame; the mean
    magnitude of what the fit leaves is local activity. Values are per frame at full resolution.
    """
    count = frames.shape[0]
    if count < 2:
        return MotionHints()
    starts = np.unique(
        np.linspace(0, count - 2, num=min(_FLOW_PAIRS, count - 1)).round().astype(int)
    )
    scale = frames.shape[2] / _FLOW_WIDTH
    estimates = []
    for start in starts:
        before, after = _gray_small(frames[start]), _gray_small(frames[start + 1])
        flow = np.asarray(
            cv2.calcOpticalFlowFarneback(before, after, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]
        )
        height, width = before.shape
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        xc, yc = xs - (width - 1) / 2, ys - (height - 1) / 2
        u, v = flow[..., 0], flow[..., 1]
        dx, dy = float(np.median(u)), float(np.median(v))
        radial = float(np.sum(xc * xc + yc * yc))
        zoom = float(np.sum(xc * (u - dx) + yc * (v - dy)) / radial)
        residual = np.hypot(u - dx - zoom * xc, v - dy - zoom * yc)
        estimates.append((dx, dy, zoom, float(residual.mean())))
    dx, dy, zoom, activity = np.median(np.array(estimates), axis=0)
    return MotionHints(
        dx=float(dx * scale),
        dy=float(dy * scale),
        zoom=float(zoom),
        activity=float(activity * scale),
    )


def mean_brightness(frames: npt.NDArray[np.uint8]) -> float:
    """Mean Rec.601 luma over the segment, in [0, 1]."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return float((frames[:, ::4, ::4].astype(np.float32) @ weights).mean() / 255.0)


# A small palette for naming colours; matched in CIE Lab, where distance follows perception.
_PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20),
    "dark grey": (70, 70, 70),
    "grey": (128, 128, 128),
    "light grey": (190, 190, 190),
    "white": (240, 240, 240),
    "red": (200, 30, 30),
    "dark red": (110, 20, 20),
    "orange": (235, 130, 30),
    "brown": (120, 75, 40),
    "beige": (215, 195, 160),
    "yellow": (230, 210, 40),
    "olive": (120, 120, 40),
    "green": (50, 150, 50),
    "dark green": (25, 70, 30),
    "teal": (30, 128, 128),
    "sky blue": (120, 170, 230),
    "blue": (40, 70, 190),
    "navy": (20, 30, 90),
    "purple": (120, 50, 140),
    "pink": (230, 140, 170),
    "skin tone": (210, 160, 130),
}


@cache
def _palette_lab() -> tuple[tuple[str, ...], npt.NDArray[np.float32]]:
    names = tuple(_PALETTE)
    rgb = np.array([[_PALETTE[name] for name in names]], dtype=np.uint8)
    return names, cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[0].astype(np.float32)


def dominant_colours(frame: FrameArray, count: int = 3) -> list[tuple[str, float]]:
    """Names of the ``count`` largest colour clusters (k-means in Lab) with their area shares."""
    small = cv2.resize(frame, (40, 30), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(0)  # k-means++ seeding: fixed so that captions are deterministic
    _, labels, centres = cv2.kmeans(  # type: ignore[call-overload]
        lab, count, None, criteria, 2, cv2.KMEANS_PP_CENTERS
    )
    shares = np.bincount(labels.ravel(), minlength=count) / labels.size
    names, palette = _palette_lab()
    named: dict[str, float] = {}
    for cluster in np.argsort(-shares):
        distances = np.linalg.norm(palette - centres[cluster], axis=1)
        name = names[int(np.argmin(distances))]
        named[name] = named.get(name, 0.0) + float(shares[cluster])
    return sorted(named.items(), key=lambda item: -item[1])


def sharpness(frame: FrameArray) -> float:
    """Variance of the Laplacian of the grey image: high for crisp frames, low for blurred ones."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())
