"""The live receiver's server: an aiohttp app on loopback with token-protected WebRTC
signaling, the playback page (static files) and a stats endpoint. Each sender's offer opens a
``LiveCall``; the call does the rest.

Routes: ``GET /`` the playback page; ``POST /offer`` a sender's SDP offer (bearer token), which
opens a call; ``POST /watch`` the page's offer for the generated video track (bearer token);
``GET /stats`` JSON, each call's ICE path included (bearer token); ``GET /ice`` the ICE
servers the page connects with (bearer token: it holds TURN credentials); ``GET /keyframe.jpg``
the newest call's keyframe as decoded (bearer token); ``POST /shown`` the page's report that a
segment appeared (bearer token). A two-way call adds the sender page's routes under ``/send/``
and both pages on one at ``/call``.
A wrong or missing token is 401 before any peer connection exists; a malformed body is 400.
A sender that disconnects ends its call, and a call whose pipeline fails is shown as failed;
either way the server keeps serving the next one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiortc import RTCDataChannel, RTCPeerConnection

from mirage_stream.errors import InputError
from mirage_stream.live.call import LiveCall
from mirage_stream.live.ice import IceConfig
from mirage_stream.live.memory import return_freed_frames_to_the_os
from mirage_stream.live.signaling import (
    MAX_SDP_CHARS,
    BodyError,
    OfferRateLimit,
    answer_offer,
    parse_shown_body,
    read_offer,
    require_token,
    same_origin_only,
    script_route,
    static_text,
)
from mirage_stream.live.stats import CallStats, server_state
from mirage_stream.live.video import FeedTrack, FrameFeed, encode_jpeg
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.receiver.generator_backends import build_generator, warm_up
from mirage_stream.scheduling import DeadlineExecutor, one_thread_per_library

log = logging.getLogger(__name__)

MAX_WATCHERS = 16  # playback pages at once
CONNECT_TIMEOUT_S = 20.0  # a call not connected by then is ended
Shutdown = Callable[[web.Application], Awaitable[None]]  # run when the server stops


@dataclass(frozen=True)
class ReceiverServerConfig:
    """Where the server listens, the token it asks for, and the receiver every call runs."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    receiver: ReceiverConfig = field(default_factory=ReceiverConfig)
    max_calls: int = 8  # calls at once; more are refused (503) until one ends
    offers_per_s: float = 2.0  # per client address, for /offer and /watch
    ice: IceConfig = field(default_factory=IceConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.max_calls <= 256:
            raise InputError(f"--max-calls must be in [1, 256], got {self.max_calls}")
        if not 0 <= self.port <= 65535:
            raise InputError(f"--port must be in 0..65535, got {self.port}")
        if not self.token:
            raise InputError("the token must not be empty")


class ReceiverServer:
    """The aiohttp application and the calls it holds."""

    def __init__(self, config: ReceiverServerConfig) -> None:
        self.config = config
        receiver = config.receiver
        # One generator for every call: a diffusion model is loaded once, at start-up, where a
        # bad model path fails before anyone connects.
        self.generator = build_generator(receiver.generator, receiver.generator_options)
        warmed_s = warm_up(self.generator, receiver.typical_segment())
        if warmed_s is not None:
            log.info("generator warmed up in %.1f s", warmed_s)
        self.idle_feed = FrameFeed(receiver.width, receiver.height)
        # Every call's stages run here, the oldest segment first: no call starves another.
        self.work = DeadlineExecutor(name="calls")
        self.calls: dict[int, LiveCall] = {}
        self.ended: list[CallStats] = []
        self.watchers: set[RTCPeerConnection] = set()
        self.peer_connections_created = 0
        self._numbers = itertools.count(1)
        self.offer_limit = OfferRateLimit(per_s=config.offers_per_s)
        self._pending: set[asyncio.Future[None]] = set()  # ends started from callbacks

    def app(
        self, extra_routes: Sequence[web.RouteDef] = (), on_shutdown: Sequence[Shutdown] = ()
    ) -> web.Application:
        app = web.Application(client_max_size=2 * MAX_SDP_CHARS, middlewares=[same_origin_only])
        app.add_routes(
            [
                web.get("/", self.page),
                web.post("/offer", self.offer),
                web.post("/watch", self.watch),
                web.get("/stats", self.stats),
                web.get("/ice", self.ice),
                web.get("/keyframe.jpg", self.keyframe),
                web.post("/shown", self.shown),
                web.get("/playback.js", script_route("playback.js")),
                web.get("/pages.js", script_route("pages.js")),
                *extra_routes,
            ]
        )
        app.on_shutdown.append(self._shutdown)
        app.on_shutdown.extend(on_shutdown)
        return app

    def current_feed(self) -> FrameFeed:
        """What the page shows: the newest call, or a waiting picture when there is none."""
        if not self.calls:
            return self.idle_feed
        return self.calls[max(self.calls)].feed

    async def offer(self, request: web.Request) -> web.Response:
        require_token(request, self.config.token)
        self.offer_limit.check(request)  # every attempt counts, well formed or not
        description = await read_offer(request, self.config.token, "application")
        if len(self.calls) >= self.config.max_calls:
            raise web.HTTPServiceUnavailable(
                text=f"this receiver holds {self.config.max_calls} calls already\n"
            )
        pc = self.config.ice.peer_connection()
        self.peer_connections_created += 1
        number = next(self._numbers)
        call = LiveCall(
            number,
            pc,
            self.config.receiver,
            self.generator,
            runner=self.work.party(("receiver", number)),
        )
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

        answer = await answer_offer(pc, description)
        call.start()
        asyncio.get_running_loop().call_later(CONNECT_TIMEOUT_S, lambda: self._unconnected(call))
        return web.json_response({**answer, "call": call.number})

    def _unconnected(self, call: LiveCall) -> None:
        """A call whose peer never connected is ended: it would hold a slot for nothing."""
        if call.number in self.calls and call.pc.connectionState != "connected":
            log.warning(
                "call %d: no connection after %.0f s; ended", call.number, CONNECT_TIMEOUT_S
            )
            ending = asyncio.ensure_future(self._end(call))
            self._pending.add(ending)
            ending.add_done_callback(self._pending.discard)

    async def _end(self, call: LiveCall) -> None:
        if self.calls.pop(call.number, None) is None:
            return
        await call.stop()
        self.work.forget(("receiver", call.number))  # a server of days meets many calls
        self.ended.append(call.stats)

    async def watch(self, request: web.Request) -> web.Response:
        require_token(request, self.config.token)
        self.offer_limit.check(request)  # every attempt counts, well formed or not
        description = await read_offer(request, self.config.token, "video")
        if len(self.watchers) >= MAX_WATCHERS:
            raise web.HTTPServiceUnavailable(text=f"{MAX_WATCHERS} pages watch already\n")
        pc = self.config.ice.peer_connection()
        self.peer_connections_created += 1
        self.watchers.add(pc)
        pc.addTrack(FeedTrack(self.current_feed))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self.watchers.discard(pc)
                await pc.close()

        return web.json_response(await answer_offer(pc, description))

    async def stats(self, request: web.Request) -> web.Response:
        require_token(request, self.config.token)
        for call in self.calls.values():
            call.refresh()
        calls = [call.stats.as_json() for call in self.calls.values()]
        ended = [stats.as_json() for stats in self.ended[-8:]]
        return web.json_response(
            {
                "state": server_state(calls, ended),
                "calls": calls,
                "ended_calls": ended,
                "frames_dropped": sum(call.feed.frames_dropped for call in self.calls.values()),
                "watchers": len(self.watchers),
            }
        )

    async def ice(self, request: web.Request) -> web.Response:
        require_token(request, self.config.token)
        return web.json_response(self.config.ice.page_json())

    def _newest_call(self) -> LiveCall | None:
        return self.calls[max(self.calls)] if self.calls else None

    async def keyframe(self, request: web.Request) -> web.Response:
        require_token(request, self.config.token)
        call = self._newest_call()
        if call is None or call.keyframe is None:
            raise web.HTTPNotFound(text="no keyframe yet\n")
        return web.Response(body=encode_jpeg(call.keyframe), content_type="image/jpeg")

    async def shown(self, request: web.Request) -> web.Response:
        """The page saw a segment start: ``{"mark": m, "shown_at": unix seconds}``."""
        require_token(request, self.config.token)
        try:
            mark, shown_at = parse_shown_body(await request.read())
        except BodyError as error:
            raise web.HTTPBadRequest(text=f"{error}\n") from None
        call = self._newest_call()
        g2g = None if call is None else call.shown_on_page(mark, shown_at)
        return web.json_response({"g2g_s": g2g})

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=static_text("index.html"), content_type="text/html")

    async def _shutdown(self, app: web.Application) -> None:
        for call in list(self.calls.values()):
            await self._end(call)
        for pc in list(self.watchers):
            await pc.close()
        self.watchers.clear()
        await asyncio.to_thread(self.work.shutdown)


async def serve(
    config: ReceiverServerConfig,
    extra_routes: Sequence[web.RouteDef] = (),
    on_shutdown: Sequence[Shutdown] = (),
) -> tuple[ReceiverServer, web.AppRunner, int]:
    """Start the server; returns it, its runner (``await runner.cleanup()`` to stop) and the
    port it listens on (useful with port 0)."""
    return_freed_frames_to_the_os()  # a server runs for hours: its memory must stay flat
    one_thread_per_library()  # the calls are the parallelism
    server = ReceiverServer(config)
    runner = web.AppRunner(server.app(extra_routes, on_shutdown))
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
