"""``bench rate``: the rate adapter against its latency budget under each SNR process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mirage_stream.cli.common import Subcommands, print_json, stderr_progress
from mirage_stream.options import (
    add_json_argument,
    add_plot_argument,
    add_seed_argument,
    positive_float,
)
from mirage_stream.sources.config import add_input_argument


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "rate",
        help="rate adapter vs its latency budget on constant, random-walk and Gilbert-Elliott SNR",
        description="For each SNR process, plan --segments segments from the receiver's "
        "feedback, send the implied payloads through channel_sim at the true SNR "
        "and count the segments whose time on air (retries included) fits "
        "--latency-budget-ms.",
    )
    add_input_argument(parser, "sample:bikes")
    parser.add_argument("--segments", type=int, default=1000, help="per process; default 1000")
    parser.add_argument("--latency-budget-ms", type=positive_float, default=20.0, help="default 20")
    parser.add_argument(
        "--snr-db", type=float, default=-5.0, help="mean / good-state SNR; default -5"
    )
    parser.add_argument("--snr-std-db", type=float, default=3.0, help="random walk; default 3")
    parser.add_argument(
        "--snr-bad-db", type=float, default=-12.0, help="Gilbert-Elliott bad state; default -12"
    )
    parser.add_argument("--bandwidth-hz", type=positive_float, default=20e6, help="default 20e6")
    add_seed_argument(parser)
    add_json_argument(parser)
    add_plot_argument(parser, "SNR and time on air per segment")
    parser.set_defaults(handler=_rate)


def _rate(args: argparse.Namespace) -> int:
    from mirage_stream.bench.rate import RateBenchConfig, bench_rate, plot_rate

    config = RateBenchConfig(
        input=args.input,
        segments=args.segments,
        budget_ms=args.latency_budget_ms,
        snr_db=args.snr_db,
        snr_std_db=args.snr_std_db,
        snr_bad_db=args.snr_bad_db,
        bandwidth_hz=args.bandwidth_hz,
        seed=args.seed,
    )
    result = bench_rate(config, progress=stderr_progress("bench rate"))
    if args.plot:
        plot_rate(result, Path(args.plot))
        print(f"bench rate: plot written to {args.plot}", file=sys.stderr)
    if args.json:
        print_json(result)
        return 0
    for row in result.processes:
        print(
            f"{row.process:>16}: budget met in {row.budget_met_share:.2%} of "
            f"{row.segments} segments, p99 time on air {row.p99_time_on_air_ms:.2f} ms"
        )
    return 0
