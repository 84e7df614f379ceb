"""``mirage-stream``: run the Mirage chain on a file, hold a live call, benchmark it, or show
what is installed. Each command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from mirage_stream.cli import bench, codecs, info, live, run
from mirage_stream.cli.common import Handler, OneLineErrorParser
from mirage_stream.errors import MirageError

COMMAND_MODULES = (run, live, bench, codecs, info)


def build_parser(prog: str = "mirage-stream") -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog=prog,
        description="Send video as meaning: a caption and a few coded keyframes cross a "
        "simulated wireless channel, and the receiver generates the video back.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineErrorParser
    )
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "mirage-stream") -> int:
    """Parse, run the command, and turn every expected error into one line and exit code 2."""
    args = build_parser(prog).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except MirageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
