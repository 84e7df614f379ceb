"""``bench live``: N concurrent live calls over WebRTC on loopback."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirage_stream.cli.common import Subcommands, print_json
from mirage_stream.link.config import ChannelConfig
from mirage_stream.options import add_json_argument, positive_float
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.config import InputConfig


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "live",
        help="N concurrent live calls over WebRTC on loopback: glass to glass, losses, CPU",
        description="Start a receiver server and --calls senders in this process; each sends "
        "--seconds of --input paced at real time over its own peer connection (every sender, "
        "channel and receiver option of `send` and `receive` applies). Prints g2g_p50_s, "
        "g2g_p95_s (last frame of a segment captured -> first frame of its generated version "
        "due on screen), segments_sent, segments_played, segments_lost, captions_lost (sent "
        "minus decoded with the caption's CRC intact), cpu_per_call (CPU seconds per second "
        "of video per call, senders included), shed_share_per_call (each call's share of its "
        "segments not played: whether the calls were served fairly) and calls; with "
        "--cpu-profile, where that CPU went, stage by stage.",
    )
    parser.add_argument("--calls", type=int, default=1, help="concurrent calls; default 1")
    parser.add_argument(
        "--seconds", type=positive_float, default=12.0, help="video per call; default 12"
    )
    parser.add_argument(
        "--cpu-profile",
        action="store_true",
        help="add `profile`: CPU milliseconds per second of call for every stage of both "
        "ends (each stage's own thread clock), the event loop's thread, and what no stage "
        "claims; `agrees` when the stages' sum is within 10%% of the process's CPU",
    )
    parser.add_argument(
        "--cpu-figure",
        type=Path,
        metavar="PNG",
        help="with --cpu-profile: draw it (flame-style: the call, each end, its stages)",
    )
    InputConfig.add_arguments(parser, default_input="sample:carphone")
    ChannelConfig.add_arguments(parser)
    SenderConfig.add_arguments(parser)
    ReceiverConfig.add_arguments(parser)
    add_json_argument(parser)
    parser.set_defaults(handler=_live)


def _live(args: argparse.Namespace) -> int:
    from mirage_stream.bench.live import LiveBenchConfig, bench_live

    config = LiveBenchConfig(
        calls=args.calls,
        seconds=args.seconds,
        input=InputConfig.from_args(args),
        sender=SenderConfig.from_args(args),
        channel=ChannelConfig.from_args(args),
        receiver=ReceiverConfig.from_args(args),
        profile=args.cpu_profile or args.cpu_figure is not None,
    )
    result = bench_live(config)
    if args.cpu_figure is not None and result.profile is not None:
        from mirage_stream.bench.cost_profile import plot_profile

        title = (
            f"bench live: {config.calls} call(s) of {config.seconds:g} s of "
            f"{config.input.input}, {result.cpu_per_call} cores per call"
        )
        plot_profile(result.profile, args.cpu_figure, title)
    if args.json:
        print_json(result)
        return 0
    print(
        f"{result.calls} calls: g2g p50 {result.g2g_p50_s} s, p95 {result.g2g_p95_s} s; "
        f"{result.segments_played}/{result.segments_sent} segments played, "
        f"{result.segments_lost} lost, {result.captions_lost} captions lost; "
        f"{result.cpu_per_call} cores per call; "
        f"held in real time: {result.held_real_time}; shed {result.segments_shed} of "
        f"{result.segments_captured} segments, {result.segments_light} lightened; latency "
        f"bounded: {result.latency_bounded}"
    )
    return 0
