"""The keyframe codec protocol (eq. 10-13) and its errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mirage_stream.errors import MirageError
from mirage_stream.types import EncodedKeyframe, FrameArray


class CodecError(MirageError, ValueError):
    """An encoded keyframe names a codec or variant this receiver cannot decode."""


class KeyframeCodec(Protocol):
    """Turns a keyframe image into a few symbols and back.

    ``encode`` takes an RGB uint8 image of any size; ``decode`` returns an RGB uint8 image of the
    requested ``(width, height)`` and must accept damaged symbol bits (``damaged=True`` when the
    part's CRC failed), never raising on them.
    """

    @property
    def name(self) -> str: ...

    @property
    def variant(self) -> str: ...

    def encode(self, image: FrameArray, frame_index: int = 0) -> EncodedKeyframe: ...

    def decode(
        self, encoded: EncodedKeyframe, size: tuple[int, int], damaged: bool = False
    ) -> FrameArray: ...

    def damaged_symbols(self, bit_offsets: Sequence[int]) -> list[int]:
        """Indices of the symbols that contain the given bit offsets of ``data``."""
        ...

    def payload_bytes(self) -> int:
        """Bytes of symbol data per keyframe."""
        ...
