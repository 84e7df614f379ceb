"""Messages of a live call on the two WebRTC data channels.

``captions`` (reliable, ordered) carries, per segment, the payload with its keyframe symbol
bytes cut out (header, caption, facts, framing: everything channel_sim protects), where the
symbols go back, and the link report; and, the other way, the receiver's feedback.
``keyframes`` (unreliable: ``ordered=False, maxRetransmits=0``) carries the keyframe symbol bytes
in chunks small enough for one SCTP message; a lost chunk leaves zeros, which the keyframe CRC
flags as damage. Every message is a msgpack array whose first item names its kind; decoding is
bounded and raises ``PayloadError`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

from mirage_stream.errors import PayloadError

CHUNK_BYTES = 16 * 1024
MAX_MESSAGE_BYTES = 64 * 1024
MAX_SPANS = 16
MAX_CHUNKS = 64
MAX_STAGES = 16  # sender stage timings carried for the page
MAX_NAME_CHARS = 16


@dataclass(frozen=True)
class SegmentMessage:
    index: int
    protected: bytes  # the payload with keyframe symbol bytes removed; empty if lost
    spans: tuple[tuple[int, int], ...]  # (offset, length) of each keyframe's symbols
    chunks: int  # keyframe chunks sent on the unreliable channel
    captured_at: float  # sender wall clock (time.time) when the segment's last frame was captured
    snr_db: float
    ber: float
    time_on_air_s: float
    bit_errors: int
    delivered: bool
    sender_stage_ms: tuple[tuple[str, float], ...] = ()  # (stage, milliseconds), for the page
    shed: str = ""  # "light": the sender did less for this segment, running behind real time
    sender_skipped: int = 0  # segments the sender has dropped for lateness so far in the call


@dataclass(frozen=True)
class KeyframeChunk:
    index: int
    number: int
    total: int
    data: bytes


@dataclass(frozen=True)
class FeedbackMessage:
    index: int
    snr_db: float
    delivered: bool
    keyframe_damaged: bool


LiveMessage = SegmentMessage | KeyframeChunk | FeedbackMessage


def encode_message(message: LiveMessage) -> bytes:
    if isinstance(message, SegmentMessage):
        body: list[Any] = [
            "seg",
            message.index,
            message.protected,
            [list(span) for span in message.spans],
            message.chunks,
            message.captured_at,
            message.snr_db,
            message.ber,
            message.time_on_air_s,
            message.bit_errors,
            message.delivered,
            [[name[:MAX_NAME_CHARS], ms] for name, ms in message.sender_stage_ms[:MAX_STAGES]],
            message.shed[:MAX_NAME_CHARS],
            message.sender_skipped,
        ]
    elif isinstance(message, KeyframeChunk):
        body = ["kf", message.index, message.number, message.total, message.data]
    else:
        body = ["fb", message.index, message.snr_db, message.delivered, message.keyframe_damaged]
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    if len(packed) > MAX_MESSAGE_BYTES:
        raise PayloadError(f"live message of {len(packed)} bytes exceeds {MAX_MESSAGE_BYTES}")
    return packed


def _int(value: Any, what: str, low: int = 0, high: int = 2**53) -> int:
    if type(value) is not int or not low <= value <= high:
        raise PayloadError(f"live message: bad {what}")
    return int(value)


def _float(value: Any, what: str) -> float:
    if type(value) not in (int, float) or value != value:  # NaN is not equal to itself
        raise PayloadError(f"live message: bad {what}")
    return float(value)


def _bool(value: Any, what: str) -> bool:
    if type(value) is not bool:
        raise PayloadError(f"live message: bad {what}")
    return bool(value)


def _bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise PayloadError(f"live message: bad {what}")
    return value


def _shed(value: Any) -> str:
    if value not in ("", "light"):
        raise PayloadError("live message: bad shed mark")
    return str(value)


def decode_message(data: bytes | str) -> LiveMessage:
    if not isinstance(data, bytes) or not 0 < len(data) <= MAX_MESSAGE_BYTES:
        raise PayloadError("live message: not bytes of an acceptable size")
    try:
        body = msgpack.unpackb(
            data,
            raw=False,
            max_bin_len=MAX_MESSAGE_BYTES,
            max_str_len=MAX_NAME_CHARS,
            max_array_len=max(MAX_SPANS, MAX_STAGES) + 16,
            max_map_len=0,
            max_ext_len=0,
        )
    except Exception as error:  # msgpack reports malformed input with many exception types
        raise PayloadError(f"live message: not msgpack ({type(error).__name__})") from None
    if not isinstance(body, list) or not body:
        raise PayloadError("live message: not an array")
    kind = body[0]
    if kind == "seg" and len(body) == 14:
        spans = body[3]
        if not isinstance(spans, list) or len(spans) > MAX_SPANS:
            raise PayloadError("live message: bad spans")
        checked = []
        for span in spans:
            if not isinstance(span, list) or len(span) != 2:
                raise PayloadError("live message: bad span")
            checked.append((_int(span[0], "span offset"), _int(span[1], "span length")))
        stages = body[11]
        if not isinstance(stages, list) or len(stages) > MAX_STAGES:
            raise PayloadError("live message: bad stage timings")
        timings = []
        for stage in stages:
            if not isinstance(stage, list) or len(stage) != 2 or not isinstance(stage[0], str):
                raise PayloadError("live message: bad stage timing")
            timings.append((stage[0], _float(stage[1], "stage time")))
        return SegmentMessage(
            index=_int(body[1], "index"),
            protected=_bytes(body[2], "protected bytes"),
            spans=tuple(checked),
            chunks=_int(body[4], "chunk count", 0, MAX_CHUNKS),
            captured_at=_float(body[5], "capture time"),
            snr_db=_float(body[6], "snr"),
            ber=_float(body[7], "ber"),
            time_on_air_s=_float(body[8], "time on air"),
            bit_errors=_int(body[9], "bit errors"),
            delivered=_bool(body[10], "delivered"),
            sender_stage_ms=tuple(timings),
            shed=_shed(body[12]),
            sender_skipped=_int(body[13], "skipped count"),
        )
    if kind == "kf" and len(body) == 5:
        total = _int(body[3], "chunk total", 1, MAX_CHUNKS)
        return KeyframeChunk(
            index=_int(body[1], "index"),
            number=_int(body[2], "chunk number", 0, total - 1),
            total=total,
            data=_bytes(body[4], "chunk data"),
        )
    if kind == "fb" and len(body) == 5:
        return FeedbackMessage(
            index=_int(body[1], "index"),
            snr_db=_float(body[2], "snr"),
            delivered=_bool(body[3], "delivered"),
            keyframe_damaged=_bool(body[4], "damage flag"),
        )
    raise PayloadError("live message: unknown kind or wrong length")


def split_payload(data: bytes, spans: tuple[tuple[int, int], ...]) -> tuple[bytes, list[bytes]]:
    """(protected bytes, keyframe chunks): the spans' bytes cut out and chunked in order."""
    protected = bytearray()
    symbols = bytearray()
    cursor = 0
    for offset, length in sorted(spans):
        protected += data[cursor:offset]
        symbols += data[offset : offset + length]
        cursor = offset + length
    protected += data[cursor:]
    chunks = [bytes(symbols[i : i + CHUNK_BYTES]) for i in range(0, len(symbols), CHUNK_BYTES)]
    return bytes(protected), chunks


def join_payload(
    protected: bytes, spans: tuple[tuple[int, int], ...], chunks: list[bytes | None]
) -> bytes:
    """Inverse of ``split_payload``; a missing chunk becomes zeros (its CRC will fail)."""
    total_symbols = sum(length for _, length in spans)
    symbols = bytearray()
    for chunk in chunks:
        symbols += chunk if chunk is not None else bytes(CHUNK_BYTES)
    symbols = symbols[:total_symbols].ljust(total_symbols, b"\0")
    data = bytearray()
    cursor = taken = 0
    for offset, length in sorted(spans):
        gap = offset - len(data)
        if gap < 0 or cursor + gap > len(protected):
            raise PayloadError("live message: spans do not fit the payload")
        data += protected[cursor : cursor + gap]
        cursor += gap
        data += symbols[taken : taken + length]
        taken += length
    data += protected[cursor:]
    return bytes(data)
