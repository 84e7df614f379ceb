"""Bit flips at a given BER on real byte strings: vectorised, seeded, exact in distribution.

Two exact samplers of independent Bernoulli(ber) flips, chosen by BER for speed:

* low BER: the gaps between errors are geometric, so drawing gaps costs O(errors), not O(bits);
* high BER: one 16-bit uniform per bit compared with ber * 2^16, refined on ties so that the
  probability is exactly ber, packed into a byte mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# Above this BER the dense mask is faster than drawing gaps (measured on one core).
_DENSE_ABOVE = 0.05
# Dense masks are built this many bits at a time to bound memory (2 bytes per bit drawn).
_DENSE_CHUNK_BITS = 1 << 22


def _check_ber(ber: float) -> float:
    ber = float(ber)
    if not 0.0 <= ber <= 1.0:  # also rejects NaN
        raise ValueError(f"ber must lie in [0, 1], got {ber!r}")
    return ber


def _gap_positions(num_bits: int, ber: float, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Error positions as cumulative sums of Geometric(ber) gaps."""
    expected = num_bits * ber
    positions: list[npt.NDArray[np.int64]] = []
    last = -1
    while True:
        draw = int(expected + 6.0 * np.sqrt(expected) + 16)
        gaps = rng.geometric(ber, size=draw).astype(np.int64)
        chunk = last + np.cumsum(gaps)
        inside = chunk[chunk < num_bits]
        positions.append(inside)
        if inside.size < chunk.size:
            return np.concatenate(positions)
        last = int(chunk[-1])


def _xor_positions(buffer: npt.NDArray[np.uint8], bit_positions: npt.NDArray[np.int64]) -> None:
    """XOR the given bit positions (MSB first within a byte) into ``buffer`` in place."""
    masks = (0x80 >> (bit_positions & 7)).astype(np.uint8)
    np.bitwise_xor.at(buffer, bit_positions >> 3, masks)  # several errors may share a byte


def _flip_dense(view: npt.NDArray[np.uint8], ber: float, rng: np.random.Generator) -> int:
    """One 16-bit uniform u per bit: a hit when u < floor(ber 2^16), and, when u equals that
    floor (probability 2^-16), with probability frac(ber 2^16), so P(hit) = ber exactly."""
    scaled = ber * 65536.0
    floor = int(scaled)
    remainder = scaled - floor
    errors = 0
    chunk_bytes = _DENSE_CHUNK_BITS // 8
    for start in range(0, view.size, chunk_bytes):
        part = view[start : start + chunk_bytes]
        count = part.size * 8
        uniform = rng.bit_generator.random_raw((count + 3) // 4).view(np.uint16)[:count]
        hits = uniform < floor
        if remainder > 0.0:
            boundary = np.flatnonzero(uniform == floor)
            if boundary.size:
                hits[boundary] = rng.random(boundary.size) < remainder
        errors += int(np.count_nonzero(hits))
        part ^= np.packbits(hits)
    return errors


def flip_in_place(view: npt.NDArray[np.uint8], ber: float, rng: np.random.Generator) -> int:
    """Flip each bit of ``view`` independently with probability ``ber``; return the count."""
    ber = _check_ber(ber)
    if view.size == 0 or ber == 0.0:
        return 0
    if ber >= _DENSE_ABOVE:
        return _flip_dense(view, ber, rng)
    positions = _gap_positions(view.size * 8, ber, rng)
    _xor_positions(view, positions)
    return int(positions.size)


def flip_bits(data: bytes, ber: float, rng: np.random.Generator) -> tuple[bytes, int]:
    """``data`` with each bit flipped independently with probability ``ber``, and the count."""
    buffer = np.frombuffer(data, dtype=np.uint8).copy()
    errors = flip_in_place(buffer, ber, rng)
    return buffer.tobytes(), errors


def flip_bits_in_spans(
    data: bytes, spans: Sequence[tuple[int, int]], ber: float, rng: np.random.Generator
) -> tuple[bytes, int]:
    """Flip bits at ``ber`` only inside the byte ``spans`` ((offset, length) pairs) of ``data``.

    Bytes outside the spans are delivered intact: they stand for parts sent over a protected
    (coded, retried) path. Returns the damaged bytes and the number of flipped bits.
    """
    _check_ber(ber)
    buffer = np.frombuffer(data, dtype=np.uint8).copy()
    total_errors = 0
    for offset, length in spans:
        if offset < 0 or length < 0 or offset + length > buffer.size:
            raise ValueError(f"span ({offset}, {length}) lies outside {buffer.size} bytes")
        total_errors += flip_in_place(buffer[offset : offset + length], ber, rng)
    return buffer.tobytes(), total_errors
