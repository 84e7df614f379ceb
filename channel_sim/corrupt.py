"""Bit flips at a given BER on real byte strings, vectorised and seeded."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _error_positions(num_bits: int, ber: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of independent bit errors among ``num_bits`` bits, each flipped with prob ``ber``.

    The count is drawn from Binomial(n, ber) and the positions uniformly without replacement, which
    has exactly the distribution of independent flips, and costs O(errors) rather than O(bits).
    """
    if not 0.0 <= ber <= 1.0:
        raise ValueError(f"ber must lie in [0, 1], got {ber!r}")
    if num_bits == 0 or ber == 0.0:
        return np.empty(0, dtype=np.int64)
    count = int(rng.binomial(num_bits, ber))
    return np.sort(rng.choice(num_bits, size=count, replace=False)).astype(np.int64)


def _apply_flips(buffer: np.ndarray, bit_positions: np.ndarray) -> None:
    """XOR the given bit positions (MSB-first within each byte) into ``buffer`` in place."""
    byte_index = bit_positions >> 3
    masks = (0x80 >> (bit_positions & 7)).astype(np.uint8)
    # Two errors can hit one byte: XOR-accumulate instead of assigning.
    np.bitwise_xor.at(buffer, byte_index, masks)


def flip_bits(data: bytes, ber: float, rng: np.random.Generator) -> tuple[bytes, int]:
    """``data`` with each bit flipped independently with probability ``ber``, and the count."""
    buffer = np.frombuffer(data, dtype=np.uint8).copy()
    positions = _error_positions(buffer.size * 8, ber, rng)
    _apply_flips(buffer, positions)
    return buffer.tobytes(), int(positions.size)


def flip_bits_in_spans(
    data: bytes, spans: Sequence[tuple[int, int]], ber: float, rng: np.random.Generator
) -> tuple[bytes, int]:
    """Flip bits at ``ber`` only inside the byte ``spans`` ((offset, length) pairs) of ``data``.

    Bytes outside the spans are delivered intact: they stand for parts sent over a protected
    (coded, retried) path. Returns the damaged bytes and the number of flipped bits.
    """
    buffer = np.frombuffer(data, dtype=np.uint8).copy()
    total_errors = 0
    for offset, length in spans:
        if offset < 0 or length < 0 or offset + length > buffer.size:
            raise ValueError(f"span ({offset}, {length}) lies outside {buffer.size} bytes")
        positions = _error_positions(length * 8, ber, rng)
        _apply_flips(buffer, positions + offset * 8)
        total_errors += int(positions.size)
    return buffer.tobytes(), total_errors
