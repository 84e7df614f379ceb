"""``bench call``: a one-way call from a browser's camera to a browser's playback page."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirage_stream.cli.common import Subcommands, print_json
from mirage_stream.link.config import ChannelConfig
from mirage_stream.options import add_json_argument, add_size_arguments, positive_float
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.config import add_input_argument


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "call",
        help="the whole browser-to-browser path: fake camera -> sender page -> receiver page",
        description="Convert --input to a fake camera for headless chromium (Debian's, driven "
        "by playwright), open the sender's camera page with it and the receiver's playback "
        "page in a second browser, and run the call for --seconds (every sender, channel and "
        "receiver option applies). Prints segments_sent, segments_played, segments_lost, "
        "g2g_p50_s and g2g_p95_s (the sender's capture of a segment's last frame -> its "
        "first generated frame shown, measured in the receiver page), first_frame_s (first "
        "camera frame -> first generated frame shown), first_reference_frame_s (first camera "
        "frame -> first frame rebuilt from the caller's reference picture due on screen) and "
        "segments_reenacted, cpu_per_call (sender and receiver CPU "
        "seconds per second; the browsers' own CPU apart as browser_cpu).",
    )
    add_input_argument(parser, default="sample:carphone")
    parser.add_argument(
        "--seconds", type=positive_float, default=20.0, help="length of the call; default 20"
    )
    parser.add_argument(
        "--segment-s", type=float, default=2.0, help="segment length in seconds; default 2"
    )
    parser.add_argument(
        "--screenshot", default=None, metavar="PNG", help="both pages side by side, at the end"
    )
    parser.add_argument(
        "--two-way",
        action="store_true",
        help="two call pages, each side's camera to the other (both sides in this process)",
    )
    add_size_arguments(parser)
    ChannelConfig.add_arguments(parser)
    SenderConfig.add_arguments(parser)
    ReceiverConfig.add_arguments(parser)
    add_json_argument(parser)
    parser.set_defaults(handler=_call)


def _call(args: argparse.Namespace) -> int:
    from mirage_stream.bench.call import CallBenchConfig, bench_call
    from mirage_stream.sources.track_source import TrackSegmentsConfig

    config = CallBenchConfig(
        input=args.input,
        seconds=args.seconds,
        segments=TrackSegmentsConfig(args.width, args.height, args.segment_s),
        sender=SenderConfig.from_args(args),
        channel=ChannelConfig.from_args(args),
        receiver=ReceiverConfig.from_args(args),
        screenshot=Path(args.screenshot) if args.screenshot else None,
        two_way=args.two_way,
    )
    result = bench_call(config)
    if args.json:
        print_json(result)
        return 0
    print(
        f"{result.segments_played}/{result.segments_sent} segments played, "
        f"{result.segments_lost} lost; g2g p50 {result.g2g_p50_s} s, "
        f"p95 {result.g2g_p95_s} s (in the page); first frame {result.first_frame_s} s; "
        f"{result.cpu_per_call} cores (browsers {result.browser_cpu}); "
        f"held in real time: {result.held_real_time}"
    )
    return 0
