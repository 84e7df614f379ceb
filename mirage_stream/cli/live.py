"""``mirage-stream send`` / ``receive``: the two ends of a live call over WebRTC (also run as
``sender_app.py`` and ``receiver_app.py``). Both take the same component options as ``run``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from mirage_stream.cli.common import Subcommands, run_async
from mirage_stream.errors import InputError, MirageError
from mirage_stream.link.config import ChannelConfig
from mirage_stream.live.ice import IceConfig
from mirage_stream.options import add_size_arguments, positive_float
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.config import InputConfig

if TYPE_CHECKING:
    from mirage_stream.live.sender_client import LiveSenderConfig
    from mirage_stream.live.server import ReceiverServerConfig


def register(commands: Subcommands) -> None:
    send = commands.add_parser(
        "send",
        help="the sender of a live call: a camera or a file paced as one, over WebRTC",
        description="Caption each segment, encode its keyframes and apply the channel's SNR "
        "process to the bits; the protected part travels on a reliable data channel, the "
        "keyframe symbols on an unreliable one. The receiver's feedback drives the rate "
        "adapter (with --latency-budget-ms).",
    )
    send.add_argument(
        "--receiver",
        default="http://127.0.0.1:8080",
        metavar="URL",
        help="the receiver's address; default %(default)s",
    )
    _add_token_arguments(send, sends=True)
    IceConfig.add_arguments(send)
    send.add_argument(
        "--page-port",
        type=int,
        default=8090,
        help="with --camera browser: the camera page's port (on 127.0.0.1); 0 picks one; "
        "default %(default)s",
    )
    InputConfig.add_arguments(send, live=True)
    send.add_argument(
        "--seconds",
        type=positive_float,
        default=None,
        help="stop after this much video, loops included (default: when the input ends)",
    )
    ChannelConfig.add_arguments(send)
    SenderConfig.add_arguments(send)
    send.set_defaults(handler=_send)

    receive = commands.add_parser(
        "receive",
        help="the receiver of live calls: signaling, generation and a playback page",
        description="Serve on loopback (unless --host says otherwise): WebRTC signaling for "
        "senders, the playback page and /stats, all behind a bearer token that is printed "
        "with the page's link.",
    )
    _add_bind_arguments(receive)
    _add_token_arguments(receive)
    IceConfig.add_arguments(receive)
    ReceiverConfig.add_arguments(receive)
    receive.set_defaults(handler=_receive)

    call = commands.add_parser(
        "call",
        help="one end of a two-way call: your camera to the peer, the peer's video to you",
        description="Serve, on loopback, one page with your browser camera and the video "
        "generated from what the peer sends: this process is both the sender of your camera "
        "(to --peer, with --peer-token) and the receiver of the peer's. Start the same "
        "command on the other side with the addresses and tokens swapped; the token this "
        "side prints (or --token) is the one the peer gives as --peer-token.",
    )
    call.add_argument("--peer", required=True, help="the other side's address, http://HOST:PORT")
    call.add_argument("--peer-token", required=True, help="the other side's token")
    _add_bind_arguments(call)
    _add_token_arguments(call)
    IceConfig.add_arguments(call)
    call.add_argument(
        "--segment-s", type=float, default=2.0, help="segment length in seconds; default 2"
    )
    add_size_arguments(call)
    ChannelConfig.add_arguments(call)
    SenderConfig.add_arguments(call)
    ReceiverConfig.add_arguments(call)
    call.set_defaults(handler=_call)


def _add_token_arguments(parser: argparse.ArgumentParser, sends: bool = False) -> None:
    """--token / --token-file: the token a sender gives (``sends``), or the one this side
    asks of whoever connects to it."""
    if sends:
        token_help = "the receiver's bearer token (it prints it, or writes it to its --token-file)"
        file_help = "file holding the receiver's token (the one its --token-file names)"
    else:
        token_help = (
            "the bearer token whoever connects here must give (a caller gives it as "
            "--peer-token); default: a new random one, printed"
        )
        file_help = "file holding that token; when absent, a new token is written there"
    parser.add_argument("--token", default=None, help=token_help)
    parser.add_argument("--token-file", default=None, metavar="FILE", help=file_help)


def _read_token(args: argparse.Namespace) -> str | None:
    if args.token or not args.token_file:
        return str(args.token) if args.token else None
    path = Path(args.token_file)
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
    except OSError as error:
        raise InputError(f"--token-file: {error.strerror}") from None


def _on_stop_signals(action: Callable[[], object]) -> None:
    """SIGINT and SIGTERM call ``action`` (a clean stop) instead of killing the process."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no signal handlers on this platform
            loop.add_signal_handler(signum, action)


def _send(args: argparse.Namespace) -> int:
    from mirage_stream.live.sender_client import LiveSenderConfig, run_live_sender
    from mirage_stream.live.uplink import UplinkConfig

    token = _read_token(args)
    if not token and args.token_file:
        state = "is empty" if Path(args.token_file).exists() else "does not exist"
        raise InputError(
            f"--token-file {args.token_file} {state}: start the receiver first (it writes its "
            "token there), or give --token"
        )
    if not token:
        raise InputError("give the receiver's token with --token or --token-file")
    # Every option is checked, and the source opened, before any connection is made.
    config = LiveSenderConfig(
        uplink=UplinkConfig(args.receiver.rstrip("/"), token, ice=IceConfig.from_args(args)),
        input=InputConfig.from_args(args),
        sender=SenderConfig.from_args(args),
        channel=ChannelConfig.from_args(args),
        total_seconds=args.seconds,
    )
    config.channel.snr()  # a bad SNR trace fails here, not at the first segment
    if config.input.browser_camera:
        return _send_browser_camera(config, args.page_port)

    async def send() -> int:
        task = asyncio.current_task()
        assert task is not None
        _on_stop_signals(task.cancel)
        try:
            counts = await run_live_sender(config)
        except asyncio.CancelledError:
            print("sender: stopped", file=sys.stderr, flush=True)
            return 0
        print(json.dumps(counts), flush=True)
        return 0

    return run_async(send())


def _send_browser_camera(config: LiveSenderConfig, page_port: int) -> int:
    """--camera browser: serve the camera page; send whatever camera it sends, until stopped."""
    from mirage_stream.live.sender_page import SenderPageConfig, serve_sender_page
    from mirage_stream.sources.track_source import TrackSegmentsConfig

    page_config = SenderPageConfig(
        token=secrets.token_urlsafe(24),
        uplink=config.uplink,
        segments=TrackSegmentsConfig(
            config.input.width, config.input.height, config.input.segment_s
        ),
        sender=config.sender,
        channel=config.channel,
    )

    async def serve_page() -> int:
        try:
            page, runner, port = await serve_sender_page(page_config, port=page_port)
        except OSError as error:
            raise MirageError(
                f"cannot listen on 127.0.0.1:{page_port} ({error.strerror})"
            ) from None
        print(
            f"sender: camera page http://127.0.0.1:{port}/send/#token={page_config.token}\n"
            f"sending to {config.uplink.url}\n"
            f"ICE: {config.uplink.ice.describe()}",
            file=sys.stderr,
            flush=True,
        )
        await _until_stopped(runner, "sender")
        print(json.dumps(page.status.as_json() | {"camera": page.camera.state}), flush=True)
        return 0

    return run_async(serve_page())


async def _until_stopped(runner: web.AppRunner, who: str) -> None:
    """Serve until SIGINT or SIGTERM, then shut the server down cleanly."""
    stop = asyncio.Event()
    _on_stop_signals(stop.set)
    try:
        await stop.wait()
    finally:
        print(f"{who}: shutting down", file=sys.stderr, flush=True)
        await runner.cleanup()


def _receiver_server_config(args: argparse.Namespace) -> ReceiverServerConfig:
    """Where the receiving end listens, its token (given, read, or a new one) and receiver."""
    from dataclasses import replace

    from mirage_stream.live.server import ReceiverServerConfig

    _check_host(args)
    config = ReceiverServerConfig(
        host=args.host,
        port=args.port,
        receiver=ReceiverConfig.from_args(args),
        max_calls=args.max_calls,
        ice=IceConfig.from_args(args),
    )
    token = _read_token(args)
    return replace(config, token=token) if token else config


_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_EVERY_INTERFACE = ("0.0.0.0", "::", "")


def _links(host: str, port: int, path: str, what: str) -> str:
    """The page's link as a user can open it: bound to every interface, the loopback link for
    this machine and, where one is known, this machine's address for the others (0.0.0.0 is
    not an address a browser can open)."""
    if host not in _EVERY_INTERFACE:
        return f"{what}: http://{host}:{port}{path}\n"
    lines = f"{what}: http://127.0.0.1:{port}{path}\n"
    address = _this_machines_address()
    if address:
        lines += f"{what} from another machine: http://{address}:{port}{path}\n"
    return lines


def _this_machines_address() -> str | None:
    """The address of the interface the default route leaves by (no packet is sent)."""
    import socket

    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only, nothing is sent
        address = str(probe.getsockname()[0])
        return None if address.startswith("0.") else address
    return None


def _check_host(args: argparse.Namespace) -> None:
    """Anything but loopback only when asked for twice: --host and --allow-remote."""
    if args.host in _LOOPBACK:
        return
    if not args.allow_remote:
        raise InputError(
            f"--host {args.host} lets other machines connect; add --allow-remote to mean it"
        )
    print(
        f"WARNING: listening on {args.host}: other machines can reach this port (every route "
        "that reveals or changes anything still needs the token)",
        file=sys.stderr,
    )


def _add_bind_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind; default loopback")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (a warning is printed)",
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="port; 0 picks a free one; default %(default)s"
    )
    parser.add_argument(
        "--max-calls", type=int, default=8, help="calls held at once (more get 503); default 8"
    )


def _call(args: argparse.Namespace) -> int:
    from mirage_stream.live.sender_page import SenderPageConfig
    from mirage_stream.live.server import write_token
    from mirage_stream.live.two_way import serve_call_side
    from mirage_stream.live.uplink import UplinkConfig
    from mirage_stream.sources.track_source import TrackSegmentsConfig

    receiver = _receiver_server_config(args)
    sender = SenderPageConfig(
        token=receiver.token,
        uplink=UplinkConfig(args.peer.rstrip("/"), args.peer_token, ice=receiver.ice),
        segments=TrackSegmentsConfig(args.width, args.height, args.segment_s),
        sender=SenderConfig.from_args(args),
        channel=ChannelConfig.from_args(args),
    )
    sender.channel.snr()  # a bad SNR trace fails here

    async def run_call() -> int:
        try:
            server, page, runner, port = await serve_call_side(receiver, sender)
        except OSError as error:
            raise MirageError(
                f"cannot listen on {args.host}:{args.port} ({error.strerror})"
            ) from None
        if args.token_file:
            write_token(Path(args.token_file), receiver.token)
        print(
            f"call: this side listens on {args.host}:{port} (token {receiver.token})\n"
            f"call: open http://127.0.0.1:{port}/call#token={receiver.token} (the camera page "
            "needs this machine's browser: browsers give the camera to localhost or HTTPS only)\n"
            f"call: sending your camera to {args.peer}\n"
            f"call: ICE {receiver.ice.describe()}",
            file=sys.stderr,
            flush=True,
        )
        await _until_stopped(runner, "call")
        played = sum(s.segments_played for s in server.ended)
        print(json.dumps({"sent": page.status.as_json(), "segments_played": played}), flush=True)
        return 0

    return run_async(run_call())


def _receive(args: argparse.Namespace) -> int:
    from mirage_stream.live.server import serve, write_token

    config = _receiver_server_config(args)

    async def receive() -> int:
        try:
            server, runner, port = await serve(config)
        except OSError as error:
            raise MirageError(
                f"cannot listen on {args.host}:{args.port} ({error.strerror})"
            ) from None
        if args.token_file:
            write_token(Path(args.token_file), config.token)
        print(
            f"receiver: listening on {args.host}:{port}\n"
            f"token: {config.token}\n"
            + _links(args.host, port, f"/#token={config.token}", "playback")
            + f"ICE: {config.ice.describe()}",
            file=sys.stderr,
            flush=True,
        )
        await _until_stopped(runner, "receiver")
        played = sum(s.segments_played for s in server.ended)
        print(f"receiver: {len(server.ended)} calls, {played} segments played", file=sys.stderr)
        return 0

    return run_async(receive())
