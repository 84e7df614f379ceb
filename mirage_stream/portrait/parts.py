"""The two payload parts of the person in a call, as they cross the link (``wire.payload``
carries each with its own CRC, so a damaged one is dropped alone)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReferenceChunk:
    """Piece ``index`` of ``count`` of reference ``reference_id``'s bytes
    (``portrait.reference``)."""

    reference_id: int
    index: int
    count: int
    data: bytes


@dataclass(frozen=True)
class EncodedFaceTrack:
    """A face track (``portrait.track``): ``count`` fixed slots of bits in ``data``, the
    samples at frames ``first_frame + i * step``, made for reference ``reference_id``."""

    reference_id: int
    first_frame: int
    step: int
    count: int
    data: bytes
