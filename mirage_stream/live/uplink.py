"""The live sender's WebRTC transport: one peer connection to the receiver with two data
channels, the payload's protected part on the reliable ``captions`` channel and its keyframe
symbols on the unreliable ``keyframes`` channel, paced on ``bufferedAmount`` (an unreliable
channel flooded without pacing drops messages silently). The receiver's feedback comes back on
``captions``. When the receiver goes away, segments that cannot be sent are dropped with the
reason and the uplink reconnects when the next one is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import aiohttp
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from mirage_stream.errors import InputError, PayloadError
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link import Delivery
from mirage_stream.live.ice import IceConfig, IcePath, selected_path
from mirage_stream.live.messages import (
    FeedbackMessage,
    KeyframeChunk,
    SegmentMessage,
    decode_message,
    encode_message,
    split_payload,
)
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.records import SenderRecord
from mirage_stream.types import ChannelFeedback

log = logging.getLogger(__name__)

MAX_BUFFERED_BYTES = 64 * 1024  # keyframe chunks wait while more than this is queued
CONNECT_TIMEOUT_S = 10.0
PACING_TIMEOUT_S = 2.0  # a send buffer that stays full this long means the path is gone


@dataclass(frozen=True)
class UplinkConfig:
    url: str
    token: str
    reconnect_s: float = 1.0
    ice: IceConfig = field(default_factory=IceConfig)


@dataclass
class UplinkCounts:
    segments_sent: int = 0
    segments_unsent: int = 0  # no connection when the segment was ready
    reconnects: int = 0
    keyframe_chunks_unsent: int = 0  # the send buffer stayed full: the receiver sees damage


class Uplink:
    """The sender's peer connection and its two channels."""

    def __init__(self, config: UplinkConfig, feedback: FeedbackInbox) -> None:
        self.config = config
        self.feedback = feedback
        self.counts = UplinkCounts()
        self.call: int | None = None
        self._pc: RTCPeerConnection | None = None
        self._captions: RTCDataChannel | None = None
        self._keyframes: RTCDataChannel | None = None
        self._next_attempt = 0.0

    @property
    def connected(self) -> bool:
        return (
            self._pc is not None
            and self._pc.connectionState not in ("failed", "closed")
            and self._captions is not None
            and self._captions.readyState == "open"
        )

    async def connect(self) -> None:
        """Offer, get the answer with the token, wait until both channels are open."""
        await self.close()
        pc = self.config.ice.peer_connection()
        captions = pc.createDataChannel("captions")
        keyframes = pc.createDataChannel("keyframes", ordered=False, maxRetransmits=0)
        keyframes.bufferedAmountLowThreshold = MAX_BUFFERED_BYTES  # wakes the pacing
        opened = [asyncio.Event(), asyncio.Event()]
        captions.on("open", opened[0].set)
        keyframes.on("open", opened[1].set)
        captions.on("message", self._on_message)
        self._pc, self._captions, self._keyframes = pc, captions, keyframes
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}
        headers = {"Authorization": f"Bearer {self.config.token}"}
        timeout = aiohttp.ClientTimeout(total=CONNECT_TIMEOUT_S)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(f"{self.config.url}/offer", json=offer, headers=headers) as reply,
        ):
            if reply.status == 401:
                raise InputError("the receiver refused the token (401)")
            if reply.status != 200:
                raise ConnectionError(f"receiver answered {reply.status}: {await reply.text()}")
            answer = await reply.json()
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        self.call = int(answer.get("call", 0))
        await asyncio.wait_for(
            asyncio.gather(*(event.wait() for event in opened)), CONNECT_TIMEOUT_S
        )

    def path(self) -> IcePath | None:
        """The candidate pair the connection to the receiver took (None when not connected)."""
        return selected_path(self._pc) if self.connected and self._pc is not None else None

    def _on_message(self, data: bytes | str) -> None:
        try:
            message = decode_message(data if isinstance(data, bytes) else b"")
        except PayloadError as error:
            log.warning("feedback rejected: %s", error)
            return
        if isinstance(message, FeedbackMessage):
            self.feedback.post(
                ChannelFeedback(
                    message.index, message.snr_db, message.delivered, message.keyframe_damaged
                )
            )

    async def ensure_connected(self) -> bool:
        if self.connected:
            return True
        now = time.monotonic()
        if now < self._next_attempt:
            return False
        self._next_attempt = now + self.config.reconnect_s
        try:
            await self.connect()
        except (OSError, ConnectionError, TimeoutError, aiohttp.ClientError) as error:
            log.warning("receiver not reachable at %s: %s", self.config.url, error)
            await self.close()
            return False
        self.counts.reconnects += 1
        return True

    async def send(self, delivery: Delivery, trace: SegmentTrace) -> bool:
        """Send one segment; False (and the trace says why) when there is no connection."""
        if not await self.ensure_connected():
            trace.dropped = "not sent: no connection to the receiver"
            self.counts.segments_unsent += 1
            return False
        assert self._captions is not None and self._keyframes is not None
        report = delivery.report
        described = trace.record(SenderRecord)
        spans = delivery.spans
        chunks: list[bytes] = []
        if delivery.data is None:
            protected, spans = b"", ()
        else:
            protected, chunks = split_payload(delivery.data, spans)
        message = SegmentMessage(
            index=trace.index,
            protected=protected,
            spans=spans,
            chunks=len(chunks),
            captured_at=trace.captured_at if trace.captured_at is not None else time.time(),
            snr_db=report.snr_db,
            ber=report.ber,
            time_on_air_s=report.time_on_air_s,
            bit_errors=report.bit_errors,
            delivered=delivery.data is not None,
            sender_stage_ms=tuple((name, round(ms, 1)) for name, ms in trace.timings_ms.items()),
            shed=described.shed if described is not None else "",
            sender_skipped=described.shed_skipped if described is not None else 0,
        )
        try:
            for number, chunk in enumerate(chunks):
                if not await self._paced(self._keyframes):
                    self.counts.keyframe_chunks_unsent += len(chunks) - number
                    break  # the receiver treats the missing chunks as damage
                self._keyframes.send(
                    encode_message(KeyframeChunk(trace.index, number, len(chunks), chunk))
                )
            self._captions.send(encode_message(message))
        except (ConnectionError, RuntimeError, OSError) as error:  # the channel closed under us
            trace.dropped = f"not sent: connection lost ({error})"
            self.counts.segments_unsent += 1
            return False
        self.counts.segments_sent += 1
        return True

    @staticmethod
    async def _paced(channel: RTCDataChannel, timeout_s: float = PACING_TIMEOUT_S) -> bool:
        """Wait until the channel's send buffer has room; False if it stays full or closes.

        The channel's ``bufferedAmountLowThreshold`` is MAX_BUFFERED_BYTES, so its
        ``bufferedamountlow`` event says when there is room again (or ``close`` that there
        never will be)."""
        if channel.bufferedAmount <= MAX_BUFFERED_BYTES:
            return channel.readyState == "open"
        woken = asyncio.Event()
        channel.on("bufferedamountlow", woken.set)
        channel.on("close", woken.set)
        try:
            await asyncio.wait_for(woken.wait(), timeout_s)
        except TimeoutError:
            return False
        finally:
            channel.remove_listener("bufferedamountlow", woken.set)
            channel.remove_listener("close", woken.set)
        return channel.readyState == "open" and channel.bufferedAmount <= MAX_BUFFERED_BYTES

    async def flush(self, timeout_s: float = 3.0) -> None:
        """Wait until both channels have handed their queued messages to the network."""
        deadline = time.monotonic() + timeout_s
        for channel in (self._captions, self._keyframes):
            while (
                channel is not None
                and channel.readyState == "open"
                and channel.bufferedAmount > 0
                and time.monotonic() < deadline
            ):
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # SCTP acknowledgements

    async def close(self) -> None:
        if self._pc is not None:
            with contextlib.suppress(Exception):
                await self._pc.close()
        self._pc = self._captions = self._keyframes = None
