"""The caller's reference picture: one sharp frame of the person in their scene, coded as an
AV1 still, with the face's pose and expression in it, sent in chunks over the reliable path.

A reference is a few kilobytes, several times a segment's payload, so it is cut into chunks
and spread over the first segments' spare airtime; the receiver holds the newest reference
whose chunks have all arrived, for the call only. Every part is checked where it is read: a
chunk that does not fit the others, or a picture that does not decode, leaves the receiver
with the reference it had (or none), never a wrong one.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import msgpack
import numpy as np

from mirage_stream.codecs.still import StillError, decode_av1_still
from mirage_stream.portrait.parts import ReferenceChunk
from mirage_stream.portrait.shape import FaceSample, HeadPose
from mirage_stream.types import FrameArray

MAX_REFERENCE_BYTES = 64 * 1024
MAX_CHUNKS = 64
STILL_CODECS = ("av1",)
_FLOAT = struct.Struct("<f")


@dataclass(frozen=True)
class ReferencePicture:
    """``still``: the picture's bitstream in ``codec``; ``face``: the face in it."""

    reference_id: int
    codec: str
    face: FaceSample
    still: bytes


class ReferenceError(ValueError):
    """Reference bytes that do not make a reference."""


def _face_bytes(face: FaceSample) -> bytes:
    pose = face.pose
    numbers = [pose.pitch, pose.yaw, pose.roll, pose.scale, pose.x, pose.y, *face.expression]
    return b"".join(_FLOAT.pack(n) for n in numbers)


def _face(data: bytes) -> FaceSample:
    if len(data) % 4 or not 6 * 4 <= len(data) <= 64 * 4:
        raise ReferenceError(f"reference face of {len(data)} bytes")
    numbers = [v for (v,) in _FLOAT.iter_unpack(data)]
    if not all(math.isfinite(n) for n in numbers) or not 0 < numbers[3] < 100:
        raise ReferenceError("reference face holds no usable pose")
    return FaceSample(HeadPose(*numbers[:6]), tuple(numbers[6:]))


def reference_bytes(picture: ReferencePicture) -> bytes:
    blob: bytes = msgpack.packb(
        [picture.codec, _face_bytes(picture.face), picture.still], use_bin_type=True
    )
    return blob


def reference_from_bytes(reference_id: int, data: bytes) -> ReferencePicture:
    try:
        items = msgpack.unpackb(
            data, raw=False, max_bin_len=MAX_REFERENCE_BYTES, max_str_len=16, max_array_len=3
        )
    except Exception as error:  # msgpack signals malformed input with many exception types
        raise ReferenceError(f"reference: not valid msgpack ({type(error).__name__})") from None
    if not (isinstance(items, list) and len(items) == 3):
        raise ReferenceError("reference: three items expected")
    codec, face, still = items
    if codec not in STILL_CODECS or not isinstance(face, bytes) or not isinstance(still, bytes):
        raise ReferenceError(f"reference: unknown still codec {codec!r} or bad parts")
    return ReferencePicture(reference_id, codec, _face(face), still)


def split_reference(picture: ReferencePicture, chunk_bytes: int) -> list[ReferenceChunk]:
    """The reference's bytes in chunks of at most ``chunk_bytes``."""
    data = reference_bytes(picture)
    count = max(1, math.ceil(len(data) / chunk_bytes))
    if count > MAX_CHUNKS or len(data) > MAX_REFERENCE_BYTES:
        raise ReferenceError(f"a reference of {len(data)} B does not fit {MAX_CHUNKS} chunks")
    return [
        ReferenceChunk(
            picture.reference_id, i, count, data[i * chunk_bytes : (i + 1) * chunk_bytes]
        )
        for i in range(count)
    ]


@dataclass(frozen=True)
class HeldReference:
    """A reference as the receiver holds it: the picture decoded."""

    picture: ReferencePicture
    image: FrameArray


@dataclass
class ReferenceAssembler:
    """Chunks in, the newest complete reference out. Chunks of an older reference than the
    one being gathered are ignored; a newer one starts a new gathering."""

    held: HeldReference | None = None
    _gathering: int | None = field(default=None, init=False)
    _count: int = field(default=0, init=False)
    _pieces: dict[int, bytes] = field(default_factory=dict, init=False)

    def add(self, chunk: ReferenceChunk) -> str | None:
        """Take ``chunk``; a note when something was wrong (the chunk then left out)."""
        if not (0 <= chunk.index < chunk.count <= MAX_CHUNKS):
            return f"reference chunk {chunk.index} of {chunk.count}: out of range; left out"
        if self._gathering != chunk.reference_id:
            if self.held is not None and self.held.picture.reference_id == chunk.reference_id:
                return None  # a repeat of the reference already held
            self._gathering, self._count, self._pieces = chunk.reference_id, chunk.count, {}
        if chunk.count != self._count:
            return "reference chunk disagrees with the others on their count; left out"
        self._pieces[chunk.index] = chunk.data
        if len(self._pieces) < self._count:
            return None
        data = b"".join(self._pieces[i] for i in range(self._count))
        self._gathering, self._pieces = None, {}
        try:
            picture = reference_from_bytes(chunk.reference_id, data)
            image = decode_av1_still(picture.still)
        except (ReferenceError, StillError) as error:
            return f"reference {chunk.reference_id} left out: {error}"
        self.held = HeldReference(picture, np.ascontiguousarray(image))
        return None
