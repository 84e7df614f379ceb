"""Symbol-level simulation: modulate bits, add complex Gaussian noise, hard-decide, count errors.

Constellations have unit average symbol energy (Es = 1), so the noise for a given SNR is
CN(0, 1 / SNR): each of I and Q carries variance 1 / (2 SNR) (eq. 5-6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from channel_sim.snr_units import check_finite, db_to_linear

Bits = npt.NDArray[np.uint8]
Symbols = npt.NDArray[np.complex128]

# Gray 4-PAM per axis for 16-QAM: bit pair (b0 b1) -> level; b0 is the sign bit.
_PAM4_LEVELS = np.array([-3.0, -1.0, 3.0, 1.0])  # index b0*2 + b1: 00->-3, 01->-1, 10->3, 11->1
_QAM16_SCALE = 1.0 / np.sqrt(10.0)


def add_awgn(symbols: Symbols, snr_db: float, rng: np.random.Generator) -> Symbols:
    """y = s + n with n ~ CN(0, sigma^2), sigma^2 = Es / SNR and Es = 1 (eq. 5).

    ``snr_db`` may be a scalar or an array that broadcasts against ``symbols``.
    """
    snr = np.power(10.0, np.asarray(snr_db, dtype=np.float64) / 10.0)
    if not np.all(np.isfinite(snr)):
        raise ValueError(f"snr_db must be finite, got {snr_db!r}")
    scale = np.sqrt(1.0 / (2.0 * snr))
    noise = rng.standard_normal(symbols.shape) + 1j * rng.standard_normal(symbols.shape)
    return np.asarray(symbols + scale * noise, dtype=np.complex128)


class Modem(Protocol):
    """One constellation: ``bits_per_symbol``, ``modulate`` bits -> symbols, ``demodulate``
    noisy symbols -> hard bits."""

    @property
    def bits_per_symbol(self) -> int: ...

    def modulate(self, bits: Bits) -> Symbols: ...

    def demodulate(self, received: Symbols) -> Bits: ...


def _groups(bits: Bits, size: int) -> npt.NDArray[np.int64]:
    return np.asarray(bits, dtype=np.int64).reshape(-1, size)


@dataclass(frozen=True)
class Bpsk:
    bits_per_symbol: int = 1

    def modulate(self, bits: Bits) -> Symbols:
        return (1.0 - 2.0 * _groups(bits, 1)[:, 0]).astype(np.complex128)

    def demodulate(self, received: Symbols) -> Bits:
        return (received.real < 0).astype(np.uint8)


@dataclass(frozen=True)
class Qpsk:
    bits_per_symbol: int = 2

    def modulate(self, bits: Bits) -> Symbols:
        b = _groups(bits, 2)
        symbols = ((1.0 - 2.0 * b[:, 0]) + 1j * (1.0 - 2.0 * b[:, 1])) / np.sqrt(2.0)
        return np.asarray(symbols, dtype=np.complex128)

    def demodulate(self, received: Symbols) -> Bits:
        return np.stack([received.real < 0, received.imag < 0], axis=1).astype(np.uint8).ravel()


@dataclass(frozen=True)
class Qam16:
    """Gray-coded 16-QAM: a 4-PAM per axis, the sign bit first."""

    bits_per_symbol: int = 4

    def modulate(self, bits: Bits) -> Symbols:
        b = _groups(bits, 4)
        i = _PAM4_LEVELS[b[:, 0] * 2 + b[:, 1]]
        q = _PAM4_LEVELS[b[:, 2] * 2 + b[:, 3]]
        return np.asarray((i + 1j * q) * _QAM16_SCALE, dtype=np.complex128)

    def demodulate(self, received: Symbols) -> Bits:
        scaled = received / _QAM16_SCALE
        columns = []
        for axis in (scaled.real, scaled.imag):
            columns += [axis > 0, np.abs(axis) < 2.0]  # sign bit, then inner/outer bit
        return np.stack(columns, axis=1).astype(np.uint8).ravel()


MODEMS: dict[str, Modem] = {"bpsk": Bpsk(), "qpsk": Qpsk(), "16qam": Qam16()}


@dataclass(frozen=True)
class BerMeasurement:
    modulation: str
    snr_db: float
    bits: int
    errors: int

    @property
    def ber(self) -> float:
        return self.errors / self.bits if self.bits else float("nan")


def simulate_ber(
    modulation: str,
    snr_db: float,
    rng: np.random.Generator,
    max_bits: int = 2_000_000,
    target_errors: int = 2_000,
    batch_bits: int = 200_000,
) -> BerMeasurement:
    """Monte-Carlo BER: random bits through modulate -> AWGN -> hard decision, in batches, until
    ``target_errors`` errors or ``max_bits`` bits (whichever first)."""
    try:
        modem = MODEMS[modulation]
    except KeyError:
        raise ValueError(
            f"modulation must be one of {sorted(MODEMS)}, got {modulation!r}"
        ) from None
    db_to_linear(check_finite("snr_db", snr_db))
    batch = max(modem.bits_per_symbol, batch_bits - batch_bits % modem.bits_per_symbol)
    bits_done = errors = 0
    while bits_done < max_bits and errors < target_errors:
        bits = rng.integers(0, 2, size=batch, dtype=np.uint8)
        decided = modem.demodulate(add_awgn(modem.modulate(bits), snr_db, rng))
        errors += int(np.count_nonzero(decided != bits))
        bits_done += batch
    return BerMeasurement(modulation, snr_db, bits_done, errors)
