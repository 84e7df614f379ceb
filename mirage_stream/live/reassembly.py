"""A sender's two data channels put back together into segments.

A segment's message travels reliably, its keyframe chunks unreliably, in any order: chunks may
come before or after their message. A segment waits ``KEYFRAME_GRACE_S`` for missing chunks,
which then count as damage; chunks whose message never comes are kept for at most
``MAX_PENDING_SEGMENTS`` segments (oldest evicted), so a peer cannot grow memory without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from mirage_stream.errors import PayloadError
from mirage_stream.link import Delivery
from mirage_stream.live.messages import KeyframeChunk, SegmentMessage, join_payload
from mirage_stream.pipeline import Envelope, SegmentTrace
from mirage_stream.records import ArrivalRecord, LinkRecord
from mirage_stream.types import LinkReport

log = logging.getLogger(__name__)

KEYFRAME_GRACE_S = 0.25  # how long a segment waits for keyframe chunks still in flight
MAX_PENDING_SEGMENTS = 16
_DELIVERED_KEPT = 256  # indices remembered, so that chunks arriving late are dropped


class SegmentReassembly:
    """Hands each whole (or timed-out) segment to ``deliver`` as the receiver chain's input."""

    def __init__(self, deliver: Callable[[Envelope[Delivery]], None], label: str = "") -> None:
        self._deliver_to = deliver
        self._label = label  # "call N", for the log
        self._segments: dict[int, SegmentMessage] = {}
        self._chunks: dict[int, dict[int, bytes]] = {}
        self._delivered: set[int] = set()

    @property
    def waiting_for_chunks(self) -> int:
        """Segments whose chunks are held for a message still to come."""
        return len(self._chunks)

    def add_segment(self, message: SegmentMessage) -> None:
        self._segments[message.index] = message
        if self._complete(message.index) or message.chunks == 0:
            self._deliver(message.index)
        else:
            asyncio.get_running_loop().call_later(KEYFRAME_GRACE_S, self._deliver, message.index)

    def add_chunk(self, message: KeyframeChunk) -> None:
        if message.index in self._delivered:
            return  # too late: the segment went on without it
        self._chunks.setdefault(message.index, {})[message.number] = message.data
        while len(self._chunks) > MAX_PENDING_SEGMENTS:
            del self._chunks[min(self._chunks)]
        if message.index in self._segments and self._complete(message.index):
            self._deliver(message.index)

    def _complete(self, index: int) -> bool:
        segment = self._segments.get(index)
        return segment is not None and len(self._chunks.get(index, {})) >= segment.chunks

    def _deliver(self, index: int) -> None:
        segment = self._segments.pop(index, None)
        if segment is None:
            return  # delivered already (complete before its grace ran out)
        chunks = self._chunks.pop(index, {})
        self._delivered.add(index)
        if len(self._delivered) > _DELIVERED_KEPT:
            self._delivered = {i for i in self._delivered if i > index - _DELIVERED_KEPT // 2}
        data: bytes | None = None
        if segment.delivered:
            try:
                data = join_payload(
                    segment.protected, segment.spans, [chunks.get(i) for i in range(segment.chunks)]
                )
            except PayloadError as error:
                log.warning("%s segment %d: %s", self._label, index, error)
        report = LinkReport(
            snr_db=segment.snr_db,
            ber=segment.ber,
            bits_sent=8 * (len(data) if data else len(segment.protected)),
            bits_exposed=8 * sum(length for _, length in segment.spans),
            bit_errors=segment.bit_errors,
            time_on_air_s=segment.time_on_air_s,
            delivered=data is not None,
        )
        trace = SegmentTrace(index=index, captured_at=segment.captured_at)
        trace.attach(LinkRecord(report))
        trace.attach(
            ArrivalRecord(
                sender_stage_ms=dict(segment.sender_stage_ms),
                chunks_missing=segment.chunks - len(chunks),
            )
        )
        self._deliver_to(Envelope(Delivery(data=data, report=report, spans=segment.spans), trace))
