"""Bit error rate models, chosen by name (eq. 8-9 and textbook closed forms).

Every model takes the SNR as Es/N0 per symbol (eq. 6, P_S / sigma^2 with complex noise
CN(0, sigma^2)). ``mirage`` is the paper's eq. 9 and is not a physical modulation; ``bpsk``,
``qpsk`` and ``16qam`` are exact Gray-coded hard-decision BERs over AWGN, which the symbol-level
simulator in ``channel_sim.modem`` reproduces.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from channel_sim.snr_units import check_finite, db_to_linear


def q_function(x: float) -> float:
    """Gaussian tail probability Q(x) = P(N(0, 1) > x) = 0.5 erfc(x / sqrt(2))."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def _check_snr(snr: float) -> float:
    snr = check_finite("snr", snr)
    if snr < 0:
        raise ValueError(f"snr must be non-negative (linear), got {snr!r}")
    return snr


def ber_mirage(snr: float) -> float:
    """The paper's BER, eq. 8-9: Eb/N0 = SNR / eta with eta = log2(1 + SNR), so
    BER = 0.5 erfc( sqrt( SNR / log2(1 + SNR) ) ).

    ``snr`` is linear. At -10 dB this gives 0.114, at +10 dB 0.0081 (not textbook BPSK).
    """
    snr = _check_snr(snr)
    if snr == 0:
        return 0.5
    spectral_efficiency = math.log2(1.0 + snr)
    return 0.5 * math.erfc(math.sqrt(snr / spectral_efficiency))


def ber_bpsk(snr: float) -> float:
    """Uncoded BPSK, one bit per symbol so Eb/N0 = SNR: 0.5 erfc(sqrt(SNR)) = Q(sqrt(2 SNR))."""
    return 0.5 * math.erfc(math.sqrt(_check_snr(snr)))


def ber_qpsk(snr: float) -> float:
    """Gray-coded QPSK, two bits per symbol so Eb/N0 = SNR / 2: Q(sqrt(SNR))."""
    return q_function(math.sqrt(_check_snr(snr)))


def ber_16qam(snr: float) -> float:
    """Gray-coded square 16-QAM with hard decisions, exact (not the nearest-neighbour bound).

    Per axis it is Gray 4-PAM at levels +-1, +-3 (Es = 10), noise std s = sqrt(5 / SNR):
    BER = [3 Q(1/s) + 2 Q(3/s) - Q(5/s)] / 4.
    """
    snr = _check_snr(snr)
    a = math.sqrt(snr / 5.0)
    return (3 * q_function(a) + 2 * q_function(3 * a) - q_function(5 * a)) / 4.0


BER_MODELS: dict[str, Callable[[float], float]] = {
    "mirage": ber_mirage,
    "bpsk": ber_bpsk,
    "qpsk": ber_qpsk,
    "16qam": ber_16qam,
}


def bit_error_rate(snr_db: float, model: str = "mirage") -> float:
    """BER at ``snr_db`` under the named model (see ``BER_MODELS``)."""
    try:
        ber_of_snr = BER_MODELS[model]
    except KeyError:
        raise ValueError(f"model must be one of {sorted(BER_MODELS)}, got {model!r}") from None
    return ber_of_snr(db_to_linear(snr_db))
