"""Pixel fidelity against the source (scikit-image's implementations): MSE, PSNR, SSIM."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from skimage.metrics import mean_squared_error, structural_similarity


def _check(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> None:
    if reference.shape != test.shape:
        raise ValueError(f"shapes differ: {reference.shape} vs {test.shape}")


def mse(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """Mean squared error over all samples, on the 0..255 scale."""
    _check(reference, test)
    return float(mean_squared_error(reference, test))


def psnr_db(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """10 log10(255^2 / MSE) over the whole stack; infinite for identical inputs."""
    error = mse(reference, test)
    # skimage's peak_signal_noise_ratio is this formula; it warns on identical inputs.
    return math.inf if error == 0 else 10.0 * math.log10(255.0**2 / error)


def ssim(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """Mean structural similarity of RGB frames (one frame or a stack)."""
    _check(reference, test)
    frames_a = reference if reference.ndim == 4 else reference[None]
    frames_b = test if test.ndim == 4 else test[None]
    scores = [
        structural_similarity(a, b, channel_axis=2, data_range=255)  # type: ignore[no-untyped-call]
        for a, b in zip(frames_a, frames_b, strict=True)
    ]
    return float(np.mean(scores))


def sharpness_ratio(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """How much fine detail ``test`` keeps: the variance of its luma Laplacian over the
    reference's (1 = as sharp as the source, below 1 blurrier, above 1 sharper or noisier).
    Beside PSNR it shows a codec that trades fidelity for crisp edges, or the reverse."""
    _check(reference, test)
    from mirage_stream.sender.appearance import sharpness

    base = sharpness(reference)
    return sharpness(test) / base if base > 0 else math.nan


def held_keyframes(
    keyframes: Sequence[tuple[int, npt.NDArray[np.uint8]]], count: int
) -> npt.NDArray[np.uint8]:
    """The hold-the-keyframe baseline: ``count`` frames, each the nearest of ``keyframes``
    ((frame index, image), all one size) in time, the earlier one on a tie. It is what a
    receiver shows with no generator at all; a generator that scores below it on a clip made
    that clip worse than doing nothing."""
    if not keyframes:
        raise ValueError("the hold baseline needs at least one keyframe")
    anchors = sorted(keyframes, key=lambda pair: pair[0])
    indices = np.array([index for index, _ in anchors])
    images = np.stack([image for _, image in anchors])
    nearest = np.argmin(np.abs(np.arange(count)[:, None] - indices[None, :]), axis=1)
    return np.asarray(images[nearest], np.uint8)
