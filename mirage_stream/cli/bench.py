"""``mirage-stream bench ...``: each bench is a module of its own that registers itself here."""

from __future__ import annotations

from mirage_stream.cli import (
    bench_call,
    bench_caption,
    bench_channel,
    bench_codec,
    bench_generator,
    bench_live,
    bench_network,
    bench_paper,
    bench_picture,
    bench_portrait,
    bench_rate,
    bench_receiver,
    bench_reliability,
    bench_sender,
    bench_table1,
)
from mirage_stream.cli.common import OneLineErrorParser, Subcommands

BENCH_MODULES = (
    bench_caption,
    bench_table1,
    bench_channel,
    bench_codec,
    bench_sender,
    bench_receiver,
    bench_live,
    bench_call,
    bench_network,
    bench_paper,
    bench_picture,
    bench_portrait,
    bench_rate,
    bench_reliability,
    bench_generator,
)


def register(commands: Subcommands) -> None:
    bench = commands.add_parser("bench", help="measure the system; each bench prints JSON")
    benches = bench.add_subparsers(
        dest="bench", required=True, metavar="BENCH", parser_class=OneLineErrorParser
    )
    for module in BENCH_MODULES:
        module.register(benches)
    bench_paper.register_report(commands)
