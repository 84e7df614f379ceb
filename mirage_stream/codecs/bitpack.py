"""Exact packing of unsigned symbols of any width (1..32 bits) into bytes, MSB first."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def _check_width(bits_per_symbol: int) -> None:
    if not 1 <= bits_per_symbol <= 32:
        raise ValueError(f"bits_per_symbol must lie in [1, 32], got {bits_per_symbol}")


def packed_size(count: int, bits_per_symbol: int) -> int:
    """Bytes needed for ``count`` symbols of ``bits_per_symbol`` bits."""
    _check_width(bits_per_symbol)
    return (count * bits_per_symbol + 7) // 8


def pack_symbols(symbols: npt.ArrayLike, bits_per_symbol: int) -> bytes:
    """Pack non-negative integers below 2**bits_per_symbol; the last byte is zero-padded."""
    _check_width(bits_per_symbol)
    values = np.asarray(symbols, dtype=np.int64).ravel()
    if values.size and (values.min() < 0 or values.max() >= 1 << bits_per_symbol):
        raise ValueError(f"symbols must lie in [0, 2**{bits_per_symbol})")
    shifts = np.arange(bits_per_symbol - 1, -1, -1, dtype=np.int64)
    bits = ((values[:, None] >> shifts) & 1).astype(np.uint8)
    return np.packbits(bits.ravel()).tobytes()


def unpack_symbols(data: bytes, bits_per_symbol: int, count: int) -> npt.NDArray[np.int64]:
    """Inverse of ``pack_symbols``. Short input is zero-padded, so damaged or truncated data
    still yields ``count`` symbols (never an exception past argument checks)."""
    _check_width(bits_per_symbol)
    if count < 0:
        raise ValueError(f"count must be non-negative, got {count}")
    needed = packed_size(count, bits_per_symbol)
    raw = np.frombuffer(data[:needed], dtype=np.uint8)
    if raw.size < needed:
        raw = np.concatenate([raw, np.zeros(needed - raw.size, dtype=np.uint8)])
    bits = np.unpackbits(raw)[: count * bits_per_symbol].reshape(count, bits_per_symbol)
    weights = 1 << np.arange(bits_per_symbol - 1, -1, -1, dtype=np.int64)
    return np.asarray((bits.astype(np.int64) * weights).sum(axis=1), dtype=np.int64)
