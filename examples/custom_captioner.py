"""A captioner backend in one file: a terse caption that states only counts.

    python examples/custom_captioner.py run --input sample:carphone --captioner terse \\
        --terse-max-words 12 --out out/terse

It writes its text from the facts the scene analysis measured (``SceneFacts.trusted()``: only
the claims sure enough to state), so it says nothing the analysis did not see. Everything after
the script's name is ``mirage-stream``'s command line, with ``--captioner terse`` registered.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from mirage_stream.errors import InputError
from mirage_stream.sender.analysis import SegmentAnalysis
from mirage_stream.sender.caption_backends import CAPTIONERS
from mirage_stream.sender.captioner import CaptionSettings
from mirage_stream.types import Caption, VideoSegment


@dataclass(frozen=True)
class TerseOptions:
    """``--captioner terse``'s options."""

    max_words: int = 20

    def __post_init__(self) -> None:
        if self.max_words < 3:
            raise InputError(f"--terse-max-words must be at least 3, got {self.max_words}")

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument(
            "--terse-max-words",
            type=int,
            default=cls.max_words,
            help="words per caption at most; default %(default)s",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TerseOptions:
        return cls(args.terse_max_words)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class TerseCaptioner:
    options: TerseOptions
    name: str = "terse"

    def caption(
        self, segment: VideoSegment, analysis: SegmentAnalysis, settings: CaptionSettings
    ) -> Caption:
        facts = analysis.facts.trusted()
        parts = []
        if facts.people:
            noun = "person" if facts.people == 1 else "people"
            parts.append(f"{'at least ' if facts.people_at_least else ''}{facts.people} {noun}")
        elif facts.faces:
            parts.append(_counted(len(facts.faces), "face"))
        parts += [_counted(count, name) for name, count in facts.objects]
        if facts.talking:
            parts.append("someone talking")
        text = ("In view: " + ", ".join(parts) + ".") if parts else "A scene."
        words = text.split()[: self.options.max_words]
        return Caption(" ".join(words), analysis.facts)


def register() -> None:
    CAPTIONERS.add(
        "terse",
        "counts only: the people, faces and objects the analysis is sure of",
        TerseCaptioner,
        options=TerseOptions,
    )


if __name__ == "__main__":
    from mirage_stream.cli import main

    register()
    sys.exit(main(sys.argv[1:], prog="custom_captioner.py"))
