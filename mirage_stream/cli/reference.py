"""The command-line reference page, written from the parsers themselves (``docs/cli.md``):

    python -m mirage_stream.cli.reference > docs/cli.md

``tests/test_docs.py`` fails when the page and the parsers disagree, so the reference cannot go
stale; each command's help is rendered at a fixed width so the page is the same on any
terminal."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator

from mirage_stream.cli import build_parser

WIDTH = 100


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ("mirage-stream",)
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser under ``parser``, depth first, with its command path."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield from commands(command, (*path, name))


def render_reference() -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)  # argparse wraps at the terminal's width
    try:
        sections = [
            "# Command-line reference\n\n"
            "Every command's `--help`, written from the parsers by `python -m "
            "mirage_stream.cli.reference > docs/cli.md` (a test keeps it current). "
            "[Commands](commands.md) shows them by task; `-v` may come before or after a "
            "command.\n"
        ]
        for path, parser in commands(build_parser()):
            text = parser.format_help().rstrip()
            sections.append(f"## `{' '.join(path)}`\n\n```text\n{text}\n```\n")
        return "\n".join(sections)
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


if __name__ == "__main__":
    print(render_reference(), end="")
