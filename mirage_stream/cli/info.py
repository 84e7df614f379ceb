"""``mirage-stream info``: versions, every registered backend and the shipped samples."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata

from mirage_stream.cli.common import Subcommands, print_json

PACKAGES = (
    "mirage-stream",
    "aiortc",
    "av",
    "torch",
    "transformers",
    "diffusers",
    "numpy",
    "scipy",
    "uvloop",
    "msgpack",
    "opencv-python-headless",
    "scikit-video",
)


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "info",
        help="versions and every registered backend, as JSON",
        description="Print package versions, every backend by family (codecs, captioners, "
        "generators, SNR processes, BER models) with a line on each, and the sample clips.",
    )
    parser.set_defaults(handler=_info)


def backends() -> dict[str, dict[str, str]]:
    """Every backend family and what each name does: what the flags accept."""
    from mirage_stream.codecs import describe_codecs
    from mirage_stream.link.config import BER_MODEL_CHOICES, SNR_PROCESSES
    from mirage_stream.receiver.generator_backends import GENERATORS
    from mirage_stream.sender.caption_backends import CAPTIONERS

    return {
        "codec": describe_codecs(),
        "captioner": CAPTIONERS.summaries(),
        "generator": GENERATORS.summaries(),
        "snr_process": SNR_PROCESSES.summaries(),
        "ber_model": BER_MODEL_CHOICES.summaries(),
    }


def _info(args: argparse.Namespace) -> int:
    from mirage_stream.sources import SAMPLES

    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    print_json(
        {
            "python": sys.version.split()[0],
            "packages": versions,
            "backends": backends(),
            "samples": sorted(SAMPLES),
        }
    )
    return 0
