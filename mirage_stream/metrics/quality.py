"""Pixel fidelity against the source: MSE and PSNR on 8-bit RGB."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt


def mse(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """Mean squared error over all samples, on the 0..255 scale."""
    if reference.shape != test.shape:
        raise ValueError(f"shapes differ: {reference.shape} vs {test.shape}")
    difference = reference.astype(np.float64) - test.astype(np.float64)
    return float(np.mean(difference * difference))


def psnr_db(reference: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]) -> float:
    """10 log10(255^2 / MSE); infinite for identical inputs."""
    error = mse(reference, test)
    return math.inf if error == 0 else 10.0 * math.log10(255.0**2 / error)
