"""Captioners by name (eq. 2-3): the offline one and the transformers VLM, each with its own
options (the VLM's: where its model loads from)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mirage_stream.errors import InputError
from mirage_stream.registry import BackendOptions, Registry
from mirage_stream.sender.captioner import Captioner, MeasuredFactsCaptioner


@dataclass(frozen=True)
class VlmOptions:
    """``--captioner vlm``'s options: the model, and whether it may be downloaded."""

    model: str  # a local folder or a hub id (the cache only, unless downloads are allowed)
    allow_download: bool = False

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise InputError("--vlm-model must name a model folder or hub id")

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument(
            "--vlm-model",
            default=None,
            metavar="PATH_OR_ID",
            help="image-text-to-text model folder or hub id (required; read from the local "
            "cache only, unless --allow-download)",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> VlmOptions:
        return cls(args.vlm_model, getattr(args, "allow_download", False))


def _vlm(options: VlmOptions) -> Captioner:
    from mirage_stream.sender.vlm import VlmCaptioner

    return VlmCaptioner.from_pretrained(options.model, allow_download=options.allow_download)


CAPTIONERS: Registry[Callable[[Any], Captioner]] = Registry("captioner", "--captioner")
CAPTIONERS.add(
    "measured-facts",
    "offline, fluent text from measured facts (faces, people, talking, camera and subject "
    "motion, light, setting, colours, cuts)",
    lambda options: MeasuredFactsCaptioner(),
)
CAPTIONERS.add(
    "vlm",
    "a transformers image-text-to-text model from --vlm-model (eq. 2-3)",
    _vlm,
    options=VlmOptions,
    needs=(
        "image-text-to-text weights: --vlm-model PATH, or a hub id already cached "
        "(--allow-download fetches it)",
    ),
    requires=("--vlm-model PATH_OR_HUB_ID",),
)


def build_captioner(name: str, options: BackendOptions) -> Captioner:
    """The captioner ``name`` with its options (``SenderConfig.captioner_options``)."""
    return CAPTIONERS.factory(name)(options)
