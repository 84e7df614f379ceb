"""Sender side of a Mirage link, as its own process.

For now it sends over a file transport: it captions and encodes a video, passes each payload
through the simulated channel, and writes the bytes that arrive into a folder (one file per
segment) for ``receiver_app.py``. The live WebRTC call replaces the folder with data channels.

    python sender_app.py --input sample:carphone --snr-db -10 --payloads out/payloads
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from channel_sim import AwgnBitChannel, ConstantSnr
from mirage_stream.cli import add_sender_args, sender_options
from mirage_stream.errors import MirageError
from mirage_stream.link import SimulatedLinkStage
from mirage_stream.link.payload_files import PayloadFileSink
from mirage_stream.pipeline import Envelope, SegmentTrace, run_pipeline
from mirage_stream.sender.factory import build_sender
from mirage_stream.sources import FileSource, SourceConfig, resolve_input


async def send(args: argparse.Namespace) -> int:
    source = FileSource(resolve_input(args.input), SourceConfig(max_seconds=args.max_seconds))
    sender = build_sender(sender_options(args), initial_snr_db=args.snr_db)
    link = SimulatedLinkStage(AwgnBitChannel(), ConstantSnr(args.snr_db), seed=args.seed)

    async def segments():  # type: ignore[no-untyped-def]
        async for segment in source.segments(args.segment_s):
            yield Envelope(segment, SegmentTrace(index=segment.index))

    result = await run_pipeline(segments(), [sender, link], PayloadFileSink(Path(args.payloads)))
    print(f"sent {len(result.completed)} segments into {args.payloads}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, help="video file or sample:NAME")
    parser.add_argument("--payloads", default="out/payloads", help="folder to write payloads to")
    parser.add_argument("--snr-db", type=float, default=-10.0, help="channel SNR in dB")
    parser.add_argument("--segment-s", type=float, default=2.0, help="segment length, seconds")
    parser.add_argument("--max-seconds", type=float, default=None, help="read at most this much")
    parser.add_argument("--codec", default="vq", help="keyframe codec: vq, ae or thumbnail")
    parser.add_argument("--seed", type=int, default=0, help="seed of the channel's bit flips")
    add_sender_args(parser)
    args = parser.parse_args(argv)
    try:
        return asyncio.run(send(args))
    except MirageError as error:
        print(f"sender_app: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
