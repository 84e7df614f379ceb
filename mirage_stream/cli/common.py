"""What every command shares: the one-line error style, the event loop, progress and JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, Protocol, TypeVar

T = TypeVar("T")

Handler = Callable[[argparse.Namespace], int]


class Subcommands(Protocol):
    """What ``add_subparsers()`` returns, as far as the command modules use it."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


class OneLineErrorParser(argparse.ArgumentParser):
    """Usage mistakes get one line and exit code 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed, else on the default asyncio loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def stderr_progress(prefix: str) -> Callable[[str], None]:
    """Progress lines on stderr, so that --json output on stdout stays clean."""

    def say(message: str) -> None:
        print(f"{prefix}: {message}", file=sys.stderr, flush=True)

    return say


def print_json(value: Any) -> None:
    """``value`` (a bench's result dataclass, or plain data) as strict JSON on stdout."""
    from mirage_stream.report import finite_json

    print(json.dumps(finite_json(value), indent=2))
