"""Where a run or a call takes its video from, with its command-line options beside it."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from mirage_stream.errors import InputError
from mirage_stream.options import WORKING_HEIGHT, WORKING_WIDTH, add_size_arguments, positive_float
from mirage_stream.sources.file_source import SourceConfig
from mirage_stream.sources.samples import SAMPLES

BROWSER_CAMERA = "browser"  # --camera browser: the sender page's camera

INPUT_HELP = "a video file (any container PyAV reads) or sample:NAME with NAME one of " + ", ".join(
    sorted(SAMPLES)
)


def add_input_argument(
    parser: argparse.ArgumentParser, default: str | None = None, required: bool = False
) -> None:
    """--input alone, for benches that read frames of a clip rather than segments."""
    suffix = f"; default {default}" if default else ""
    parser.add_argument("--input", default=default, required=required, help=INPUT_HELP + suffix)


@dataclass(frozen=True)
class InputConfig:
    """A file (read once, or looped) or a camera, cut into segments at the working size."""

    input: str | None = None  # a path or sample:NAME
    # live only: a native camera (/dev/video0 on Linux, a device name on macOS or Windows), or
    # BROWSER_CAMERA: the camera of the sender page
    camera: str | None = None
    segment_s: float = 2.0
    width: int = WORKING_WIDTH
    height: int = WORKING_HEIGHT
    max_seconds: float | None = None  # of the input, per pass
    loop: bool = False  # read the file again and again (live only)

    def __post_init__(self) -> None:
        if (self.input is None) == (self.camera is None):
            raise InputError("give exactly one of --input PATH|sample:NAME and --camera DEVICE")
        if not (math.isfinite(self.segment_s) and 0.1 <= self.segment_s <= 30):
            raise InputError(f"--segment-s must be in [0.1, 30] seconds, got {self.segment_s}")
        self.frames()  # checks the size and max_seconds

    @property
    def browser_camera(self) -> bool:
        return self.camera == BROWSER_CAMERA

    def frames(self) -> SourceConfig:
        """How each frame is brought to the working size."""
        return SourceConfig(self.width, self.height, self.max_seconds)

    @staticmethod
    def add_arguments(
        parser: argparse.ArgumentParser, *, live: bool = False, default_input: str | None = None
    ) -> None:
        group = parser.add_argument_group("input")
        group.add_argument(
            "--input",
            default=default_input,
            required=not live and default_input is None,
            help=INPUT_HELP
            + ("; paced at real time, like a camera" if live else "")
            + ("; default %(default)s" if default_input else ""),
        )
        if live:
            group.add_argument(
                "--camera",
                default=None,
                help="'browser': serve the camera page and send the browser's camera (any "
                "platform); or a native camera read by PyAV: /dev/video0 (Linux, v4l2), a "
                "device name or index (macOS, avfoundation), a device name (Windows, dshow)",
            )
            group.add_argument("--loop", action="store_true", help="play --input again and again")
        group.add_argument(
            "--segment-s",
            type=float,
            default=InputConfig.segment_s,
            help="segment length in seconds; default %(default)s",
        )
        group.add_argument(
            "--max-seconds",
            type=positive_float,
            default=None,
            help="read at most this many seconds of the input",
        )
        add_size_arguments(parser)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> InputConfig:
        return cls(
            input=args.input,
            camera=getattr(args, "camera", None),
            segment_s=args.segment_s,
            width=args.width,
            height=args.height,
            max_seconds=args.max_seconds,
            loop=getattr(args, "loop", cls.loop),
        )
