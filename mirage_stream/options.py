"""Command-line options that several components share, each declared once.

A component's config adds its own options (``add_arguments``) and reads them back
(``from_args``); options two components need (the working size, the seed) are added here,
idempotently, so that a command composed of both still has each flag once.
"""

from __future__ import annotations

import argparse

# The working size of every stage (source frames, keyframes, generated video) and the seed of
# every random choice, unless a flag says otherwise: one place for the fields and the flags.
WORKING_WIDTH = 320
WORKING_HEIGHT = 240
DEFAULT_SEED = 0


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _has(parser: argparse.ArgumentParser, flag: str) -> bool:
    return any(flag in action.option_strings for action in parser._actions)


def add_seed_argument(parser: argparse.ArgumentParser) -> None:
    if not _has(parser, "--seed"):
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="seed of every random choice (bit flips, "
            "generation); the same seed gives the same figures; default %(default)s",
        )


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """--width / --height: the working size (source frames, keyframes, generated video)."""
    if not _has(parser, "--width"):
        parser.add_argument(
            "--width", type=int, default=WORKING_WIDTH, help="working width; default %(default)s"
        )
        parser.add_argument(
            "--height", type=int, default=WORKING_HEIGHT, help="working height; default %(default)s"
        )


class _Renamed(argparse.Action):
    """A flag that was renamed: using it fails with one line naming the new one."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        self.replacement = str(kwargs.pop("replacement"))
        super().__init__(option_strings, dest, nargs=0, help=argparse.SUPPRESS)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser.error(f"{option_string} is now {self.replacement}")


def add_download_argument(parser: argparse.ArgumentParser) -> None:
    """--allow-download: one flag for every model a command may load from the hub (the VLM,
    CLIP and diffusion models); without it only local folders and the hub's cache are read."""
    if not _has(parser, "--allow-download"):
        parser.add_argument(
            "--allow-download",
            action="store_true",
            help="let --vlm-model, --clip-model and --diffusion-model download from the hub "
            "(else: local folders and the hub's cache only)",
        )
        parser.add_argument(
            "--allow-model-download", action=_Renamed, replacement="--allow-download"
        )


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the JSON object (else a table)")


def add_plot_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--plot", default=None, metavar="PNG", help=f"draw {what} into PNG")
