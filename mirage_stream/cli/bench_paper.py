"""``bench paper``: the paper's tables, quality against SNR and conventional video through the
same channel, as one sweep; and ``report``: its HTML report made again from its JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirage_stream.cli.common import Subcommands, print_json
from mirage_stream.options import add_json_argument


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "paper",
        help="Tables 1-5 beside the paper's, quality against SNR, conventional video through "
        "the same channel (a sweep: local processes or Ray)",
        description="Reproduce the paper's Tables 1-5 (ours beside the paper's, conventions "
        "stated), quality against SNR (raw frames, Mirage, conventional video), and H.264 / "
        "VP9 / AV1 at their lowest rates and AV1 / JPEG stills sent through the same channel, "
        "protected (charged the FEC they need) or not (damaged, last good frame held), with "
        "the SNR at which a conventional still at Mirage's time on air starts to beat it. "
        "Every point is cached by a hash of its config under --report/cache (or --cache), so "
        "an interrupted sweep resumes. JSON keys: tables, baselines, crossover_snr_db, "
        "executor, points, wall_s.",
    )
    parser.add_argument(
        "--input",
        default=None,
        help="clips for the quality curves and baselines, comma-separated (paths or "
        "sample:NAME); default sample:carphone,sample:bikes",
    )
    parser.add_argument("--report", default=None, metavar="DIR", help="write index.html here")
    parser.add_argument("--cache", default=None, metavar="DIR", help="point cache folder")
    parser.add_argument(
        "--quick", action="store_true", help="a small grid: minutes, not half an hour"
    )
    parser.add_argument(
        "--executor", choices=("local", "ray"), default="local", help="default local"
    )
    parser.add_argument("--address", default=None, help="a Ray cluster (with --executor ray)")
    parser.add_argument("--workers", type=int, default=2, help="parallel points; default 2")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw; default 0")
    add_json_argument(parser)
    parser.set_defaults(handler=_paper)


def register_report(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "report",
        help="make a bench paper report (index.html, plots) again from its JSON",
        description="Read DIR/paper.json (written by `bench paper --report DIR`) and write "
        "DIR/index.html with its tables and plots; nothing is run.",
    )
    parser.add_argument("folder", metavar="DIR")
    parser.set_defaults(handler=_report)


def _paper(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from mirage_stream.bench.paper import PaperBenchConfig, bench_paper
    from mirage_stream.bench.paper_report import write_report
    from mirage_stream.bench.sweep import SweepConfig
    from mirage_stream.report import finite_json

    cache = args.cache or (str(Path(args.report) / "cache") if args.report else None)
    sweep = SweepConfig(
        executor=args.executor,
        address=args.address,
        workers=args.workers,
        cache=Path(cache) if cache else None,
    )
    clips = tuple(c.strip() for c in args.input.split(",")) if args.input else None
    if args.quick:
        config = PaperBenchConfig.quick(sweep, clips)
    else:
        config = PaperBenchConfig(sweep=sweep)
        if clips:
            config = replace(config, clips=clips)
    config = replace(config, seed=args.seed)
    result = bench_paper(config)
    if args.report:
        page = write_report(finite_json(result), Path(args.report))
        result = replace(result, report=str(page))
    if args.json:
        print_json(result)
        return 0
    for number, rows in result.tables.items():
        print(f"Table {number}")
        for row in rows:
            print(f"  {row['scheme']:<44} ours {row['ours']}  paper {row['paper']}")
    print(f"crossover at equal time on air: {result.crossover_snr_db}")
    print(f"{result.points} points in {result.wall_s} s ({result.executor})")
    return 0


def _report(args: argparse.Namespace) -> int:
    from mirage_stream.bench.paper_report import render_report

    print(render_report(Path(args.folder)))
    return 0
