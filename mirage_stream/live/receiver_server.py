"""The live receiver: an aiohttp server on loopback with token-protected WebRTC signaling, one
receiver pipeline per call, a playback page and a stats endpoint.

Routes: ``GET /`` the playback page; ``POST /offer`` a sender's SDP offer (bearer token), which
opens a call; ``POST /watch`` the page's offer for the generated video track (bearer token);
``GET /stats`` JSON (bearer token). A wrong or missing token is 401 before any peer connection
exists; a malformed body is 400. A sender that disconnects ends its call; the server keeps
serving and accepts the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from mirage_stream.errors import InputError, PayloadError
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link import Delivery
from mirage_stream.live.messages import (
    FeedbackMessage,
    KeyframeChunk,
    SegmentMessage,
    decode_message,
    encode_message,
    join_payload,
)
from mirage_stream.live.page import PLAYBACK_PAGE
from mirage_stream.live.video import FeedTrack, FrameFeed
from mirage_stream.pipeline import (
    BoundedQueue,
    DropPolicy,
    Envelope,
    SegmentTrace,
    Stage,
    run_pipeline,
)
from mirage_stream.receiver import DecodeStage, GenerateStage, KeyframeMotionGenerator
from mirage_stream.receiver.profile import ReceiverProfile
from mirage_stream.types import GeneratedSegment, LinkReport

log = logging.getLogger(__name__)

MAX_SDP_CHARS = 64 * 1024
KEYFRAME_GRACE_S = 0.25  # how long a segment waits for keyframe chunks still in flight
BEHIND_HOLD_S = 5.0  # a call shows "generation behind" this long after a segment was skipped
# Chunks may arrive before their segment's message; a peer that never sends that message must
# not grow memory without bound, so at most this many segments' chunks wait (oldest evicted).
MAX_PENDING_SEGMENTS = 16


@dataclass(frozen=True)
class ReceiverServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    width: int = 320
    height: int = 240
    profile: ReceiverProfile = field(default_factory=ReceiverProfile)
    generation_queue: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise InputError(f"--port must be in 0..65535, got {self.port}")
        if not self.token:
            raise InputError("the token must not be empty")
        # Even sizes: the video track is encoded as yuv420p.
        for name, value in (("width", self.width), ("height", self.height)):
            if not 16 <= value <= 4096 or value % 2:
                raise InputError(f"--{name} must be even and in 16..4096, got {value}")
        if self.generation_queue < 1:
            raise InputError(f"--generation-queue must be at least 1, got {self.generation_queue}")


@dataclass
class CallStats:
    """What the page and /stats show for one call."""

    call: int
    started_at: float = field(default_factory=time.time)
    state: str = "connecting"
    segments_received: int = 0
    segments_played: int = 0
    segments_lost: int = 0  # payload lost on the link (every try failed)
    segments_skipped: int = 0  # generation fell behind, or a payload was rejected
    keyframes_damaged: int = 0
    captions_intact: int = 0  # payloads decoded with the caption's CRC holding
    payload_bytes: int = 0
    raw_bytes: int = 0
    glass_to_glass_s: list[float] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)
    generation_queue_depth: int = 0  # now
    generation_queue_max: int = 0  # the deepest it has been
    behind: bool = False  # the generation queue is full, or skipped a segment lately

    def as_json(self) -> dict[str, Any]:
        g2g = sorted(self.glass_to_glass_s)
        return {
            "call": self.call,
            "state": self.state,
            "segments_received": self.segments_received,
            "segments_played": self.segments_played,
            "segments_lost": self.segments_lost,
            "segments_skipped": self.segments_skipped,
            "keyframes_damaged": self.keyframes_damaged,
            "captions_intact": self.captions_intact,
            "payload_bytes": self.payload_bytes,
            "data_speedup": round(self.raw_bytes / self.payload_bytes, 1)
            if self.payload_bytes
            else None,
            "g2g_p50_s": g2g[len(g2g) // 2] if g2g else None,
            "g2g_max_s": g2g[-1] if g2g else None,
            "generation_queue_depth": self.generation_queue_depth,
            "generation_queue_max": self.generation_queue_max,
            "behind": self.behind,
            "last": self.last,
        }


class LiveCall:
    """One sender's call: reassembly of the two channels, the receiver pipeline, feedback."""

    def __init__(
        self,
        number: int,
        pc: RTCPeerConnection,
        config: ReceiverServerConfig,
    ) -> None:
        self.number = number
        self.pc = pc
        self.config = config
        self.feed = FrameFeed(config.width, config.height)
        self.stats = CallStats(call=number)
        self.captions: RTCDataChannel | None = None
        self._segments: dict[int, SegmentMessage] = {}
        self._chunks: dict[int, dict[int, bytes]] = {}
        self._delivered: set[int] = set()
        self._inbox: asyncio.Queue[Envelope[Delivery] | None] = asyncio.Queue(maxsize=8)
        self._feedback = FeedbackInbox()
        self._tasks: list[asyncio.Task[Any]] = []
        self._generation_queue: BoundedQueue | None = None
        self._skipped_before_generation = 0  # inbox full, or the payload rejected at decode
        self._behind_until = 0.0

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run_pipeline(), name=f"call-{self.number}-pipeline"),
            asyncio.create_task(self._send_feedback(), name=f"call-{self.number}-feedback"),
        ]

    async def stop(self, drain_s: float = 10.0) -> None:
        """End the call: segments already received are still generated and played (up to
        ``drain_s``), then everything is cancelled and the peer connection closed."""
        self.stats.state = "ending"
        pipeline = self._tasks[0] if self._tasks else None
        if pipeline is not None and not pipeline.done():
            with contextlib.suppress(asyncio.QueueFull):
                self._inbox.put_nowait(None)
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(pipeline), drain_s)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.stats.state = "ended"
        await self.pc.close()

    # --- incoming messages ---------------------------------------------------------------

    @property
    def segments_waiting_for_chunks(self) -> int:
        return len(self._chunks)

    def on_message(self, data: bytes | str) -> None:
        try:
            message = decode_message(data if isinstance(data, bytes) else b"")
        except PayloadError as error:
            log.warning("call %d: message rejected: %s", self.number, error)
            return
        if isinstance(message, SegmentMessage):
            self._segments[message.index] = message
            self.stats.segments_received += 1
            self.stats.state = "live"
            if self._complete(message.index) or message.chunks == 0:
                self._deliver(message.index)
            else:
                asyncio.get_running_loop().call_later(
                    KEYFRAME_GRACE_S, self._deliver, message.index
                )
        elif isinstance(message, KeyframeChunk):
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
            return
        chunks = self._chunks.pop(index, {})
        self._delivered.add(index)
        if len(self._delivered) > 256:
            self._delivered = {i for i in self._delivered if i > index - 128}
        data: bytes | None = None
        if segment.delivered:
            try:
                data = join_payload(
                    segment.protected, segment.spans, [chunks.get(i) for i in range(segment.chunks)]
                )
            except PayloadError as error:
                log.warning("call %d segment %d: %s", self.number, index, error)
        report = LinkReport(
            snr_db=segment.snr_db,
            ber=segment.ber,
            bits_sent=8 * (len(data) if data else len(segment.protected)),
            bits_exposed=8 * sum(length for _, length in segment.spans),
            bit_errors=segment.bit_errors,
            time_on_air_s=segment.time_on_air_s,
            delivered=data is not None,
        )
        trace = SegmentTrace(index=index)
        trace.facts["captured_at"] = segment.captured_at
        trace.facts["link"] = report
        trace.facts["chunks_missing"] = segment.chunks - len(chunks)
        trace.facts["sender_stage_ms"] = dict(segment.sender_stage_ms)
        if data is None:
            self.stats.segments_lost += 1
        else:
            self.stats.payload_bytes += len(data)
        envelope = Envelope(Delivery(data=data, report=report), trace)
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
        decode = DecodeStage(
            width=self.config.width, height=self.config.height, feedback=self._feedback
        )
        generate = GenerateStage(
            KeyframeMotionGenerator(),
            self.config.profile,
            width=self.config.width,
            height=self.config.height,
        )
        self._decode = decode
        stages: list[Stage] = [decode, generate]
        generation_queue = BoundedQueue(
            self.config.generation_queue,
            DropPolicy.DROP_OLDEST,
            drop_reason="skipped: generation fell behind and a newer segment was waiting",
        )
        self._generation_queue = generation_queue
        result = await run_pipeline(
            self._envelopes(), stages, _CallSink(self), inboxes={1: generation_queue}
        )
        self._skipped_before_generation += len(result.dropped) - len(generation_queue.dropped)
        self.refresh()
        self.stats.captions_intact = decode.captions_intact

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
        """Bring the generation-queue figures and the skip count up to now."""
        queue, stats = self._generation_queue, self.stats
        if queue is None:
            return
        skipped = self._skipped_before_generation + len(queue.dropped)
        if skipped > stats.segments_skipped:
            self._behind_until = time.monotonic() + BEHIND_HOLD_S
        stats.segments_skipped = skipped
        stats.generation_queue_depth = queue.depth
        stats.generation_queue_max = queue.max_depth
        stats.behind = queue.depth >= queue.capacity or time.monotonic() < self._behind_until

    def played(self, segment: GeneratedSegment, trace: SegmentTrace) -> None:
        ahead_s = self.feed.push(segment.frames, segment.fps)
        shown_at = time.time() + ahead_s
        stats = self.stats
        stats.segments_played += 1
        stats.captions_intact = self._decode.captions_intact
        self.refresh()
        stats.raw_bytes += segment.frames.nbytes
        captured = trace.facts.get("captured_at")
        g2g = round(shown_at - captured, 3) if isinstance(captured, float) else None
        if g2g is not None:
            stats.glass_to_glass_s.append(g2g)
        if segment.keyframe_damaged:
            stats.keyframes_damaged += 1
        link: LinkReport = trace.facts["link"]
        stats.last = {
            "segment": segment.index,
            "snr_db": round(link.snr_db, 2),
            "ber": link.ber,
            "payload_bytes": link.bits_sent // 8,
            "time_on_air_ms": round(link.time_on_air_s * 1000, 3),
            "glass_to_glass_s": g2g,
            "sender_stage_ms": trace.facts.get("sender_stage_ms", {}),
            "stage_ms": {name: round(ms, 1) for name, ms in trace.timings_ms.items()},
            "queued_s": round(self.feed.queued_s, 2),
            "caption": trace.facts.get("prompt", ""),
        }


@dataclass
class _CallSink:
    call: LiveCall

    async def consume(self, item: GeneratedSegment, trace: SegmentTrace) -> None:
        self.call.played(item, trace)

    async def close(self) -> None:
        return None


class ReceiverServer:
    """The aiohttp application and the calls it holds."""

    def __init__(self, config: ReceiverServerConfig) -> None:
        self.config = config
        self.idle_feed = FrameFeed(config.width, config.height)
        self.calls: dict[int, LiveCall] = {}
        self.ended: list[CallStats] = []
        self.watchers: set[RTCPeerConnection] = set()
        self.peer_connections_created = 0
        self._numbers = itertools.count(1)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=2 * MAX_SDP_CHARS)
        app.add_routes(
            [
                web.get("/", self.page),
                web.post("/offer", self.offer),
                web.post("/watch", self.watch),
                web.get("/stats", self.stats),
            ]
        )
        app.on_shutdown.append(self._shutdown)
        return app

    def current_feed(self) -> FrameFeed:
        """What the page shows: the newest call, or a waiting picture when there is none."""
        if not self.calls:
            return self.idle_feed
        return self.calls[max(self.calls)].feed

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        return bool(given) and hmac.compare_digest(given.encode(), self.config.token.encode())

    async def _session(self, request: web.Request) -> RTCSessionDescription:
        if not self._authorised(request):
            raise web.HTTPUnauthorized(text="missing or wrong bearer token\n")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            raise web.HTTPBadRequest(
                text='body must be JSON: {"sdp": ..., "type": "offer"}\n'
            ) from None
        if (
            not isinstance(body, dict)
            or body.get("type") != "offer"
            or not isinstance(body.get("sdp"), str)
            or not 0 < len(body["sdp"]) <= MAX_SDP_CHARS
        ):
            raise web.HTTPBadRequest(text='body must be {"sdp": "<offer>", "type": "offer"}\n')
        return RTCSessionDescription(sdp=body["sdp"], type="offer")

    async def _answer(self, pc: RTCPeerConnection, offer: RTCSessionDescription) -> dict[str, str]:
        try:
            await pc.setRemoteDescription(offer)
        except (ValueError, TypeError) as error:
            await pc.close()
            raise web.HTTPBadRequest(text=f"offer rejected: {error}\n") from None
        await pc.setLocalDescription(await pc.createAnswer())
        local = pc.localDescription
        return {"sdp": local.sdp, "type": local.type}

    async def offer(self, request: web.Request) -> web.Response:
        description = await self._session(request)
        pc = RTCPeerConnection()
        self.peer_connections_created += 1
        call = LiveCall(next(self._numbers), pc, self.config)
        self.calls[call.number] = call

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label == "captions":
                call.captions = channel
            channel.on("message", call.on_message)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._end(call)

        answer = await self._answer(pc, description)
        call.start()
        return web.json_response({**answer, "call": call.number})

    async def _end(self, call: LiveCall) -> None:
        if self.calls.pop(call.number, None) is None:
            return
        await call.stop()
        self.ended.append(call.stats)

    async def watch(self, request: web.Request) -> web.Response:
        description = await self._session(request)
        pc = RTCPeerConnection()
        self.peer_connections_created += 1
        self.watchers.add(pc)
        pc.addTrack(FeedTrack(self.current_feed))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self.watchers.discard(pc)
                await pc.close()

        return web.json_response(await self._answer(pc, description))

    async def stats(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            raise web.HTTPUnauthorized(text="missing or wrong bearer token\n")
        for call in self.calls.values():
            call.refresh()
        calls = [call.stats.as_json() for call in self.calls.values()]
        state = "live" if any(c["state"] == "live" for c in calls) else "waiting for a call"
        if state == "live" and any(c["behind"] for c in calls):
            state = "live, generation behind"
        return web.json_response(
            {
                "state": state,
                "calls": calls,
                "ended_calls": [stats.as_json() for stats in self.ended[-8:]],
                "frames_dropped": sum(call.feed.frames_dropped for call in self.calls.values()),
                "watchers": len(self.watchers),
            }
        )

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=PLAYBACK_PAGE, content_type="text/html")

    async def _shutdown(self, app: web.Application) -> None:
        for call in list(self.calls.values()):
            await self._end(call)
        for pc in list(self.watchers):
            await pc.close()
        self.watchers.clear()


async def serve(config: ReceiverServerConfig) -> tuple[ReceiverServer, web.AppRunner, int]:
    """Start the server; returns it, its runner (``await runner.cleanup()`` to stop) and the
    port it listens on (useful with port 0)."""
    server = ReceiverServer(config)
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    port = config.port
    for address in runner.addresses:  # the real port when config.port is 0
        port = int(address[1])
        break
    return server, runner, port


def write_token(path: Path, token: str) -> None:
    path.write_text(token + "\n")
    path.chmod(0o600)
