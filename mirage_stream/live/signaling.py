"""What the live pages share: the bearer token every route checks, an SDP offer's shape, and
the pages' static files.

Used by the receiver's server and the sender's camera page alike, so both refuse the same way:
a wrong or missing token is 401 before any peer connection exists; a malformed body is 400.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription

MAX_SDP_CHARS = 64 * 1024


def authorised(request: web.Request, token: str) -> bool:
    """The request carries ``Authorization: Bearer <token>`` (compared in constant time)."""
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def require_token(request: web.Request, token: str) -> None:
    if not authorised(request, token):
        raise web.HTTPUnauthorized(text="missing or wrong bearer token\n")


class BodyError(ValueError):
    """A request body the server refuses (answered 400 with this message)."""


def check_offer_sdp(sdp: str, media: str) -> None:
    """The offer parses and offers ``media`` ("application": data channels, "video"); else
    BodyError. An offer of nothing would open a call that can never connect."""
    from aiortc import sdp as session

    try:
        description = session.SessionDescription.parse(sdp)
    except Exception as error:  # the parser raises many types on malformed text
        raise BodyError(f"offer rejected: not an SDP offer ({type(error).__name__})") from None
    if not any(m.kind == media for m in description.media):
        raise BodyError(f"offer rejected: the offer has no {media} section")


def _json(raw: bytes, shape: str) -> Any:
    if len(raw) > 2 * MAX_SDP_CHARS:
        raise BodyError(f"body over {2 * MAX_SDP_CHARS} bytes")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, nesting bombs
        raise BodyError(f"body must be JSON: {shape}") from None


def parse_offer_body(raw: bytes, media: str) -> RTCSessionDescription:
    """``{"sdp": "<offer>", "type": "offer"}`` whose SDP offers ``media``; else BodyError."""
    shape = '{"sdp": "<offer>", "type": "offer"}'
    body = _json(raw, shape)
    if (
        not isinstance(body, dict)
        or body.get("type") != "offer"
        or not isinstance(body.get("sdp"), str)
        or not 0 < len(body["sdp"]) <= MAX_SDP_CHARS
    ):
        raise BodyError(f"body must be {shape}")
    check_offer_sdp(body["sdp"], media)
    return RTCSessionDescription(sdp=body["sdp"], type="offer")


def parse_shown_body(raw: bytes) -> tuple[int, float]:
    """The page's report ``{"mark": int, "shown_at": unix seconds}``; else BodyError."""
    shape = '{"mark": int, "shown_at": float}'
    body = _json(raw, shape)
    mark = body.get("mark") if isinstance(body, dict) else None
    shown_at = body.get("shown_at") if isinstance(body, dict) else None
    if (
        not isinstance(mark, int)
        or isinstance(mark, bool)
        or not 0 <= mark < 1024
        or not isinstance(shown_at, int | float)
        or not math.isfinite(shown_at)
    ):
        raise BodyError(f"body must be {shape}")
    return mark, float(shown_at)


async def read_offer(request: web.Request, token: str, media: str) -> RTCSessionDescription:
    """The token checked, then the body (``parse_offer_body``); a bad one is 400."""
    require_token(request, token)
    try:
        return parse_offer_body(await request.read(), media)
    except BodyError as error:
        raise web.HTTPBadRequest(text=f"{error}\n") from None


async def answer_offer(pc: RTCPeerConnection, offer: RTCSessionDescription) -> dict[str, str]:
    """Apply the offer and return the answer as JSON; a bad offer closes ``pc`` (400)."""
    try:
        await pc.setRemoteDescription(offer)
    except (ValueError, TypeError) as error:
        await pc.close()
        raise web.HTTPBadRequest(text=f"offer rejected: {error}\n") from None
    await pc.setLocalDescription(await pc.createAnswer())
    local = pc.localDescription
    return {"sdp": local.sdp, "type": local.type}


def static_text(name: str) -> str:
    """A page or script shipped in ``mirage_stream/live/static``."""
    return resources.files("mirage_stream.live").joinpath("static", name).read_text("utf-8")


def script_route(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler that serves one of the pages' scripts."""

    async def serve_script(request: web.Request) -> web.Response:
        return web.Response(text=static_text(name), content_type="text/javascript")

    return serve_script


@web.middleware
async def same_origin_only(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A request that names an origin (browsers do on every POST, and on fetches across sites)
    must come from this server's own pages: another site cannot drive a call from a visitor's
    browser, token or not."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        raise web.HTTPForbidden(text="cross-origin requests are refused\n")
    return await handler(request)


class OfferRateLimit:
    """At most ``per_s`` offers per second from one client address, in bursts of ``burst``
    (a token bucket per address)."""

    def __init__(self, per_s: float = 2.0, burst: int = 4, clients: int = 1024) -> None:
        self.per_s, self.burst, self.clients = per_s, burst, clients
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, time)

    def allow(self, client: str, now: float) -> bool:
        tokens, then = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.per_s)
        if len(self._buckets) >= self.clients and client not in self._buckets:
            self._buckets.clear()  # bounded memory: a flood of addresses resets the table
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - 1.0, now)
        return True

    def check(self, request: web.Request) -> None:
        import time

        if not self.allow(request.remote or "?", time.monotonic()):
            raise web.HTTPTooManyRequests(text="too many offers; wait a moment\n")
