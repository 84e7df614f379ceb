"""What the live pages share: the bearer token every route checks, an SDP offer's shape, and
the pages' static files.

Used by the receiver's server and the sender's camera page alike, so both refuse the same way:
a wrong or missing token is 401 before any peer connection exists; a malformed body is 400.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from importlib import resources

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


async def read_offer(request: web.Request, token: str) -> RTCSessionDescription:
    """The token checked, then the body: ``{"sdp": "<offer>", "type": "offer"}``."""
    require_token(request, token)
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
