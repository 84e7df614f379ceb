"""Bit error rate models, chosen by name (eq. 8-9 and textbook references)."""

from __future__ import annotations

import math
from collections.abc import Callable

from channel_sim.snr import db_to_linear


def ber_mirage(snr: float) -> float:
    """The paper's BER, eq. 8-9: Eb/N0 = SNR / eta with eta = log2(1 + SNR), so
    BER = 0.5 erfc( sqrt( SNR / log2(1 + SNR) ) ).

    ``snr`` is linear. At -10 dB this gives 0.114, at +10 dB 0.0081 (not textbook BPSK).
    """
    if snr <= 0:
        raise ValueError(f"snr must be positive, got {snr!r}")
    spectral_efficiency = math.log2(1.0 + snr)
    return 0.5 * math.erfc(math.sqrt(snr / spectral_efficiency))


def ber_bpsk(snr: float) -> float:
    """Uncoded BPSK over AWGN with Eb/N0 = SNR (one bit per symbol): 0.5 erfc(sqrt(Eb/N0))."""
    if snr < 0:
        raise ValueError(f"snr must be non-negative, got {snr!r}")
    return 0.5 * math.erfc(math.sqrt(snr))


BER_MODELS: dict[str, Callable[[float], float]] = {
    "mirage": ber_mirage,
    "bpsk": ber_bpsk,
}


def bit_error_rate(snr_db: float, model: str = "mirage") -> float:
    """BER at ``snr_db`` under the named model (see ``BER_MODELS``)."""
    try:
        ber_of_snr = BER_MODELS[model]
    except KeyError:
        raise ValueError(f"model must be one of {sorted(BER_MODELS)}, got {model!r}") from None
    return ber_of_snr(db_to_linear(snr_db))
