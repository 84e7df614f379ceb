"""Sender side of a live Mirage call: a camera or a file paced as one, sent over WebRTC.

Each segment is captioned and its keyframes encoded; channel_sim applies the SNR process to the
bits; the protected part travels on a reliable data channel, the keyframe symbols on an
unreliable one. The receiver's feedback drives the rate adapter (with --latency-budget-ms).

    python sender_app.py --receiver http://127.0.0.1:8080 --token TOKEN --input sample:carphone
    python sender_app.py --receiver http://127.0.0.1:8080 --token TOKEN --camera /dev/video0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from channel_sim import ConstantSnr, SnrProcess, TraceSnr
from mirage_stream.cli import add_sender_args, run_async, sender_options
from mirage_stream.errors import InputError, MirageError
from mirage_stream.live.sender_client import LiveSenderConfig, UplinkConfig, run_live_sender
from mirage_stream.sources import resolve_input


def _snr(args: argparse.Namespace) -> SnrProcess:
    if args.snr_trace:
        try:
            return TraceSnr.from_csv(Path(args.snr_trace))
        except (ValueError, OSError) as error:
            raise InputError(f"--snr-trace: {error}") from None
    return ConstantSnr(args.snr_db)


async def send(args: argparse.Namespace) -> int:
    token = args.token
    if not token and args.token_file:
        try:
            token = Path(args.token_file).read_text().strip()
        except OSError as error:
            raise InputError(f"--token-file: {error.strerror}") from None
    if not token:
        raise InputError("give the receiver's token with --token or --token-file")
    if bool(args.input) == bool(args.camera):
        raise InputError("give exactly one of --input PATH|sample:NAME and --camera DEVICE")
    # Bad sources fail before any connection is made, not after the call has started.
    if args.input:
        resolve_input(args.input)
    if args.camera and not Path(args.camera).exists():
        raise InputError(f"--camera: no device at {args.camera}")
    if args.segment_s <= 0:
        raise InputError(f"--segment-s must be positive, got {args.segment_s}")
    config = LiveSenderConfig(
        uplink=UplinkConfig(args.receiver.rstrip("/"), token),
        snr=_snr(args),
        input=args.input,
        camera=args.camera,
        loop=args.loop,
        max_seconds=args.max_seconds,
        segment_s=args.segment_s,
        seed=args.seed,
        initial_snr_db=args.snr_db,
        sender=sender_options(args),
    )
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, lambda: task.cancel() if task else None)
    try:
        counts = await run_live_sender(config)
    except asyncio.CancelledError:
        print("sender_app: stopped", file=sys.stderr, flush=True)
        return 0
    print(json.dumps(counts), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receiver", default="http://127.0.0.1:8080", help="receiver address")
    parser.add_argument("--token", default=None, help="the receiver's bearer token")
    parser.add_argument("--token-file", default=None, help="file holding the token")
    parser.add_argument("--input", default=None, help="video file or sample:NAME, paced live")
    parser.add_argument("--camera", default=None, help="v4l2 camera device, e.g. /dev/video0")
    parser.add_argument("--loop", action="store_true", help="play --input again and again")
    parser.add_argument("--snr-db", type=float, default=-10.0, help="channel SNR in dB")
    parser.add_argument("--snr-trace", default=None, help="CSV of per-segment SNR (snr_db)")
    parser.add_argument("--segment-s", type=float, default=2.0, help="segment length, seconds")
    parser.add_argument("--max-seconds", type=float, default=None, help="read at most this much")
    parser.add_argument("--codec", default="vq", help="keyframe codec: vq, ae or thumbnail")
    parser.add_argument("--seed", type=int, default=0, help="seed of the channel's bit flips")
    add_sender_args(parser)
    args = parser.parse_args(argv)
    try:
        return run_async(send(args))
    except MirageError as error:
        print(f"sender_app: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
