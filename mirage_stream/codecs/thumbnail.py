"""Baseline keyframe codec: a tiny YCrCb thumbnail with few-bit samples.

Not a learned codec: it keeps only a coarse picture (a 24x18 luma grid and 12x9 chroma grids by
default, about 380 bytes), which is what a keyframe must convey about colour and layout at
this rate. The trained VQ-VAE replaces it as the default; it stays as a named baseline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.codecs.base import CodecError
from mirage_stream.codecs.bitpack import pack_symbols, packed_size, unpack_symbols
from mirage_stream.types import EncodedKeyframe, FrameArray

_VARIANT = re.compile(r"^y(\d{1,3})x(\d{1,3})b(\d)-c(\d{1,3})x(\d{1,3})b(\d)$")
_MAX_GRID = 256


def _quantise(plane: npt.NDArray[np.float32], bits: int) -> npt.NDArray[np.int64]:
    levels = (1 << bits) - 1
    return np.asarray(np.clip(np.rint(plane / 255.0 * levels), 0, levels), dtype=np.int64)


def _dequantise(symbols: npt.NDArray[np.int64], bits: int) -> npt.NDArray[np.float32]:
    return (symbols.astype(np.float32) * (255.0 / ((1 << bits) - 1))).astype(np.float32)


@dataclass(frozen=True)
class ThumbnailCodec:
    """Luma at ``luma_grid`` (cols, rows) with ``luma_bits``; Cr and Cb at ``chroma_grid``."""

    luma_grid: tuple[int, int] = (24, 18)
    luma_bits: int = 5
    chroma_grid: tuple[int, int] = (12, 9)
    chroma_bits: int = 4
    name: str = "thumbnail"

    def __post_init__(self) -> None:
        for what, grid in (("luma_grid", self.luma_grid), ("chroma_grid", self.chroma_grid)):
            if not all(1 <= side <= _MAX_GRID for side in grid):
                raise ValueError(f"{what} sides must lie in [1, {_MAX_GRID}], got {grid}")
        for what, bits in (("luma_bits", self.luma_bits), ("chroma_bits", self.chroma_bits)):
            if not 1 <= bits <= 8:
                raise ValueError(f"{what} must lie in [1, 8], got {bits}")

    @property
    def variant(self) -> str:
        (lc, lr), (cc, cr) = self.luma_grid, self.chroma_grid
        return f"y{lc}x{lr}b{self.luma_bits}-c{cc}x{cr}b{self.chroma_bits}"

    @classmethod
    def from_variant(cls, variant: str) -> ThumbnailCodec:
        match = _VARIANT.match(variant)
        if match is None:
            raise CodecError(f"thumbnail variant {variant!r} is not of the form yCxRbB-cCxRbB")
        lc, lr, lb, cc, cr, cb = (int(group) for group in match.groups())
        try:
            return cls(luma_grid=(lc, lr), luma_bits=lb, chroma_grid=(cc, cr), chroma_bits=cb)
        except ValueError as error:
            raise CodecError(str(error)) from None

    def _symbol_counts(self) -> tuple[int, int]:
        return self.luma_grid[0] * self.luma_grid[1], self.chroma_grid[0] * self.chroma_grid[1]

    def payload_bytes(self) -> int:
        luma, chroma = self._symbol_counts()
        return packed_size(luma, self.luma_bits) + 2 * packed_size(chroma, self.chroma_bits)

    def damaged_symbols(self, bit_offsets: Sequence[int]) -> list[int]:
        """Symbols are numbered luma first, then Cr, then Cb; each plane starts on a byte."""
        luma_count, chroma_count = self._symbol_counts()
        plane_starts = [0, 8 * packed_size(luma_count, self.luma_bits)]
        plane_starts.append(plane_starts[1] + 8 * packed_size(chroma_count, self.chroma_bits))
        planes = [
            (0, self.luma_bits, luma_count),
            (luma_count, self.chroma_bits, chroma_count),
            (luma_count + chroma_count, self.chroma_bits, chroma_count),
        ]
        hit = set()
        for bit in bit_offsets:
            plane = sum(bit >= start for start in plane_starts) - 1
            first, width, count = planes[plane]
            position = (bit - plane_starts[plane]) // width
            if position < count:  # bits in a plane's byte padding belong to no symbol
                hit.add(first + position)
        return sorted(hit)

    def encode(self, image: FrameArray, frame_index: int = 0) -> EncodedKeyframe:
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image must be (H, W, 3), got {image.shape}")
        ycrcb = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2YCrCb)
        luma = cv2.resize(ycrcb[..., 0], self.luma_grid, interpolation=cv2.INTER_AREA)
        chroma = cv2.resize(ycrcb[..., 1:], self.chroma_grid, interpolation=cv2.INTER_AREA)
        data = b"".join(
            [
                pack_symbols(_quantise(luma.astype(np.float32), self.luma_bits), self.luma_bits),
                pack_symbols(
                    _quantise(chroma[..., 0].astype(np.float32), self.chroma_bits), self.chroma_bits
                ),
                pack_symbols(
                    _quantise(chroma[..., 1].astype(np.float32), self.chroma_bits), self.chroma_bits
                ),
            ]
        )
        return EncodedKeyframe(
            codec=self.name,
            variant=self.variant,
            grid=(self.luma_grid[1], self.luma_grid[0]),
            data=data,
            frame_index=frame_index,
        )

    def decode(
        self, encoded: EncodedKeyframe, size: tuple[int, int], damaged: bool = False
    ) -> FrameArray:
        """Rebuild an RGB image of ``size`` = (width, height).

        When the CRC says the symbols were damaged, a 3x3 median over each grid removes most
        isolated bit-flip impulses before upsampling, at the cost of some detail.
        """
        luma_count, chroma_count = self._symbol_counts()
        luma_len = packed_size(luma_count, self.luma_bits)
        chroma_len = packed_size(chroma_count, self.chroma_bits)
        data = encoded.data
        planes = [
            _dequantise(
                unpack_symbols(data[:luma_len], self.luma_bits, luma_count), self.luma_bits
            ).reshape(self.luma_grid[1], self.luma_grid[0]),
            _dequantise(
                unpack_symbols(
                    data[luma_len : luma_len + chroma_len], self.chroma_bits, chroma_count
                ),
                self.chroma_bits,
            ).reshape(self.chroma_grid[1], self.chroma_grid[0]),
            _dequantise(
                unpack_symbols(data[luma_len + chroma_len :], self.chroma_bits, chroma_count),
                self.chroma_bits,
            ).reshape(self.chroma_grid[1], self.chroma_grid[0]),
        ]
        if damaged:
            planes = [np.asarray(cv2.medianBlur(np.ascontiguousarray(p), 3)) for p in planes]
        upsampled = [cv2.resize(p, size, interpolation=cv2.INTER_CUBIC) for p in planes]
        ycrcb = np.clip(np.stack(upsampled, axis=-1), 0, 255).astype(np.uint8)
        return np.asarray(cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB), dtype=np.uint8)
