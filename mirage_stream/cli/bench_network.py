"""``bench network``: one call between two NATed machines built inside this one."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from mirage_stream.cli.common import Subcommands, print_json
from mirage_stream.options import add_json_argument, positive_float


def register(benches: Subcommands) -> None:
    from mirage_stream.bench.network import PROFILES

    profiles = "; ".join(f"{p.name}: {p.stands_for}" for p in PROFILES.values())
    parser = benches.add_parser(
        "network",
        help="a live call across two NATs and emulated links (root): losses, g2g, ICE path",
        description="Build two hosts behind two NATs, a TURN server between them and emulated "
        "access links (network namespaces, iptables, coturn; needs root), then run `send` on "
        "one host and `receive` on the other for --seconds of video. Prints segments_sent, "
        "segments_played, segments_lost (sent but not played), keyframes_damaged (by lost "
        "packets: the radio channel is set clean), g2g_p50_s, g2g_p95_s, candidate_type (the "
        "call's selected ICE pair), rtt_ms, wire_bytes_per_segment (every byte the sender's "
        f"machine sent, per segment) and profile. Profiles: {profiles}.",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="mobile",
        help="access network; default mobile",
    )
    parser.add_argument(
        "--relay", action="store_true", help="force the call through the TURN relay"
    )
    parser.add_argument(
        "--seconds", type=positive_float, default=30.0, help="video sent; default 30"
    )
    parser.add_argument(
        "--input",
        default="sample:carphone",
        help="a video path or sample:NAME (as for `run`); default sample:carphone",
    )
    parser.add_argument(
        "--segment-s", type=positive_float, default=2.0, help="segment length; default 2"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the links' loss; default 0")
    parser.add_argument(
        "--sender-args",
        default="",
        help='more `send` options, quoted as one argument (e.g. "--codec vq:K256")',
    )
    parser.add_argument(
        "--receiver-args", default="", help="more `receive` options, quoted as one argument"
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        metavar="PNG",
        help="the playback page mid-call, opened by headless chromium beside the receiver",
    )
    add_json_argument(parser)
    parser.set_defaults(handler=_network)


def _network(args: argparse.Namespace) -> int:
    from mirage_stream.bench.netlab import lab_unavailable
    from mirage_stream.bench.network import NetworkBenchConfig, bench_network

    config = NetworkBenchConfig(
        profile=args.profile,
        relay=args.relay,
        seconds=args.seconds,
        input=args.input,
        segment_s=args.segment_s,
        seed=args.seed,
        extra_sender_args=tuple(shlex.split(args.sender_args)),
        extra_receiver_args=tuple(shlex.split(args.receiver_args)),
        screenshot=args.screenshot,
    )
    reason = lab_unavailable()
    if reason is not None:
        print(f"bench network: {reason}", file=sys.stderr)
        return 2
    print(
        f"bench network: {config.profile}{' through the relay' if config.relay else ''}, "
        f"{config.seconds:g} s of {config.input} (the two ends start cold: about a minute more)",
        file=sys.stderr,
    )
    result = bench_network(config)
    if args.json:
        print_json(result)
    else:
        print(
            f"{result.profile}: {result.segments_played}/{result.segments_sent} segments played, "
            f"{result.keyframes_damaged} keyframes damaged; g2g p50 {result.g2g_p50_s} s, "
            f"p95 {result.g2g_p95_s} s; path {result.candidate_type}, round trip "
            f"{result.rtt_ms} ms; {result.wire_bytes_per_segment} wire bytes per segment"
        )
    return 0 if result.segments_sent and result.call_state in ("ended", "live") else 1
