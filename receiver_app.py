"""Receiver side of a Mirage link, as its own process.

For now it reads the payload files that ``sender_app.py`` wrote, decodes them (flagging damage),
generates each segment and plays it into an mp4. The live WebRTC call and the browser playback
window replace the folder and the file.

    python receiver_app.py --payloads out/payloads --out out/received
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from mirage_stream.errors import MirageError
from mirage_stream.link.payload_files import read_payload_files
from mirage_stream.pipeline import run_pipeline
from mirage_stream.player import FileSink
from mirage_stream.receiver import (
    KeyframeMotionGenerator,
    ReceiverProfile,
    ReceiverStage,
    load_profile,
)


async def receive(args: argparse.Namespace) -> int:
    profile = load_profile(Path(args.profile)) if args.profile else ReceiverProfile()
    receiver = ReceiverStage(
        KeyframeMotionGenerator(), width=args.width, height=args.height, profile=profile
    )
    out = Path(args.out)
    result = await run_pipeline(read_payload_files(Path(args.payloads)), [receiver], FileSink(out))
    print(
        f"played {len(result.completed)} segments into {out / 'generated.mp4'}; "
        f"dropped {len(result.dropped)}",
        file=sys.stderr,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payloads", default="out/payloads", help="folder of payload files")
    parser.add_argument("--out", default="out/received", help="folder for generated.mp4")
    parser.add_argument("--profile", default=None, help="receiver profile TOML (style, identity)")
    parser.add_argument("--width", type=int, default=320, help="output width")
    parser.add_argument("--height", type=int, default=240, help="output height")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(receive(args))
    except MirageError as error:
        print(f"receiver_app: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
