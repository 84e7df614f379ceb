"""One sender's call at the live receiver: its messages reassembled into segments
(``reassembly.py``), the receiver chain (the same one a file run uses), feedback to the sender,
and what the call shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection

from mirage_stream.compose import ReceiverChain, build_receiver_chain
from mirage_stream.errors import PayloadError
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link import Delivery
from mirage_stream.live.ice import selected_path
from mirage_stream.live.messages import (
    FeedbackMessage,
    KeyframeChunk,
    SegmentMessage,
    decode_message,
    encode_message,
)
from mirage_stream.live.reassembly import SegmentReassembly
from mirage_stream.live.stats import CallStats, SegmentShown
from mirage_stream.live.video import FrameFeed
from mirage_stream.pipeline import (
    LIVE_TRACE_HISTORY,
    Envelope,
    SegmentTrace,
    add_cpu,
    run_pipeline,
)
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.receiver.generators import Generator
from mirage_stream.records import (
    ArrivalRecord,
    DecodeRecord,
    GenerationRecord,
    LinkRecord,
    caption_of,
)
from mirage_stream.scheduling import PartyRunner
from mirage_stream.types import FrameArray, GeneratedSegment

log = logging.getLogger(__name__)

BEHIND_HOLD_S = 5.0  # a call shows "generation behind" this long after a segment was skipped


class LiveCall:
    """One sender's call: reassembly of the two channels, the receiver pipeline, feedback."""

    def __init__(
        self,
        number: int,
        pc: RTCPeerConnection,
        config: ReceiverConfig,
        generator: Generator | None = None,
        runner: PartyRunner | None = None,
    ) -> None:
        self.number = number
        self.runner = runner  # shared by the server's calls: the oldest segment's work first
        self.pc = pc
        self.config = config
        self.generator = generator  # shared by the server's calls; None: built from config
        self.feed = FrameFeed(config.width, config.height)
        self.stats = CallStats(call=number)
        self.captions: RTCDataChannel | None = None
        self.reassembly = SegmentReassembly(self._reassembled, label=f"call {number}")
        self._inbox: asyncio.Queue[Envelope[Delivery] | None] = asyncio.Queue(maxsize=8)
        self._feedback = FeedbackInbox()
        self._tasks: list[asyncio.Task[Any]] = []
        self._chain: ReceiverChain | None = None
        self._skipped_before_generation = 0  # inbox full, or the payload rejected at decode
        self._behind_until = 0.0
        self.keyframe: FrameArray | None = None  # the newest decoded keyframe, for the page
        self._page_seen: set[int] = set()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run_pipeline(), name=f"call-{self.number}-pipeline"),
            asyncio.create_task(self._send_feedback(), name=f"call-{self.number}-feedback"),
        ]

    @property
    def failed(self) -> bool:
        return self.stats.state == "failed"

    async def stop(self, drain_s: float = 10.0) -> None:
        """End the call: segments already received are still generated and played (up to
        ``drain_s``), then everything is cancelled and the peer connection closed."""
        if not self.failed:
            self.stats.state = "ending"
        pipeline = self._tasks[0] if self._tasks else None
        if pipeline is not None and not pipeline.done():
            with contextlib.suppress(asyncio.QueueFull):
                self._inbox.put_nowait(None)
            # wait() neither raises the task's outcome nor cancels it at the timeout.
            _, pending = await asyncio.wait({pipeline}, timeout=drain_s)
            if pending:
                log.warning("call %d: still generating after %.0f s; stopped", self.number, drain_s)
        for task in self._tasks:
            task.cancel()
        # Cancelled tasks end with CancelledError; the pipeline's own errors were logged and
        # recorded where they happened (_run_pipeline), so nothing is lost here.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if not self.failed:
            self.stats.state = "ended"
        self.stats.ended_at = time.time()
        await self.pc.close()

    # --- incoming messages ---------------------------------------------------------------

    def on_message(self, data: bytes | str) -> None:
        try:
            message = decode_message(data if isinstance(data, bytes) else b"")
        except PayloadError as error:
            log.warning("call %d: message rejected: %s", self.number, error)
            return
        if isinstance(message, SegmentMessage):
            self.stats.segments_received += 1
            self.stats.last_received_at = time.time()
            self.stats.state = "live"
            self.stats.sender_shed_light += message.shed == "light"
            self.stats.sender_shed_skipped = max(
                self.stats.sender_shed_skipped, message.sender_skipped
            )
            self.reassembly.add_segment(message)
        elif isinstance(message, KeyframeChunk):
            self.reassembly.add_chunk(message)

    def _reassembled(self, envelope: Envelope[Delivery]) -> None:
        data = envelope.item.data
        if data is None:
            self.stats.segments_lost += 1
        else:
            self.stats.payload_bytes += len(data)
        try:
            self._inbox.put_nowait(envelope)
        except asyncio.QueueFull:
            self._skipped_before_generation += 1
            self.refresh()

    # --- pipeline --------------------------------------------------------------------------

    async def _envelopes(self) -> Any:
        while True:
            envelope = await self._inbox.get()
            if envelope is None:
                return
            yield envelope

    async def _run_pipeline(self) -> None:
        """The call's receiver chain; an error ends the call, logged with its cause and shown
        as failed on the page and in /stats, while the server goes on serving."""
        try:
            chain = build_receiver_chain(
                self.config,
                self._feedback,
                live=True,
                generator=self.generator,
                runner=self.runner,
            )
            self._chain = chain
            result = await run_pipeline(
                self._envelopes(), chain.steps(), _CallSink(self), history=LIVE_TRACE_HISTORY
            )
        except Exception as error:
            log.error("call %d failed: %s", self.number, error, exc_info=error)
            self.stats.state = "failed"
            self.stats.error = f"{type(error).__name__}: {error}"
            await self.pc.close()  # the server ends the call on the state change
            return
        queue = chain.generation_queue
        self._skipped_before_generation += (
            result.dropped_total - queue.dropped.total - chain.generate.late_dropped
        )
        self.refresh()
        self.stats.captions_intact = chain.decode.captions_intact
        self.stats.cpu_ms = dict(result.cpu_ms)  # the segments dropped on the way too

    async def _send_feedback(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            channel = self.captions
            for item in self._feedback.drain():
                if channel is None or channel.readyState != "open":
                    continue
                message = FeedbackMessage(
                    item.segment_index, item.snr_db, item.delivered, item.keyframe_damaged
                )
                channel.send(encode_message(message))

    def refresh(self) -> None:
        """Bring the ICE path, the generation-queue figures and the skip count up to now."""
        self._note_path()
        if self._chain is None:
            return
        queue, stats = self._chain.generation_queue, self.stats
        skipped = (
            self._skipped_before_generation
            + queue.dropped.total
            + self._chain.generate.late_dropped
        )
        if skipped > stats.segments_skipped:
            self._behind_until = time.monotonic() + BEHIND_HOLD_S
        stats.segments_skipped = skipped
        stats.late_not_generated = self._chain.generate.late_dropped
        stats.generation_queue_depth = queue.depth
        stats.generation_queue_max = queue.max_depth
        stats.behind = queue.depth >= queue.capacity or time.monotonic() < self._behind_until

    def _note_path(self) -> None:
        """The candidate pair and round trip now (kept when the connection has gone)."""
        path = selected_path(self.pc)
        if path is not None:
            self.stats.connection = path.as_json()

    def played(self, segment: GeneratedSegment, trace: SegmentTrace) -> None:
        self._note_path()
        ahead_s = self.feed.push(segment.frames, segment.fps, segment.index, trace.captured_at)
        decoded = trace.record(DecodeRecord)
        if decoded is not None and decoded.keyframe_image is not None:
            self.keyframe = decoded.keyframe_image
        shown_at = time.time() + ahead_s
        stats = self.stats
        stats.segments_played += 1
        add_cpu(stats.cpu_ms, trace)
        stats.segments_cut_in_playout = self.feed.segments_cut
        if self._chain is not None:
            stats.captions_intact = self._chain.decode.captions_intact
            adapter = self._chain.generate.rate_adapter
            if adapter is not None:
                stats.generation_setting = adapter.setting.describe()
                cost = adapter.last_cost
                stats.generation_s_per_s = round(cost, 3) if cost is not None else None
                stats.generation_changes = adapter.change_count
        self.refresh()
        stats.raw_bytes += segment.frames.nbytes
        captured = trace.captured_at
        g2g = round(shown_at - captured, 3) if captured is not None else None
        if g2g is not None:
            stats.glass_to_glass_s.append(g2g)
        if segment.keyframe_damaged:
            stats.keyframes_damaged += 1
            # Decoded anyway (best effort) or replaced by the last intact one: either way a
            # picture; only a segment without one would show nothing of the sender's frame.
            stats.damaged_keyframes_decoded += decoded is not None and (
                decoded.keyframe_image is not None
            )
        carried, arrived = trace.record(LinkRecord), trace.record(ArrivalRecord)
        assert carried is not None  # every live segment comes with its link report
        link, generated = carried.report, trace.record(GenerationRecord)
        if generated is not None and generated.reenacted:
            stats.segments_reenacted += 1
            stats.first_reenacted_at = stats.first_reenacted_at or shown_at
        stats.last = SegmentShown(
            segment=segment.index,
            snr_db=round(link.snr_db, 2),
            ber=link.ber,
            payload_bytes=link.bits_sent // 8,
            time_on_air_ms=round(link.time_on_air_s * 1000, 3),
            glass_to_glass_s=g2g,
            sender_stage_ms={} if arrived is None else arrived.sender_stage_ms,
            stage_ms={name: round(ms, 1) for name, ms in trace.timings_ms.items()},
            queued_s=round(self.feed.queued_s, 2),
            caption=caption_of(trace) or "",
            prompt="" if generated is None else generated.prompt,
            notes=() if decoded is None else decoded.notes,
            generation_setting=None if generated is None else generated.setting,
            chunks_missing=0 if arrived is None else arrived.chunks_missing,
        )

    def shown_on_page(self, mark: int, shown_at: float) -> float | None:
        """A page saw the segment marked ``mark`` start at ``shown_at`` (its wall clock): the
        glass-to-glass latency measured in the page, when the segment is known."""
        start = self.feed.shown(mark, shown_at)
        if start is None or start.captured_at is None or start.index in self._page_seen:
            return None
        self._page_seen.add(start.index)
        if len(self._page_seen) > 256:  # a long call: only recent segments can be reported
            self._page_seen = {i for i in self._page_seen if i > start.index - 128}
        g2g = round(shown_at - start.captured_at, 3)
        self.stats.page_g2g_s.append(g2g)
        self.stats.page_first_shown_at = min(self.stats.page_first_shown_at or shown_at, shown_at)
        return g2g


@dataclass
class _CallSink:
    call: LiveCall

    async def consume(self, item: GeneratedSegment, trace: SegmentTrace) -> None:
        self.call.played(item, trace)

    async def close(self) -> None:
        return None
