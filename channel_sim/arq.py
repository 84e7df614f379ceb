"""ARQ over the reliable chain: one block for real, or many blocks fast for statistics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from channel_sim.corrupt import flip_bits, flip_in_place
from channel_sim.reliable import (
    CodePlan,
    combine_copies,
    decode_block,
    decode_codewords,
    encode_block,
    plan_code,
    transmit_copies,
)


@dataclass(frozen=True)
class ReliableDelivery:
    """What sending one block cost and whether it arrived."""

    block: bytes | None  # None: every try failed (the receiver knows it has nothing)
    tries: int
    channel_bits: int
    bit_errors: int
    plan: CodePlan


def send_reliably(
    block: bytes, ber: float, rng: np.random.Generator, max_tries: int = 8
) -> ReliableDelivery:
    """Send ``block`` through the real chain (encode, flip, majority, RS decode, CRC) with ARQ."""
    plan = plan_code(len(block), ber, max_tries)
    on_air = transmit_copies(encode_block(block, plan), plan)
    bit_errors = 0
    for attempt in range(1, max_tries + 1):
        received, errors = flip_bits(on_air, ber, rng)
        bit_errors += errors
        decoded = decode_block(received, plan)
        if decoded is not None:
            return ReliableDelivery(decoded, attempt, attempt * plan.channel_bits, bit_errors, plan)
    return ReliableDelivery(None, max_tries, max_tries * plan.channel_bits, bit_errors, plan)


@dataclass(frozen=True)
class DeliveryStatistics:
    trials: int
    block_bytes: int
    ber: float
    delivered: int
    undetected_errors: int  # delivered but not equal to what was sent
    failed: int  # every try failed (detected)
    total_tries: int
    channel_bits: int
    real_decodes: int  # trials that needed the actual RS decoder (errors beyond its radius)
    plan: CodePlan

    @property
    def mean_tries(self) -> float:
        return self.total_tries / self.trials

    @property
    def overhead_ratio(self) -> float:
        """Measured channel bits over block bits, minus one."""
        return self.channel_bits / (8 * self.block_bytes * self.trials) - 1.0


def _error_patterns(
    count: int, plan: CodePlan, ber: float, rng: np.random.Generator
) -> npt.NDArray[np.uint8]:
    """Per trial, the codeword byte errors left after the majority vote: (count, m, n)."""
    per_copy = plan.codewords * plan.codeword_bytes
    flat = np.zeros(count * plan.repetition * per_copy, dtype=np.uint8)
    flip_in_place(flat, ber, rng)
    copies = flat.reshape(count, plan.repetition, per_copy)
    if plan.repetition > 1:
        votes = np.unpackbits(copies, axis=2).sum(axis=1, dtype=np.int16)
        majority = np.packbits((votes > plan.repetition // 2).astype(np.uint8), axis=1)
    else:
        majority = copies[:, 0]
    voted = majority.reshape(count, plan.codeword_bytes, plan.codewords)
    return np.ascontiguousarray(voted.transpose(0, 2, 1))


def simulate_delivery(
    trials: int,
    block_bytes: int,
    ber: float,
    rng: np.random.Generator,
    max_tries: int = 8,
    batch: int = 1000,
) -> DeliveryStatistics:
    """Deliver ``trials`` random blocks with ARQ and count what went wrong.

    Exact and fast: the majority vote of (data XOR e_1, ..., data XOR e_r) is data XOR
    majority(e_1, ..., e_r), so error patterns are drawn without data; a codeword with at most
    parity/2 byte errors is always decoded correctly by RS, so only trials with a codeword
    beyond that radius get real data, the real encoder, the real RS decoder and the CRC check.
    """
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    plan = plan_code(block_bytes, ber, max_tries)
    radius = plan.parity_bytes // 2
    delivered = undetected = failed = total_tries = real_decodes = 0
    for start in range(0, trials, batch):
        pending = min(batch, trials - start)
        for _ in range(max_tries):
            total_tries += pending
            patterns = _error_patterns(pending, plan, ber, rng)
            beyond = (np.count_nonzero(patterns, axis=2) > radius).any(axis=1)
            still_pending = 0
            delivered += int(np.count_nonzero(~beyond))
            for pattern in patterns[beyond]:
                real_decodes += 1
                block = rng.bytes(block_bytes)
                coded = np.frombuffer(encode_block(block, plan), dtype=np.uint8)
                sent = coded.reshape(plan.codeword_bytes, plan.codewords).T
                decoded = decode_codewords(sent ^ pattern, plan)
                if decoded is None:
                    still_pending += 1
                elif decoded != block:
                    undetected += 1
                else:
                    delivered += 1
            pending = still_pending
            if pending == 0:
                break
        failed += pending
    return DeliveryStatistics(
        trials=trials,
        block_bytes=block_bytes,
        ber=ber,
        delivered=delivered,
        undetected_errors=undetected,
        failed=failed,
        total_tries=total_tries,
        channel_bits=total_tries * plan.channel_bits,
        real_decodes=real_decodes,
        plan=plan,
    )


__all__ = [
    "DeliveryStatistics",
    "ReliableDelivery",
    "combine_copies",
    "send_reliably",
    "simulate_delivery",
]
