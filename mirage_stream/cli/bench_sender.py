"""``bench sender``: what the sender costs per second of video, per stage, and what it sends."""

from __future__ import annotations

import argparse

from mirage_stream.bench import quiet
from mirage_stream.cli.common import Subcommands, print_json, stderr_progress
from mirage_stream.options import add_json_argument
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.config import InputConfig


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "sender",
        help="sender cost per second of video (total and per stage), memory, bytes",
        description="Run the sender (analysis, rate plan, caption, keyframe selection, privacy, "
        "encoding) on every segment of --input and report rtf (sender seconds per "
        "second of video), per-stage rtf, peak RSS, bytes per segment and the bytes "
        "saved by not resending unchanged keyframes.",
    )
    InputConfig.add_arguments(parser, default_input="sample:bikes")
    SenderConfig.add_arguments(parser)
    add_json_argument(parser)
    parser.set_defaults(handler=_sender)


def _sender(args: argparse.Namespace) -> int:
    from mirage_stream.bench.sender import SenderBenchConfig, bench_sender

    config = SenderBenchConfig(
        input=InputConfig.from_args(args), sender=SenderConfig.from_args(args)
    )
    say = quiet if args.json else stderr_progress("bench sender")
    result = bench_sender(config, progress=say)
    if args.json:
        print_json(result)
        return 0
    print(
        f"sender on {result.input}: rtf {result.rtf} ({result.segments} segments, "
        f"{result.video_s} s of video), peak RSS {result.peak_rss_mb} MB, "
        f"{result.bytes_per_segment} B per segment, "
        f"{result.keyframes_skipped} keyframes skipped"
    )
    for name, rtf in result.stages.items():
        print(f"  {name:>8}: {rtf}")
    return 0
