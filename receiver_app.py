"""Receiver side of a live Mirage call: WebRTC signaling, generation and a playback page.

Serves on loopback by default. It prints a bearer token (or takes --token / --token-file) that
senders and the playback page must present, and the page's address:

    python receiver_app.py --port 8080
    # open the printed http://127.0.0.1:8080/#token=... in a browser
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from mirage_stream.errors import MirageError
from mirage_stream.live.receiver_server import ReceiverServerConfig, serve, write_token
from mirage_stream.receiver import ReceiverProfile, load_profile


async def receive(args: argparse.Namespace) -> int:
    profile = load_profile(Path(args.profile)) if args.profile else ReceiverProfile()
    token = args.token
    if args.token_file and not token and Path(args.token_file).exists():
        token = Path(args.token_file).read_text().strip() or None
    config = ReceiverServerConfig(
        host=args.host,
        port=args.port,
        width=args.width,
        height=args.height,
        profile=profile,
        generation_queue=args.generation_queue,
        **({"token": token} if token else {}),
    )
    try:
        server, runner, port = await serve(config)
    except OSError as error:
        raise MirageError(f"cannot listen on {args.host}:{args.port} ({error.strerror})") from None
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
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        print("receiver: shutting down", file=sys.stderr, flush=True)
        await runner.cleanup()
    played = sum(s.segments_played for s in server.ended)
    print(f"receiver: {len(server.ended)} calls, {played} segments played", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind; default loopback")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument("--token", default=None, help="bearer token (default: a new random one)")
    parser.add_argument(
        "--token-file", default=None, help="read the token from, or write it to, this file"
    )
    parser.add_argument("--profile", default=None, help="receiver profile TOML (style, identity)")
    parser.add_argument("--width", type=int, default=320, help="generated width; default 320")
    parser.add_argument("--height", type=int, default=240, help="generated height; default 240")
    parser.add_argument(
        "--generation-queue", type=int, default=2, help="segments waiting for generation"
    )
    args = parser.parse_args(argv)
    try:
        from mirage_stream.cli import run_async

        return run_async(receive(args))
    except MirageError as error:
        print(f"receiver_app: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
