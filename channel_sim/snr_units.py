"""SNR units (eq. 6: SNR = P_S / sigma^2)."""

from __future__ import annotations

import math


def check_finite(name: str, value: float) -> float:
    """``value`` as float; ValueError naming the field when it is NaN or infinite."""
    number: float = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def db_to_linear(snr_db: float) -> float:
    """10^(snr_db / 10)."""
    return float(10.0 ** (check_finite("snr_db", snr_db) / 10.0))


def linear_to_db(snr: float) -> float:
    """10 log10(snr); snr must be positive."""
    snr = check_finite("snr", snr)
    if snr <= 0:
        raise ValueError(f"snr must be positive to express in dB, got {snr!r}")
    return 10.0 * math.log10(snr)
