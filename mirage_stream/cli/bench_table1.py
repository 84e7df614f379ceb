"""``bench table1``: the paper's Table 1 on a real clip."""

from __future__ import annotations

import argparse

from mirage_stream.cli.common import Subcommands, print_json
from mirage_stream.link.config import ChannelConfig
from mirage_stream.options import add_json_argument
from mirage_stream.sources.config import add_input_argument


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "table1",
        help="the paper's Table 1: bytes, bpp, latency and speed-ups vs raw video",
        description="Treat the first --frames frames of --input at 320x240 as one segment and "
        "compare raw 24-bit video with the Mirage payload (caption + one keyframe, "
        "whole msgpack message) in bytes, bits per pixel and time on air (eq. 7).",
    )
    add_input_argument(parser, "sample:bikes")
    parser.add_argument(
        "--frames",
        type=int,
        default=144,
        help="frames in the clip; default 144, the size of the paper's raw row "
        "(32,415.88 KiB of 320x240 RGB)",
    )
    parser.add_argument(
        "--codecs",
        default="vq,ae,thumbnail",
        help="comma-separated keyframe codecs (vq: every shipped K; ae: every q; "
        "or name:variant); default vq,ae,thumbnail",
    )
    ChannelConfig.add_arguments(parser, processes=False)
    add_json_argument(parser)
    parser.set_defaults(handler=_table1)


def _table1(args: argparse.Namespace) -> int:
    from mirage_stream.bench.table1 import Table1Config, table1

    result = table1(
        Table1Config(
            input=args.input,
            frames=args.frames,
            channel=ChannelConfig.from_args(args),
            codecs=tuple(args.codecs.split(",")),
        )
    )
    if args.json:
        print_json(result)
        return 0
    print(
        f"{'scheme':<34}{'bytes':>12}{'bpp':>10}{'latency ms':>14}{'data x':>12}{'latency x':>12}"
    )
    for row in result.rows:
        print(
            f"{row.scheme:<34}{row.bytes:>12}{row.bpp:>10.4f}{row.latency_ms:>14.2f}"
            f"{row.data_speedup:>12.1f}{row.latency_speedup:>12.1f}"
        )
    return 0
