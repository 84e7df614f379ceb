"""``mirage-stream info``: versions, every registered backend and the shipped samples."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from typing import Any

from mirage_stream.cli.common import Subcommands, print_json
from mirage_stream.registry import Registry

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
        description="Print package versions, every backend by family (codecs with their "
        "variants, captioners, generators, SNR processes, BER models, and the sender's "
        "detectors: objects, hands, poses, close faces, setting, face reader), each with a "
        "line on what it does, its own flags with their defaults and what it needs beyond the "
        "package, and the sample clips.",
    )
    parser.set_defaults(handler=_info)


def registries() -> dict[str, Registry[Any]]:
    """Every backend family, by the flag that picks one (``--snr-process`` -> snr_process)."""
    from mirage_stream.codecs import CODECS
    from mirage_stream.link.config import BER_MODEL_CHOICES, SNR_PROCESSES
    from mirage_stream.receiver.generator_backends import GENERATORS
    from mirage_stream.sender.caption_backends import CAPTIONERS
    from mirage_stream.sender.close_faces import CLOSE_FACE_DETECTORS
    from mirage_stream.sender.hands import HAND_DETECTORS
    from mirage_stream.sender.objects import OBJECT_DETECTORS
    from mirage_stream.sender.person_look import FACE_READERS
    from mirage_stream.sender.pose import POSE_DETECTORS
    from mirage_stream.sender.setting import SETTING_CLASSIFIERS

    families: list[Registry[Any]] = [
        CODECS,
        CAPTIONERS,
        GENERATORS,
        SNR_PROCESSES,
        BER_MODEL_CHOICES,
        OBJECT_DETECTORS,
        HAND_DETECTORS,
        POSE_DETECTORS,
        CLOSE_FACE_DETECTORS,
        SETTING_CLASSIFIERS,
        FACE_READERS,
    ]
    return {family.flag.lstrip("-").replace("-", "_"): family for family in families}


def backends() -> dict[str, dict[str, dict[str, Any]]]:
    """Every backend family, and per name what it does and what it needs beyond the package
    (codecs also their default variant and the variants this install can run)."""
    from mirage_stream.codecs import CODECS

    described = {key: family.describe() for key, family in registries().items()}
    for name, entry in described["codec"].items():
        backend = CODECS.factory(name)
        entry["default_variant"] = backend.default_variant
        entry["variants"] = backend.variants()
    return described


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
