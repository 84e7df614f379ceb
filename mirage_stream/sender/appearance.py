"""What a frame looks like, as numbers: light, sharpness, exposure, sky, greenery, vivid colour,
sensor noise, and a small thumbnail to compare frames by."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.sender.colours import small_hsv
from mirage_stream.types import FrameArray


def mean_brightness(frames: npt.NDArray[np.uint8]) -> float:
    """Mean Rec.601 luma over the segment, in [0, 1]."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return float((frames[:, ::4, ::4].astype(np.float32) @ weights).mean() / 255.0)


def sharpness(frame: FrameArray) -> float:
    """Variance of the Laplacian of the grey image: high for crisp frames, low for blurred ones."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def sky_share(frame: FrameArray) -> float:
    """Share of the top third that looks like sky: blue, or colourless and bright (overcast),
    smooth, and clearly brighter than the lower half (a white wall or table fills both)."""
    hsv = small_hsv(frame).astype(np.int32)
    top = hsv[:20]
    hue, sat, val = top[..., 0], top[..., 1], top[..., 2]
    blue = (hue >= 90) & (hue <= 130) & (sat > 40) & (val > 140)
    overcast = (sat < 30) & (val > 185)
    gray = cv2.cvtColor(
        cv2.resize(frame, (80, 60), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY
    )
    smooth = np.abs(cv2.Laplacian(gray, cv2.CV_32F))[:20] < 6
    sky = (blue | overcast) & smooth
    if not sky.any() or float(val[sky].mean()) - float(hsv[30:, :, 2].mean()) < 40:
        return 0.0
    return float(sky.mean())


def vegetation_share(frame: FrameArray) -> float:
    """Share of the frame in saturated greens (grass, trees)."""
    hsv = small_hsv(frame).astype(np.int32)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return float(((hue >= 30) & (hue <= 85) & (sat > 70) & (val > 50)).mean())


def vivid_share(frame: FrameArray) -> float:
    """Share of strongly saturated, well-lit pixels: high in animation, low in most footage."""
    hsv = small_hsv(frame)
    return float(((hsv[..., 1] > 128) & (hsv[..., 2] > 100)).mean())


def flat_area_noise(frames: npt.NDArray[np.uint8]) -> float:
    """Frame-to-frame grey-level change in the smoothest 30% of the image (median over a few
    pairs): sensor noise and compression grain in camera footage, near zero in renders."""
    values = []
    for start in np.unique(np.linspace(0, frames.shape[0] - 2, num=3).round().astype(int)):
        if start + 1 >= frames.shape[0]:
            break
        a = cv2.cvtColor(frames[start], cv2.COLOR_RGB2GRAY).astype(np.float32)
        b = cv2.cvtColor(frames[start + 1], cv2.COLOR_RGB2GRAY).astype(np.float32)
        gradient = np.hypot(cv2.Sobel(a, cv2.CV_32F, 1, 0), cv2.Sobel(a, cv2.CV_32F, 0, 1))
        smooth = gradient <= np.percentile(gradient, 30)
        # Clipped so that a subject moving through a flat area does not pass for noise.
        values.append(float(np.minimum(np.abs(b - a)[smooth], 8.0).mean()))
    return float(np.median(values)) if values else 0.0


def exposure(frame: FrameArray) -> float:
    """1 for a well-exposed frame, down to 0 for a black or white one: penalises clipped pixels
    and a mean far from mid-grey."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[::2, ::2]
    clipped = float(((gray < 8) | (gray > 247)).mean())
    offset = abs(float(gray.mean()) / 255.0 - 0.5) * 2.0
    return max(0.0, 1.0 - clipped - 0.5 * offset)


def thumbnail(frame: FrameArray) -> npt.NDArray[np.float32]:
    """A 16x12 CIE Lab thumbnail, flattened: frames that look alike are close in it."""
    small = cv2.resize(frame, (16, 12), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2LAB), dtype=np.float32).ravel()
