"""The sender's camera page: the browser's camera (``getUserMedia``) sent over a loopback WebRTC
connection to this process, which cuts it into segments and runs the sender pipeline and
channel_sim exactly as for a file, then sends each segment to the receiver.

Routes (all under ``/send/``, so a two-way call can serve them beside the receiver's):
``GET /send/`` the page; ``POST /send/camera`` the page's SDP offer with its camera track
(bearer token; a reload's new offer replaces the old connection); ``GET /send/status`` what is
being sent and the path to the receiver, as JSON (bearer token); ``GET /send/ice`` the ICE
servers the page connects with (bearer token: it holds TURN credentials);
``GET /send/keyframe.jpg`` the newest keyframe decoded as
the receiver will decode it, channel damage included (bearer token).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web
from aiortc import MediaStreamTrack, RTCPeerConnection

from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link import Delivery
from mirage_stream.link.config import ChannelConfig
from mirage_stream.live.sender_client import send_over
from mirage_stream.live.signaling import (
    MAX_SDP_CHARS,
    OfferRateLimit,
    answer_offer,
    read_offer,
    require_token,
    same_origin_only,
    script_route,
    static_text,
)
from mirage_stream.live.uplink import Uplink, UplinkConfig
from mirage_stream.live.video import encode_jpeg
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.receiver import DecodeStage
from mirage_stream.records import SenderRecord, source_of
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.track_source import TrackSegments, TrackSegmentsConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SenderPageConfig:
    """The page's token, where its segments go, and the sender and channel they go through."""

    token: str
    uplink: UplinkConfig
    segments: TrackSegmentsConfig = field(default_factory=TrackSegmentsConfig)
    sender: SenderConfig = field(default_factory=SenderConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)


@dataclass(frozen=True)
class SegmentSent:
    """The newest segment as the page shows it: as sent, or why it was not."""

    segment: int
    dropped: str | None = None  # why it was not sent; the other fields then stay unset
    caption: str | None = None
    payload_bytes: int | None = None
    snr_db: float | None = None
    ber: float | None = None
    time_on_air_ms: float | None = None
    delivered: bool | None = None
    keyframes: int | None = None
    stage_ms: dict[str, float] | None = None

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class SentStatus:
    """What the page shows: counts, and the newest segment as sent."""

    segments_sent: int = 0
    segments_unsent: int = 0
    payload_bytes: int = 0
    raw_bytes: int = 0  # the camera's frames as raw RGB at its own size, for the speed-up
    last: SegmentSent | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "segments_sent": self.segments_sent,
            "segments_unsent": self.segments_unsent,
            # Against the camera's own frames; /stats' data_speedup is against the working size.
            "camera_speedup": round(self.raw_bytes / self.payload_bytes, 1)
            if self.payload_bytes
            else None,
            "last": {} if self.last is None else self.last.as_json(),
        }


class SenderPage:
    """The camera page's routes, the camera connection and the sending task."""

    def __init__(self, config: SenderPageConfig) -> None:
        self.config = config
        self.camera = TrackSegments(config.segments)
        self.status = SentStatus()
        self.keyframe_jpeg: bytes | None = None
        self.result: dict[str, Any] | None = None
        # The receiver's decode, run here on what the channel delivered: the page shows the
        # keyframe as the far end will see it.
        self._preview = DecodeStage(width=config.segments.width, height=config.segments.height)
        self.uplink = Uplink(config.uplink, FeedbackInbox())
        self._pc: RTCPeerConnection | None = None
        self._task: asyncio.Task[dict[str, Any]] | None = None
        self._offer_limit = OfferRateLimit()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/send/", self.page),
            web.get("/send/send.js", script_route("send.js")),
            web.get("/send/pages.js", script_route("pages.js")),
            web.post("/send/camera", self.offer),
            web.get("/send/status", self.status_json),
            web.get("/send/ice", self.ice),
            web.get("/send/keyframe.jpg", self.keyframe),
        ]

    def start(self) -> None:
        """Start sending: segments flow once the page's camera track arrives."""
        config = self.config
        self._task = asyncio.create_task(
            send_over(
                self.camera.envelopes(),
                self.uplink,
                config.sender,
                config.channel,
                on_sent=self._sent,
            ),
            name="camera-page-sender",
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                self.result = await self._task
        if self._pc is not None:
            await self._pc.close()

    async def _sent(self, delivery: Delivery, trace: SegmentTrace, sent: bool) -> None:
        status = self.status
        if not sent:
            status.segments_unsent += 1
            status.last = SegmentSent(trace.index, dropped=trace.dropped)
            return
        status.segments_sent += 1
        decoded = await asyncio.to_thread(self._preview.decode, delivery, SegmentTrace(trace.index))
        if decoded is not None:
            image = decoded.keyframes[-1][1]
            self.keyframe_jpeg = await asyncio.to_thread(encode_jpeg, image)
        report = delivery.report
        payload = len(delivery.data) if delivery.data is not None else 0
        status.payload_bytes += payload
        source = source_of(trace)
        if source is not None and self.camera.source_size is not None:
            width, height = self.camera.source_size
            status.raw_bytes += width * height * 3 * len(source.frames)
        described = trace.record(SenderRecord)
        status.last = SegmentSent(
            segment=trace.index,
            caption="" if described is None else described.caption,
            payload_bytes=payload,
            snr_db=round(report.snr_db, 2),
            ber=report.ber,
            time_on_air_ms=round(report.time_on_air_s * 1000, 3),
            delivered=report.delivered,
            keyframes=0 if described is None else len(described.keyframe_indices),
            stage_ms={name: round(ms, 1) for name, ms in trace.timings_ms.items()},
        )

    # --- routes -----------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=static_text("send.html"), content_type="text/html")

    async def offer(self, request: web.Request) -> web.Response:
        require_token(request, self.config.token)
        self._offer_limit.check(request)  # every attempt counts, well formed or not
        description = await read_offer(request, self.config.token, "video")
        if self._pc is not None:  # a reload: the old page's connection goes
            await self._pc.close()
        pc = self._pc = self.config.uplink.ice.peer_connection()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self.camera.attach(track)

        return web.json_response(await answer_offer(pc, description))

    async def status_json(self, request: web.Request) -> web.Response:
        require_token(request, self.config.token)
        camera = self.camera
        started = camera.camera_started_at
        return web.json_response(
            {
                "camera": camera.state,
                "camera_started_at": started,
                "camera_size": camera.source_size,
                "frames_received": camera.frames_received,
                "receiver": self.config.uplink.url,
                "connection": None if (path := self.uplink.path()) is None else path.as_json(),
                "sending_for_s": round(time.time() - started, 1) if started else None,
                "failed": None if self._task is None or not self._task.done() else _why(self._task),
                **self.status.as_json(),
            }
        )

    async def ice(self, request: web.Request) -> web.Response:
        require_token(request, self.config.token)
        return web.json_response(self.config.uplink.ice.page_json())

    async def keyframe(self, request: web.Request) -> web.Response:
        require_token(request, self.config.token)
        if self.keyframe_jpeg is None:
            raise web.HTTPNotFound(text="no keyframe sent yet\n")
        return web.Response(body=self.keyframe_jpeg, content_type="image/jpeg")


def _why(task: asyncio.Task[Any]) -> str | None:
    """A finished sending task's error, for the page (None when it ended cleanly)."""
    if task.cancelled():
        return None
    error = task.exception()
    return None if error is None else f"{type(error).__name__}: {error}"


async def serve_sender_page(
    config: SenderPageConfig, host: str = "127.0.0.1", port: int = 8090
) -> tuple[SenderPage, web.AppRunner, int]:
    """The camera page on its own server (a one-way call's sending end); returns the page, its
    runner (``await runner.cleanup()`` stops both) and the port it listens on."""
    page = SenderPage(config)
    app = web.Application(client_max_size=2 * MAX_SDP_CHARS, middlewares=[same_origin_only])
    app.add_routes(page.routes())

    async def stop_page(app: web.Application) -> None:
        await page.stop()

    app.on_shutdown.append(stop_page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound = next((int(address[1]) for address in runner.addresses), port)
    page.start()
    return page, runner, bound
