"""``mirage-stream send`` / ``receive``: the two ends of a live call over WebRTC (also run as
``sender_app.py`` and ``receiver_app.py``). Both take the same component options as ``run``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from mirage_stream.cli.common import Subcommands, run_async
from mirage_stream.errors import InputError, MirageError
from mirage_stream.link.config import ChannelConfig
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.config import InputConfig


def register(commands: Subcommands) -> None:
    send = commands.add_parser(
        "send",
        help="the sender of a live call: a camera or a file paced as one, over WebRTC",
        description="Caption each segment, encode its keyframes and apply the channel's SNR "
        "process to the bits; the protected part travels on a reliable data channel, the "
        "keyframe symbols on an unreliable one. The receiver's feedback drives the rate "
        "adapter (with --latency-budget-ms).",
    )
    send.add_argument("--receiver", default="http://127.0.0.1:8080", help="receiver address")
    _add_token_arguments(send)
    InputConfig.add_arguments(send, live=True)
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
    receive.add_argument("--host", default="127.0.0.1", help="address to bind; default loopback")
    receive.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    _add_token_arguments(receive)
    ReceiverConfig.add_arguments(receive)
    receive.set_defaults(handler=_receive)


def _add_token_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--token", default=None, help="the receiver's bearer token")
    parser.add_argument(
        "--token-file",
        default=None,
        help="file holding the token (the receiver writes a new token there when it is absent)",
    )


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
    from mirage_stream.live.sender_client import LiveSenderConfig, UplinkConfig, run_live_sender

    token = _read_token(args)
    if not token:
        raise InputError("give the receiver's token with --token or --token-file")
    # Every option is checked, and the source opened, before any connection is made.
    config = LiveSenderConfig(
        uplink=UplinkConfig(args.receiver.rstrip("/"), token),
        input=InputConfig.from_args(args),
        sender=SenderConfig.from_args(args),
        channel=ChannelConfig.from_args(args),
    )
    config.channel.snr()  # a bad SNR trace fails here, not at the first segment

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


def _receive(args: argparse.Namespace) -> int:
    from mirage_stream.live.server import ReceiverServerConfig, serve, write_token

    token = _read_token(args)
    config = ReceiverServerConfig(
        host=args.host,
        port=args.port,
        receiver=ReceiverConfig.from_args(args),
        **({"token": token} if token else {}),
    )

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
            f"receiver: listening on http://{args.host}:{port}\n"
            f"token: {config.token}\n"
            f"playback: http://{args.host}:{port}/#token={config.token}",
            file=sys.stderr,
            flush=True,
        )
        stop = asyncio.Event()
        _on_stop_signals(stop.set)
        try:
            await stop.wait()
        finally:
            print("receiver: shutting down", file=sys.stderr, flush=True)
            await runner.cleanup()
        played = sum(s.segments_played for s in server.ended)
        print(f"receiver: {len(server.ended)} calls, {played} segments played", file=sys.stderr)
        return 0

    return run_async(receive())
