"""The semantic link at the bit level (eq. 5-9, 15): a protected path and a best-effort path.

Bytes of a payload inside ``exposed_spans`` (keyframe symbols) go best-effort: packets through
the packet layer's loss process, bits flipped at the model's BER, optionally with light FEC
(a little Reed-Solomon parity that repairs the few errors of a good channel and is charged to
time on air). All other bytes (header,
caption, hints, framing) go through the reliable chain of ``channel_sim.reliable`` with ARQ;
if every try fails, the payload is not delivered. Time on air covers every bit sent, protection
and retries included, at the eq. 7 rate, plus a fixed overhead per try.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from creedsolo import ReedSolomonError, RSCodec

from channel_sim.arq import send_reliably
from channel_sim.ber import BER_MODELS, bit_error_rate
from channel_sim.capacity import shannon_throughput_bps
from channel_sim.packets import PacketConfig, reassemble, send_packets
from channel_sim.snr_units import check_finite


@dataclass(frozen=True)
class Transmission:
    """The outcome of sending one payload: what arrived and what it cost."""

    received: bytes | None  # None: the protected part was lost after every try
    snr_db: float
    ber: float
    bits_sent: int  # payload bits (before protection)
    bits_exposed: int  # best-effort payload bits
    protected_channel_bits: int  # protected part on air, coding and retries included
    exposed_channel_bits: int  # best-effort part on air, light FEC and packet headers included
    tries: int
    residual_block_error: float  # predicted probability that every try fails
    bit_errors: int  # flips on the best-effort bits as delivered
    exposed_error_bits: tuple[tuple[int, ...], ...]  # per span, bit offsets that flipped
    packets_sent: int
    packets_lost: int
    time_on_air_s: float

    @property
    def delivered(self) -> bool:
        return self.received is not None


@dataclass(frozen=True)
class AwgnBitChannel:
    """Stateless link seen through a BER model; the SNR is a call argument (one object serves a
    whole SNR process)."""

    bandwidth_hz: float = 20e6
    ber_model: str = "mirage"
    per_payload_overhead_s: float = 0.0
    max_tries: int = 8
    packets: PacketConfig = field(default_factory=lambda: PacketConfig(header_bytes=0))
    keyframe_fec_parity: int = 0  # light FEC: RS parity bytes per 255-byte block of a span

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
        if self.max_tries < 1:
            raise ValueError(f"max_tries must be at least 1, got {self.max_tries}")
        _check_parity(self.keyframe_fec_parity)

    def send(
        self,
        data: bytes,
        snr_db: float,
        rng: np.random.Generator,
        exposed_spans: Sequence[tuple[int, int]] = (),
        keyframe_fec_parity: int | None = None,
    ) -> Transmission:
        """Send ``data``; ``keyframe_fec_parity`` overrides the channel's light FEC for this
        payload (the sender's rate adapter picks it per segment)."""
        snr_db = check_finite("snr_db", snr_db)
        parity = self.keyframe_fec_parity if keyframe_fec_parity is None else keyframe_fec_parity
        _check_parity(parity)
        if not data:
            raise ValueError("data must not be empty")
        spans = sorted(exposed_spans)
        for offset, length in spans:
            if offset < 0 or length < 0 or offset + length > len(data):
                raise ValueError(f"span ({offset}, {length}) lies outside {len(data)} bytes")
        ber = bit_error_rate(snr_db, self.ber_model)
        rate = shannon_throughput_bps(self.bandwidth_hz, snr_db)

        protected = _outside(data, spans)
        delivery = send_reliably(protected, ber, rng, self.max_tries) if protected else None
        tries = delivery.tries if delivery else 1

        received = bytearray(data)
        errors_per_span: list[tuple[int, ...]] = []
        packets_sent = packets_lost = best_effort_bits = 0
        for offset, length in spans:
            span = data[offset : offset + length]
            coded = protect_light(span, parity)
            outcomes = send_packets(coded, ber, rate, rng, self.packets)
            arrived_coded, lost = reassemble(outcomes, len(coded))
            arrived = recover_light(arrived_coded, length, parity)
            packets_sent += len(outcomes)
            packets_lost += len(lost)
            best_effort_bits += 8 * (len(coded) + self.packets.header_bytes * len(outcomes))
            received[offset : offset + length] = arrived
            flipped = np.unpackbits(
                np.frombuffer(span, np.uint8) ^ np.frombuffer(arrived, np.uint8)
            )
            errors_per_span.append(tuple(int(bit) for bit in np.flatnonzero(flipped)))
        protected_bits = delivery.channel_bits if delivery else 0
        on_air = (protected_bits + best_effort_bits) / rate + tries * self.per_payload_overhead_s
        return Transmission(
            received=None if delivery is not None and delivery.block is None else bytes(received),
            snr_db=snr_db,
            ber=ber,
            bits_sent=8 * len(data),
            bits_exposed=8 * sum(length for _, length in spans),
            protected_channel_bits=protected_bits,
            exposed_channel_bits=best_effort_bits,
            tries=tries,
            residual_block_error=delivery.plan.residual_failure if delivery else 0.0,
            bit_errors=sum(len(bits) for bits in errors_per_span),
            exposed_error_bits=tuple(errors_per_span),
            packets_sent=packets_sent,
            packets_lost=packets_lost,
            time_on_air_s=on_air,
        )


def _check_parity(parity: int) -> None:
    if not 0 <= parity <= 64 or parity % 2:
        raise ValueError(f"keyframe_fec_parity must be even and in [0, 64], got {parity}")


def protect_light(span: bytes, parity: int) -> bytes:
    """Keyframe light FEC: systematic RS over 255-byte blocks (reedsolo chunks long spans)."""
    if parity == 0 or not span:
        return span
    return bytes(RSCodec(parity, nsize=255).encode(bytearray(span)))


def recover_light(received: bytes, length: int, parity: int) -> bytes:
    """Corrected span when RS decoding succeeds; else its systematic bytes as they arrived,
    damage and all (best effort never withholds data)."""
    if parity == 0 or length == 0:
        return received[:length]
    try:
        message, _, _ = RSCodec(parity, nsize=255).decode(bytearray(received))
        return bytes(message)
    except ReedSolomonError:
        chunks = [received[i : i + 255] for i in range(0, len(received), 255)]
        return b"".join(chunk[:-parity] for chunk in chunks)[:length]


def _outside(data: bytes, spans: Sequence[tuple[int, int]]) -> bytes:
    """The bytes of ``data`` not covered by the (sorted, disjoint) spans, in order."""
    pieces, cursor = [], 0
    for offset, length in spans:
        pieces.append(data[cursor:offset])
        cursor = offset + length
    pieces.append(data[cursor:])
    return b"".join(pieces)
