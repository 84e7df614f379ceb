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
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineErrorParser
    )
    for module in COMMAND_MODULES:
        module.register(commands)
    _accept_verbose_anywhere(parser)
    return parser


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("mirage-stream")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _accept_verbose_anywhere(parser: argparse.ArgumentParser) -> None:
    """-v after the command too (``info -v`` as well as ``-v info``): every command takes it,
    without overriding the value given before the command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                if not any("--verbose" in a.option_strings for a in command._actions):
                    command.add_argument(
                        "-v",
                        "--verbose",
                        action="store_true",
                        default=argparse.SUPPRESS,
                        help="log details to stderr",
                    )
                _accept_verbose_anywhere(command)


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
