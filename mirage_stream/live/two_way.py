"""One side of a two-way call: the receiver of the peer's segments and the sender of this side's
browser camera in one server, with one page (``/call``) that shows your camera and the video
generated from the peer's."""

from __future__ import annotations

from aiohttp import web

from mirage_stream.live.sender_page import SenderPage, SenderPageConfig
from mirage_stream.live.server import ReceiverServer, ReceiverServerConfig, serve
from mirage_stream.live.signaling import static_text


async def _call_page(request: web.Request) -> web.Response:
    return web.Response(text=static_text("call.html"), content_type="text/html")


async def serve_call_side(
    receiver: ReceiverServerConfig, sender: SenderPageConfig
) -> tuple[ReceiverServer, SenderPage, web.AppRunner, int]:
    """Start this side: the receiver's routes, the camera page's under ``/send/`` and the call
    page at ``/call``; the sender starts sending once the page's camera arrives. Returns both
    halves, the runner (``await runner.cleanup()`` stops both) and the port."""
    page = SenderPage(sender)

    async def stop_page(app: web.Application) -> None:
        await page.stop()

    routes = [*page.routes(), web.get("/call", _call_page)]
    server, runner, port = await serve(receiver, routes, [stop_page])
    page.start()
    return server, page, runner, port
