"""How a run plays what the receiver generates: as fast as it comes, or on a live clock."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from mirage_stream.errors import InputError


@dataclass(frozen=True)
class PlaybackConfig:
    realtime: bool = False  # pace the source like a camera; the generation queue drops oldest
    playout_delay_s: float = 0.5  # jitter buffer of the playback clock (realtime only)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.playout_delay_s) and 0 <= self.playout_delay_s <= 30):
            raise InputError(f"--playout-delay-s must be in [0, 30], got {self.playout_delay_s}")

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("playback")
        group.add_argument(
            "--realtime",
            action="store_true",
            help="pace the input like a live camera and play on a clock; when generation falls "
            "behind, the generation queue skips to the newest segment (each skip is reported)",
        )
        group.add_argument(
            "--playout-delay-s",
            type=float,
            default=PlaybackConfig.playout_delay_s,
            help="jitter buffer of the playback clock with --realtime; default %(default)s",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PlaybackConfig:
        return cls(realtime=args.realtime, playout_delay_s=args.playout_delay_s)
