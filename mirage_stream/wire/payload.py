"""SemanticPayload <-> bytes.

Layout (msgpack array, version 7)::

    [ b"MIRG", 7,
      [header_blob, crc], [caption_blob, crc], [hints_blob, crc],
      [ [kf_meta_blob, crc, kf_data_blob, crc], ... ],
      [reference_blob, crc], [face_track_blob, crc] ]

Each blob is a msgpack ``bin``; each CRC32 covers its blob, so damage is found part by part.
``header_blob`` packs (segment index, t0, duration, fps, width, height, frames, keyframe FEC
parity, keyframes protected); ``caption_blob`` is the zlib-compressed UTF-8 caption;
``hints_blob`` packs the scene facts (``mirage_stream.wire.facts``); ``kf_meta_blob`` packs
(codec, variant, rows, cols, frame index, region: [] for the whole frame or x, y, width, height
in 1/1024ths) and ``kf_data_blob`` holds the packed symbol bits. ``reference_blob`` packs a
chunk of the caller's reference picture (id, index, count, bytes) and ``face_track_blob`` the
face track (reference id, first frame, step, samples, bits); each is empty when not sent
(``mirage_stream.portrait``). Only the symbol bits may be
sent best-effort (see ``WireImage.exposed_spans``); everything else is meant for the protected
path.

Decoding is strict and bounded: a size cap before parsing, msgpack length limits while parsing, a
cap on the decompressed caption. Any malformed input raises ``PayloadError`` and nothing else.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import msgpack

from mirage_stream.errors import PayloadError
from mirage_stream.portrait.parts import EncodedFaceTrack, ReferenceChunk
from mirage_stream.types import (
    EncodedKeyframe,
    ReceivedPayload,
    Region,
    SceneFacts,
    SemanticPayload,
)
from mirage_stream.wire.facts import HINT_ITEMS, pack_facts, unpack_facts

MAGIC = b"MIRG"
# 3: keyframes protected (header), keyframe regions (meta); 4: the facts' indoors flag and
# walking towards / away; 5: the facts' keyframe timing; 6: the facts' motion track; 7: the
# reference picture's chunk and the face track
VERSION = 7
_TOP_ITEMS = 8
MAX_PAYLOAD_BYTES = 256 * 1024  # room for one q=8 AE keyframe (the paper sends ~128 KB)
MAX_CAPTION_BYTES = 16 * 1024
MAX_KEYFRAMES = 16
REGION_UNITS = 1024  # a region's fractions travel as integers in 1/1024ths of the frame
MAX_NAME_CHARS = 32  # bytes of UTF-8
MAX_DIMENSION = 4096
MAX_FRAMES = 3600
# Bounds what a receiver may be asked to generate for one segment (about 30 s of 720p).
MAX_SEGMENT_PIXELS = 1280 * 720 * 900
_ZLIB_LEVEL = 9

_LIMITS: dict[str, int] = {
    "max_bin_len": MAX_PAYLOAD_BYTES,
    "max_str_len": MAX_NAME_CHARS,
    "max_array_len": max(MAX_KEYFRAMES, HINT_ITEMS, _TOP_ITEMS),
    "max_map_len": 0,
    "max_ext_len": 0,
}


@dataclass(frozen=True)
class WireImage:
    """Encoded bytes plus where each part lies, for the link and for byte accounting."""

    data: bytes
    exposed_spans: tuple[tuple[int, int], ...]  # (offset, length) of keyframe symbol bits
    part_bytes: dict[str, int]  # blob bytes by part; "framing" is the rest


def _pack(value: object) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def encode_payload_image(payload: SemanticPayload) -> WireImage:
    """Encode ``payload`` and return the bytes with the spans of its best-effort parts."""
    header = _pack(
        [
            payload.segment_index,
            float(payload.t0),
            float(payload.duration),
            float(payload.fps),
            payload.width,
            payload.height,
            payload.num_frames,
            payload.keyframe_fec_parity,
            int(payload.keyframes_protected),
        ]
    )
    caption = zlib.compress(payload.caption.encode("utf-8"), _ZLIB_LEVEL)
    hints = _pack(pack_facts(payload.facts))
    chunks: list[bytes] = [_pack_array_header(_TOP_ITEMS), _pack(MAGIC), _pack(VERSION)]
    for blob in (header, caption, hints):
        chunks += [_pack_array_header(2), _pack(blob), _pack(zlib.crc32(blob))]
    chunks.append(_pack_array_header(len(payload.keyframes)))
    spans: list[tuple[int, int]] = []
    keyframe_bytes = 0
    if len(payload.keyframes) > MAX_KEYFRAMES:
        raise PayloadError(f"at most {MAX_KEYFRAMES} keyframes fit a payload")
    for keyframe in payload.keyframes:
        for what, name in (("codec", keyframe.codec), ("variant", keyframe.variant)):
            if len(name.encode("utf-8")) > MAX_NAME_CHARS:
                raise PayloadError(f"keyframe {what} {name!r} is over {MAX_NAME_CHARS} bytes")
        meta = _pack(
            [
                keyframe.codec,
                keyframe.variant,
                keyframe.grid[0],
                keyframe.grid[1],
                keyframe.frame_index,
                _region_units(keyframe.region),
            ]
        )
        chunks += [_pack_array_header(4), _pack(meta), _pack(zlib.crc32(meta))]
        packed_data = _pack(keyframe.data)
        data_offset = sum(map(len, chunks)) + len(packed_data) - len(keyframe.data)
        spans.append((data_offset, len(keyframe.data)))
        chunks += [packed_data, _pack(zlib.crc32(keyframe.data))]
        keyframe_bytes += len(meta) + len(keyframe.data)
    reference, face_track = _reference_blob(payload), _face_track_blob(payload)
    for blob in (reference, face_track):
        chunks += [_pack_array_header(2), _pack(blob), _pack(zlib.crc32(blob))]
    data = b"".join(chunks)
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(data)} bytes exceeds the {MAX_PAYLOAD_BYTES}-byte cap")
    parts = {
        "header": len(header),
        "caption": len(caption),
        "hints": len(hints),
        "keyframes": keyframe_bytes,
        "reference": len(reference),
        "face_track": len(face_track),
    }
    parts["framing"] = len(data) - sum(parts.values())
    return WireImage(data=data, exposed_spans=tuple(spans), part_bytes=parts)


def encode_payload(payload: SemanticPayload) -> bytes:
    """Encode ``payload`` to wire bytes."""
    return encode_payload_image(payload).data


def _reference_blob(payload: SemanticPayload) -> bytes:
    chunk = payload.reference
    if chunk is None:
        return b""
    return _pack([chunk.reference_id, chunk.index, chunk.count, chunk.data])


def _face_track_blob(payload: SemanticPayload) -> bytes:
    track = payload.face_track
    if track is None:
        return b""
    return _pack([track.reference_id, track.first_frame, track.step, track.count, track.data])


def _pack_array_header(length: int) -> bytes:
    return msgpack.Packer(use_bin_type=True).pack_array_header(length)  # type: ignore[no-any-return]


# --- decoding ---------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PayloadError(message)


def _unpack(blob: bytes, what: str) -> Any:
    try:
        return msgpack.unpackb(blob, raw=False, strict_map_key=True, use_list=True, **_LIMITS)
    except PayloadError:
        raise
    except Exception as error:  # msgpack signals malformed input with many exception types
        raise PayloadError(f"{what}: not valid msgpack ({type(error).__name__}: {error})") from None


def _as_int(value: Any, what: str, low: int, high: int) -> int:
    _require(type(value) is int, f"{what} must be an integer, got {type(value).__name__}")
    _require(low <= value <= high, f"{what}={value} outside [{low}, {high}]")
    return int(value)


def _as_float(value: Any, what: str) -> float:
    _require(type(value) in (int, float), f"{what} must be a number, got {type(value).__name__}")
    number = float(value)
    _require(math.isfinite(number), f"{what} must be finite, got {number}")
    return number


def _as_bytes(value: Any, what: str) -> bytes:
    _require(isinstance(value, bytes), f"{what} must be bytes, got {type(value).__name__}")
    return bytes(value)


def _as_str(value: Any, what: str) -> str:
    _require(isinstance(value, str), f"{what} must be a string, got {type(value).__name__}")
    return str(value)


def _as_list(value: Any, what: str, length: int | None = None) -> list[Any]:
    _require(isinstance(value, list), f"{what} must be an array, got {type(value).__name__}")
    if length is not None:
        _require(len(value) == length, f"{what} must have {length} items, got {len(value)}")
    return list(value)


def _checked_blob(part: Any, what: str) -> tuple[bytes, bool]:
    """(blob, crc_ok) from a ``[blob, crc]`` pair."""
    blob_and_crc = _as_list(part, what, 2)
    blob = _as_bytes(blob_and_crc[0], f"{what} blob")
    crc = _as_int(blob_and_crc[1], f"{what} crc", 0, 0xFFFFFFFF)
    return blob, zlib.crc32(blob) == crc


def _decompress_caption(blob: bytes) -> str:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(blob, MAX_CAPTION_BYTES)
    except zlib.error as error:
        raise PayloadError(f"caption: not valid zlib ({error})") from None
    _require(not inflater.unconsumed_tail, f"caption longer than {MAX_CAPTION_BYTES} bytes")
    _require(inflater.eof, "caption: truncated zlib stream")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadError(f"caption: not UTF-8 ({error})") from None


def _decode_keyframe(entry: Any, position: int) -> tuple[EncodedKeyframe, bool]:
    what = f"keyframe {position}"
    fields = _as_list(entry, what, 4)
    meta_blob, meta_ok = _checked_blob(fields[:2], f"{what} meta")
    _require(meta_ok, f"{what} meta: CRC mismatch")
    meta = _as_list(_unpack(meta_blob, f"{what} meta"), f"{what} meta", 6)
    data, data_ok = _checked_blob(fields[2:], f"{what} data")
    keyframe = EncodedKeyframe(
        codec=_as_str(meta[0], f"{what} codec"),
        variant=_as_str(meta[1], f"{what} variant"),
        grid=(
            _as_int(meta[2], f"{what} rows", 1, MAX_DIMENSION),
            _as_int(meta[3], f"{what} cols", 1, MAX_DIMENSION),
        ),
        data=data,
        frame_index=_as_int(meta[4], f"{what} frame index", 0, MAX_FRAMES),
        region=_region(meta[5], f"{what} region"),
    )
    return keyframe, data_ok


def _region_units(region: Region | None) -> list[int]:
    if region is None:
        return []
    return [round(v * REGION_UNITS) for v in (region.x, region.y, region.width, region.height)]


def _region(value: Any, what: str) -> Region | None:
    units = _as_list(value, what)
    if not units:
        return None
    _require(len(units) == 4, f"{what}: 4 numbers or none, got {len(units)}")
    x, y, width, height = (_as_int(v, what, 0, REGION_UNITS) / REGION_UNITS for v in units)
    try:
        return Region(x, y, width, height)
    except ValueError as error:
        raise PayloadError(f"{what}: {error}") from None


def decode_payload(data: bytes) -> ReceivedPayload:
    """Decode wire bytes. Header and keyframe metadata must be intact; caption, hints and keyframe
    symbols may be damaged, which the result flags instead of failing.

    Raises ``PayloadError`` for anything malformed.
    """
    _require(isinstance(data, bytes | bytearray | memoryview), "payload must be bytes")
    _require(0 < len(data) <= MAX_PAYLOAD_BYTES, f"payload size {len(data)} outside (0, cap]")
    top = _as_list(_unpack(bytes(data), "payload"), "payload", _TOP_ITEMS)
    _require(top[0] == MAGIC, "payload: bad magic")
    _require(top[1] == VERSION, f"payload: unsupported version {top[1]!r}")

    header_blob, header_ok = _checked_blob(top[2], "header")
    _require(header_ok, "header: CRC mismatch")
    header = _as_list(_unpack(header_blob, "header"), "header", 9)

    caption_blob, caption_ok = _checked_blob(top[3], "caption")
    caption = _decompress_caption(caption_blob) if caption_ok else ""

    hints_blob, hints_ok = _checked_blob(top[4], "hints")
    facts = unpack_facts(_unpack(hints_blob, "hints"), _require) if hints_ok else SceneFacts()

    decoded = [_decode_keyframe(entry, i) for i, entry in enumerate(_as_list(top[5], "keyframes"))]
    reference, reference_ok = _reference(top[6])
    face_track, face_track_ok = _face_track(top[7])
    fps = _as_float(header[3], "fps")
    _require(0 < fps <= 1000, f"fps={fps} outside (0, 1000]")
    payload = SemanticPayload(
        segment_index=_as_int(header[0], "segment index", 0, 2**53),
        t0=_as_float(header[1], "t0"),
        duration=_as_float(header[2], "duration"),
        fps=fps,
        width=_as_int(header[4], "width", 1, MAX_DIMENSION),
        height=_as_int(header[5], "height", 1, MAX_DIMENSION),
        num_frames=_as_int(header[6], "frames", 0, MAX_FRAMES),
        caption=caption,
        facts=facts,
        keyframes=tuple(keyframe for keyframe, _ in decoded),
        keyframe_fec_parity=_as_int(header[7], "keyframe FEC parity", 0, 64),
        keyframes_protected=bool(_as_int(header[8], "keyframes protected", 0, 1)),
        reference=reference,
        face_track=face_track,
    )
    _require(
        payload.width * payload.height * payload.num_frames <= MAX_SEGMENT_PIXELS,
        f"segment of {payload.num_frames} frames at {payload.width}x{payload.height} is too large",
    )
    return ReceivedPayload(
        payload=payload,
        caption_ok=caption_ok,
        hints_ok=hints_ok,
        keyframes_ok=tuple(ok for _, ok in decoded),
        reference_ok=reference_ok,
        face_track_ok=face_track_ok,
    )


def _reference(part: Any) -> tuple[ReferenceChunk | None, bool]:
    """A damaged chunk is left out (the reference then stays incomplete: today's picture)."""
    blob, ok = _checked_blob(part, "reference")
    if not blob or not ok:
        return None, ok
    items = _as_list(_unpack(blob, "reference"), "reference", 4)
    return (
        ReferenceChunk(
            reference_id=_as_int(items[0], "reference id", 0, 255),
            index=_as_int(items[1], "reference chunk", 0, 63),
            count=_as_int(items[2], "reference chunks", 1, 64),
            data=_as_bytes(items[3], "reference bytes"),
        ),
        True,
    )


def _face_track(part: Any) -> tuple[EncodedFaceTrack | None, bool]:
    """A damaged track is still read when its framing holds: each sample's bits stand alone
    (``portrait.track``), and the receiver's median takes a damaged value out."""
    blob, ok = _checked_blob(part, "face track")
    if not blob:
        return None, ok
    try:
        items = _as_list(_unpack(blob, "face track"), "face track", 5)
        return (
            EncodedFaceTrack(
                reference_id=_as_int(items[0], "face track reference", 0, 255),
                first_frame=_as_int(items[1], "face track first frame", 0, MAX_FRAMES),
                step=_as_int(items[2], "face track step", 1, MAX_FRAMES),
                count=_as_int(items[3], "face track samples", 0, 256),
                data=_as_bytes(items[4], "face track bits"),
            ),
            ok,
        )
    except PayloadError:
        if ok:
            raise
        return None, False
