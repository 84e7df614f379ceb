"""Reliable delivery of small blocks (captions), eq. 15: Pr(b_hat != b) <= epsilon << 1.

Chain, per try: block + CRC32 -> Reed-Solomon over GF(256) (creedsolo, reedsolo's compiled
twin) in equal codewords -> bytes interleaved across codewords -> the whole coded stream
repeated ``r`` times (r odd) -> channel -> bitwise majority over the copies -> de-interleave ->
RS decode -> CRC check. A failed try (RS failure or CRC mismatch) is retried (ARQ) up to
``max_tries``; every try is charged to time on air. Feedback (ACK/NACK) is assumed instant and
error-free.

The repetition factor handles BERs far beyond what byte-level RS can correct (at BER 0.114 a
byte is wrong 62% of the time); interleaving spreads a burst over all codewords, and sending the
copies one after another keeps a burst from hitting every copy of a bit.

``plan_code`` sizes r and the RS parity to the current BER, minimising expected channel bits
under a cap on the probability that every try fails; its probabilities are exact binomial
tails for independent bit errors.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from creedsolo import ReedSolomonError, RSCodec
from scipy import stats

CRC_BYTES = 4
RS_MAX_CODEWORD = 255
_REPETITIONS = tuple(range(1, 40, 2))


@dataclass(frozen=True)
class CodePlan:
    """One setting of the reliable chain for a block size and BER, with its predicted quality."""

    block_bytes: int  # caption bytes before CRC
    repetition: int
    parity_bytes: int  # RS parity per codeword (corrects parity_bytes // 2 byte errors)
    codewords: int
    message_bytes: int  # per codeword (block + CRC + zero padding, split evenly)
    ber: float
    max_tries: int
    try_failure: float  # probability that one try fails
    residual_failure: float  # probability that every try fails

    @property
    def codeword_bytes(self) -> int:
        return self.message_bytes + self.parity_bytes

    @property
    def channel_bits(self) -> int:
        """Bits on air per try."""
        return self.codewords * self.codeword_bytes * 8 * self.repetition

    @property
    def expected_tries(self) -> float:
        f = self.try_failure
        return float(self.max_tries) if f >= 1 else (1 - f**self.max_tries) / (1 - f)

    @property
    def overhead_ratio(self) -> float:
        """Expected channel bits (all tries) over the block's own bits, minus one."""
        return self.channel_bits * self.expected_tries / (8 * self.block_bytes) - 1.0


def _majority_error(ber: float, repetition: int) -> float:
    """Probability that a majority vote over ``repetition`` copies gets a bit wrong."""
    return float(stats.binom.sf(repetition // 2, repetition, ber))


@lru_cache(maxsize=512)
def plan_code(
    block_bytes: int, ber: float, max_tries: int = 8, target_residual: float = 1e-9
) -> CodePlan:
    """The cheapest plan (expected channel bits) whose chance that all tries fail is at most
    ``target_residual``; if none reaches it, the plan with the lowest residual failure."""
    if block_bytes < 1:
        raise ValueError(f"block_bytes must be at least 1, got {block_bytes}")
    if not 0.0 <= ber < 0.5:
        raise ValueError(f"ber must lie in [0, 0.5) for reliable delivery, got {ber!r}")
    if max_tries < 1:
        raise ValueError(f"max_tries must be at least 1, got {max_tries}")
    data = block_bytes + CRC_BYTES
    best: CodePlan | None = None
    fallback: CodePlan | None = None
    for repetition in _REPETITIONS:
        byte_error = 1.0 - (1.0 - _majority_error(ber, repetition)) ** 8
        parity = np.arange(2, RS_MAX_CODEWORD - 1, 2)
        capacity = RS_MAX_CODEWORD - parity
        codewords = -(-data // capacity)
        message = -(-data // codewords)
        n = message + parity
        codeword_fail = stats.binom.sf(parity // 2, n, byte_error)
        codeword_fail = np.clip(codeword_fail, 0.0, 1.0 - 1e-15)
        try_fail = -np.expm1(codewords * np.log1p(-codeword_fail))
        residual = try_fail**max_tries
        expected_tries = np.where(
            try_fail < 1, (1 - residual) / np.maximum(1 - try_fail, 1e-300), max_tries
        )
        cost = codewords * n * repetition * expected_tries
        for position in np.argsort(cost):
            plan = CodePlan(
                block_bytes=block_bytes,
                repetition=repetition,
                parity_bytes=int(parity[position]),
                codewords=int(codewords[position]),
                message_bytes=int(message[position]),
                ber=ber,
                max_tries=max_tries,
                try_failure=float(try_fail[position]),
                residual_failure=float(residual[position]),
            )
            if fallback is None or plan.residual_failure < fallback.residual_failure:
                fallback = plan
            if plan.residual_failure <= target_residual:
                if best is None or plan.channel_bits * plan.expected_tries < (
                    best.channel_bits * best.expected_tries
                ):
                    best = plan
                break
        if best is not None and repetition > best.repetition + 4:
            break  # more repetition only costs more from here on
    assert fallback is not None
    return best if best is not None else fallback


@lru_cache(maxsize=64)
def _codec(parity_bytes: int) -> RSCodec:
    return RSCodec(parity_bytes, nsize=RS_MAX_CODEWORD)


def encode_block(block: bytes, plan: CodePlan) -> bytes:
    """One copy's coded bytes (interleaved RS codewords); ``repetition`` copies go on air."""
    if len(block) != plan.block_bytes:
        raise ValueError(f"block has {len(block)} bytes, the plan expects {plan.block_bytes}")
    data = block + zlib.crc32(block).to_bytes(CRC_BYTES, "big")
    data = data.ljust(plan.codewords * plan.message_bytes, b"\0")
    codec = _codec(plan.parity_bytes)
    rows = [
        np.frombuffer(
            bytes(
                codec.encode(bytearray(data[i * plan.message_bytes : (i + 1) * plan.message_bytes]))
            ),
            dtype=np.uint8,
        )
        for i in range(plan.codewords)
    ]
    return np.stack(rows).T.tobytes()  # byte j of every codeword, then byte j + 1, ...


def transmit_copies(coded: bytes, plan: CodePlan) -> bytes:
    return coded * plan.repetition


def combine_copies(received: bytes, plan: CodePlan) -> npt.NDArray[np.uint8]:
    """Bitwise majority over the copies, as a (codewords, codeword_bytes) array."""
    copies = np.frombuffer(received, dtype=np.uint8).reshape(plan.repetition, -1)
    if plan.repetition == 1:
        voted = copies[0]
    else:
        votes = np.unpackbits(copies, axis=1).sum(axis=0, dtype=np.int32)
        voted = np.packbits((votes > plan.repetition // 2).astype(np.uint8))
    return np.ascontiguousarray(voted.reshape(plan.codeword_bytes, plan.codewords).T)


def decode_codewords(codewords: npt.NDArray[np.uint8], plan: CodePlan) -> bytes | None:
    """RS-decode each codeword and check the CRC; None when the try failed."""
    codec = _codec(plan.parity_bytes)
    parts = []
    for row in codewords:
        try:
            message, _, _ = codec.decode(bytearray(row.tobytes()))
        except ReedSolomonError:
            return None
        parts.append(bytes(message))
    return check_crc(b"".join(parts), plan)


def check_crc(data: bytes, plan: CodePlan) -> bytes | None:
    block = data[: plan.block_bytes]
    crc = data[plan.block_bytes : plan.block_bytes + CRC_BYTES]
    return block if zlib.crc32(block).to_bytes(CRC_BYTES, "big") == crc else None


def decode_block(received: bytes, plan: CodePlan) -> bytes | None:
    """The block, or None when this try must be repeated."""
    return decode_codewords(combine_copies(received, plan), plan)
