"""Packet layer: MTU fragmentation, loss, bit errors on payloads, delay and jitter.

A packet is lost when the loss process says so, or when any of its ``ber_loss_bits`` bits
(for example an unprotected, checksummed header) takes an error; a packet that arrives carries
its payload with bit flips at the channel's BER. Arrival time is serialisation at the link rate
(packets leave one after another) plus a fixed delay plus exponential jitter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from channel_sim.corrupt import flip_bits
from channel_sim.snr_units import check_finite


@dataclass(frozen=True)
class PacketConfig:
    mtu_bytes: int = 1200  # payload bytes per packet
    header_bytes: int = 40  # per-packet header, charged to time on air
    loss_rate: float = 0.0  # Bernoulli loss per packet, on top of bit-error loss
    ber_loss_bits: int = 0  # bits per packet whose corruption drops it (0: header protected)
    delay_s: float = 0.0  # propagation and processing
    jitter_s: float = 0.0  # mean of the exponential extra delay

    def __post_init__(self) -> None:
        if self.mtu_bytes < 1:
            raise ValueError(f"mtu_bytes must be at least 1, got {self.mtu_bytes}")
        if self.header_bytes < 0 or self.ber_loss_bits < 0:
            raise ValueError("header_bytes and ber_loss_bits must be non-negative")
        if not (math.isfinite(self.loss_rate) and 0 <= self.loss_rate <= 1):
            raise ValueError(f"loss_rate must lie in [0, 1], got {self.loss_rate!r}")
        for name in ("delay_s", "jitter_s"):
            value = check_finite(name, getattr(self, name))
            if value < 0:
                raise ValueError(f"{name} must be non-negative, got {value!r}")


@dataclass(frozen=True)
class PacketOutcome:
    sequence: int
    offset: int  # of its payload in the original bytes
    length: int
    lost: bool
    bit_errors: int
    arrival_s: float
    payload: bytes  # as received; empty when lost


def fragment(data: bytes, mtu_bytes: int) -> list[tuple[int, bytes]]:
    """(offset, chunk) pieces of at most ``mtu_bytes``; empty data gives no packets."""
    if mtu_bytes < 1:
        raise ValueError(f"mtu_bytes must be at least 1, got {mtu_bytes}")
    return [(start, data[start : start + mtu_bytes]) for start in range(0, len(data), mtu_bytes)]


def send_packets(
    data: bytes,
    ber: float,
    rate_bps: float,
    rng: np.random.Generator,
    config: PacketConfig | None = None,
) -> list[PacketOutcome]:
    """Fragment ``data`` and send each packet through loss, bit errors, delay and jitter."""
    config = config or PacketConfig()
    if not (math.isfinite(rate_bps) and rate_bps > 0):
        raise ValueError(f"rate_bps must be positive, got {rate_bps!r}")
    survive_bits = (1.0 - ber) ** config.ber_loss_bits
    clock = 0.0
    outcomes = []
    for sequence, (offset, chunk) in enumerate(fragment(data, config.mtu_bytes)):
        clock += 8 * (len(chunk) + config.header_bytes) / rate_bps
        lost = bool(rng.random() < config.loss_rate) or bool(rng.random() >= survive_bits)
        jitter = float(rng.exponential(config.jitter_s)) if config.jitter_s > 0 else 0.0
        received, errors = (b"", 0) if lost else flip_bits(chunk, ber, rng)
        outcomes.append(
            PacketOutcome(
                sequence=sequence,
                offset=offset,
                length=len(chunk),
                lost=lost,
                bit_errors=errors,
                arrival_s=clock + config.delay_s + jitter,
                payload=received,
            )
        )
    return outcomes


def reassemble(outcomes: list[PacketOutcome], total_bytes: int) -> tuple[bytes, list[int]]:
    """The received bytes with lost packets zero-filled, and the sequence numbers lost."""
    buffer = bytearray(total_bytes)
    lost = []
    for packet in outcomes:
        if packet.lost:
            lost.append(packet.sequence)
            continue
        buffer[packet.offset : packet.offset + packet.length] = packet.payload
    return bytes(buffer), lost
