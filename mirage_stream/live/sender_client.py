"""The live sender: a camera or a file paced as one, the sender pipeline, channel_sim on the
bits, and the uplink (``uplink.py``) that sends each segment; the receiver's feedback feeds the
rate adapter. When the receiver goes away the sender keeps capturing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mirage_stream.compose import build_sender_chain
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link import Delivery
from mirage_stream.link.config import ChannelConfig
from mirage_stream.live.uplink import Uplink, UplinkConfig
from mirage_stream.pipeline import (
    LIVE_TRACE_HISTORY,
    DropPolicy,
    Envelope,
    SegmentTrace,
    run_pipeline,
)
from mirage_stream.player import PlaybackClock
from mirage_stream.scheduling import PartyRunner
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.load_shed import ShedCounts
from mirage_stream.sources.config import InputConfig
from mirage_stream.sources.stream import SegmentStream
from mirage_stream.types import VideoSegment

log = logging.getLogger(__name__)


SentHook = Callable[[Delivery, SegmentTrace, bool], Awaitable[None]]


@dataclass
class _UplinkSink:
    uplink: Uplink
    on_sent: SentHook | None = None  # the camera page's view of what was sent

    async def consume(self, item: Delivery, trace: SegmentTrace) -> None:
        sent = await self.uplink.send(item, trace)
        if self.on_sent is not None:
            await self.on_sent(item, trace, sent)

    async def close(self) -> None:
        await self.uplink.flush()
        await self.uplink.close()


@dataclass(frozen=True)
class LiveSenderConfig:
    """A live sender: where it sends, what it reads, what it sends and through which channel."""

    uplink: UplinkConfig
    input: InputConfig
    sender: SenderConfig = field(default_factory=SenderConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    total_seconds: float | None = None  # of video in all, loops included
    pace: float = 1.0  # media seconds sent per second: above 1 only for load tests


async def send_segments(
    segments: AsyncIterator[Envelope[VideoSegment]],
    uplink_config: UplinkConfig,
    sender: SenderConfig,
    channel: ChannelConfig,
    on_sent: SentHook | None = None,
    runner: PartyRunner | None = None,
) -> dict[str, Any]:
    """The sender pipeline and channel_sim on ``segments``, sent to the receiver until they end
    (a file) or the task is cancelled (a camera); returns counts."""
    return await send_over(
        segments, Uplink(uplink_config, FeedbackInbox()), sender, channel, on_sent, runner
    )


async def send_over(
    segments: AsyncIterator[Envelope[VideoSegment]],
    uplink: Uplink,
    sender: SenderConfig,
    channel: ChannelConfig,
    on_sent: SentHook | None = None,
    runner: PartyRunner | None = None,
) -> dict[str, Any]:
    """``send_segments`` over an uplink the caller holds (the camera page shows its path).
    ``runner``: where the stages' work runs (the server's, when it sends too)."""
    chain = build_sender_chain(sender, channel, uplink.feedback, live=True, runner=runner)
    shedder = chain.sender.shedder
    if not await uplink.ensure_connected():
        log.warning("receiver not reachable yet; capturing anyway and retrying")
    # Live capture does not wait: a sender that falls behind drops its oldest waiting segment
    # (counted in segments_dropped) rather than send ever staler video.
    result = await run_pipeline(
        segments,
        chain.steps(),
        _UplinkSink(uplink, on_sent),
        policy=DropPolicy.DROP_OLDEST,
        history=LIVE_TRACE_HISTORY,
    )
    shed = shedder.counts if shedder is not None else ShedCounts()
    return {
        "call": uplink.call,
        "segments_sent": uplink.counts.segments_sent,
        "segments_unsent": uplink.counts.segments_unsent,
        "segments_dropped": result.dropped_total,
        "reconnects": uplink.counts.reconnects,
        "keyframe_chunks_unsent": uplink.counts.keyframe_chunks_unsent,
        # Of segments_dropped, those the sender shed for lateness; and those sent lightened.
        "segments_shed": shed.skipped,
        "segments_light": shed.light,
        # CPU milliseconds by stage (``SegmentTrace.cpu_ms``) over every segment captured.
        "cpu_ms": result.cpu_ms,
    }


async def run_live_sender(
    config: LiveSenderConfig, runner: PartyRunner | None = None
) -> dict[str, Any]:
    """Send a file paced as a camera (or a native camera) until it ends; returns counts.
    ``runner``: where the stages' work runs (a bench of many calls shares the server's)."""
    clock = PlaybackClock(speed=config.pace)
    stream = SegmentStream(config.input, pacer=clock, total_seconds=config.total_seconds)
    try:
        return await send_segments(
            stream.envelopes(), config.uplink, config.sender, config.channel, runner=runner
        )
    finally:
        stream.close()
