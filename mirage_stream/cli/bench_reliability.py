"""``bench fuzz`` (and the other reliability benches): how the system holds up under hostile
input, overload and time."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from mirage_stream.cli.common import Subcommands, print_json
from mirage_stream.options import add_json_argument

if TYPE_CHECKING:
    from mirage_stream.bench.endurance import EnduranceResult


def register(benches: Subcommands) -> None:
    fuzz = benches.add_parser(
        "fuzz",
        help="random, mutated and bit-flipped inputs through every decoder and parser",
        description="Payloads, live data-channel messages, signaling bodies (offers, the "
        "page's reports) and profile files, made from real ones by random bytes, bit flips, "
        "cuts, splices, structure-aware field swaps and bombs (decompression, msgpack length, "
        "nesting), each through its parser in worker processes with a capped address space. "
        "Prints cases, crashes (anything but the documented error type), hangs (a case over "
        "1 s), max_rss_mb, per-target figures, and the first failures written to --out.",
    )
    fuzz.add_argument("--cases", type=int, default=1_000_000, help="default 1,000,000")
    fuzz.add_argument("--seed", type=int, default=0, help="cases are made from it; default 0")
    fuzz.add_argument(
        "--out", default="fuzz-failures", help="where failures are written; default %(default)s"
    )
    fuzz.add_argument("--workers", type=int, default=2, help="worker processes; default 2")
    add_json_argument(fuzz)
    fuzz.set_defaults(handler=_fuzz)

    overload = benches.add_parser(
        "overload",
        help="a sender --factor times faster than real time into one receiver, for minutes",
        description="One receiver server in this process, one sender in a worker process "
        "sending --input paced --factor times faster than real time (the receiver generates "
        "and plays at real time) for --minutes. Prints rss_growth_mb (the median RSS of the "
        "last minute against that of the first minute after a 30 s warm-up), "
        "longest_stall_ms (the receiver's event loop, measured from inside it), "
        "segments_sent / played / skipped / lost and segments_unaccounted (must be 0).",
    )
    overload.add_argument("--factor", type=float, default=10.0, help="default 10")
    overload.add_argument("--minutes", type=float, default=10.0, help="default 10")
    overload.add_argument("--input", default="sample:carphone", help="default sample:carphone")
    add_json_argument(overload)
    overload.set_defaults(handler=_overload)

    soak = benches.add_parser(
        "soak",
        help="live calls at real time for a long time: memory, descriptors, tasks, latency",
        description="--calls live calls (senders in worker processes, at -10 dB) into one "
        "receiver in this process for --minutes. Prints rss_growth_pct (the median RSS of the "
        "last minute against that of the first minute after a 30 s warm-up), fd_growth, "
        "tasks_growth (last sample against the first after the warm-up), segments_lost, "
        "segments_unaccounted, g2g p95 in the first and the last minute, longest_stall_ms.",
    )
    soak.add_argument("--minutes", type=float, default=30.0, help="default 30")
    soak.add_argument("--calls", type=int, default=2, help="default 2")
    soak.add_argument("--input", default="sample:carphone", help="default sample:carphone")
    add_json_argument(soak)
    soak.set_defaults(handler=_soak)

    faults = benches.add_parser(
        "faults",
        help="faults provoked for real: recovery time and what was lost, one row each",
        description="The sender vanishing mid-segment, the receiver restarted, the generator "
        "raising, NaN in an SNR trace, the output folder read-only, the disk full while "
        "writing, a truncated input file and a camera that stops. Each row: fault, outcome, "
        "recovered (within 2 s, or stopped with a one-line error), seconds, lost.",
    )
    add_json_argument(faults)
    faults.set_defaults(handler=_faults)


def _fuzz(args: argparse.Namespace) -> int:
    from mirage_stream.bench.fuzz import FuzzConfig, bench_fuzz
    from mirage_stream.bench.sweep import SweepConfig

    config = FuzzConfig(
        cases=args.cases,
        seed=args.seed,
        out=Path(args.out),
        sweep=SweepConfig(workers=args.workers, stall_s=600.0),
    )
    result = bench_fuzz(config)
    if args.json:
        print_json(result)
        return 0 if result.crashes == 0 and result.hangs == 0 else 1
    print(
        f"{result.cases:,} cases: {result.crashes} crashes, {result.hangs} hangs, "
        f"max RSS {result.max_rss_mb} MB, {result.wall_s} s"
    )
    for path in result.failures:
        print(f"  failure written: {path}")
    return 0 if result.crashes == 0 and result.hangs == 0 else 1


def _overload(args: argparse.Namespace) -> int:
    from mirage_stream.bench.endurance import EnduranceConfig, bench_endurance

    config = EnduranceConfig(minutes=args.minutes, pace=args.factor, input=args.input)
    return _print(bench_endurance(config), args.json)


def _soak(args: argparse.Namespace) -> int:
    from mirage_stream.bench.endurance import EnduranceConfig, bench_endurance

    config = EnduranceConfig(minutes=args.minutes, calls=args.calls, input=args.input)
    return _print(bench_endurance(config), args.json)


def _print(result: EnduranceResult, as_json: bool) -> int:
    if as_json:
        print_json(result)
    else:
        for key, value in asdict(result).items():
            print(f"{key}: {value}")
    return 0


def _faults(args: argparse.Namespace) -> int:
    from mirage_stream.bench.faults import bench_faults

    result = bench_faults()
    if args.json:
        print_json(result)
        return 0
    for row in result.faults:
        mark = "ok " if row.recovered else "NOT"
        print(f"{mark} {row.fault:<32} {row.seconds} s  {row.outcome}  lost: {row.lost}")
    return 0
