"""An AWGN link at the bit level: BER from a model, flips on the exposed bits, time on air."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from channel_sim.ber import BER_MODELS, bit_error_rate
from channel_sim.capacity import time_on_air_s
from channel_sim.corrupt import flip_bits_in_spans
from channel_sim.snr import check_finite


@dataclass(frozen=True)
class Transmission:
    """The outcome of sending one payload: what arrived and what it cost."""

    received: bytes
    snr_db: float
    ber: float
    bits_sent: int
    bits_exposed: int
    bit_errors: int
    time_on_air_s: float


@dataclass(frozen=True)
class AwgnBitChannel:
    """Stateless AWGN channel seen through a BER model (eq. 5-9).

    The SNR is a call argument, so one channel object serves a whole SNR process. Bytes inside
    ``exposed_spans`` suffer independent bit flips at the model's BER; the rest arrive intact (they
    stand for a protected path whose coding cost is not charged here). Time on air covers every
    bit sent, at the eq. 7 rate, plus ``per_payload_overhead_s``.
    """

    bandwidth_hz: float = 20e6
    ber_model: str = "mirage"
    per_payload_overhead_s: float = 0.0

    def __post_init__(self) -> None:
        bandwidth = check_finite("bandwidth_hz", self.bandwidth_hz)
        if bandwidth <= 0:
            raise ValueError(f"bandwidth_hz must be positive, got {self.bandwidth_hz!r}")
        if self.ber_model not in BER_MODELS:
            raise ValueError(
                f"ber_model must be one of {sorted(BER_MODELS)}, got {self.ber_model!r}"
            )
        overhead = check_finite("per_payload_overhead_s", self.per_payload_overhead_s)
        if overhead < 0:
            raise ValueError(
                f"per_payload_overhead_s must be non-negative, got {self.per_payload_overhead_s!r}"
            )

    def send(
        self,
        data: bytes,
        snr_db: float,
        rng: np.random.Generator,
        exposed_spans: Sequence[tuple[int, int]] | None = None,
    ) -> Transmission:
        snr_db = check_finite("snr_db", snr_db)
        if not data:
            raise ValueError("data must not be empty")
        spans = [(0, len(data))] if exposed_spans is None else list(exposed_spans)
        ber = bit_error_rate(snr_db, self.ber_model)
        received, errors = flip_bits_in_spans(data, spans, ber, rng)
        bits_sent = len(data) * 8
        return Transmission(
            received=received,
            snr_db=snr_db,
            ber=ber,
            bits_sent=bits_sent,
            bits_exposed=sum(length for _, length in spans) * 8,
            bit_errors=errors,
            time_on_air_s=time_on_air_s(
                bits_sent, self.bandwidth_hz, snr_db, self.per_payload_overhead_s
            ),
        )
