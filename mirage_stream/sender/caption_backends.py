"""Captioners by name (eq. 2-3): the offline one and the transformers VLM."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mirage_stream.errors import InputError
from mirage_stream.registry import Registry
from mirage_stream.sender.captioner import Captioner, MeasuredFactsCaptioner

if TYPE_CHECKING:
    from mirage_stream.sender.config import SenderConfig


def _vlm(config: SenderConfig) -> Captioner:
    if not config.vlm_model:
        raise InputError("--captioner vlm needs --vlm-model PATH_OR_HUB_ID")
    from mirage_stream.sender.vlm import VlmCaptioner

    return VlmCaptioner.from_pretrained(config.vlm_model, allow_download=config.allow_download)


CAPTIONERS: Registry[Callable[[SenderConfig], Captioner]] = Registry("captioner", "--captioner")
CAPTIONERS.add(
    "measured-facts",
    "offline, fluent text from measured facts (faces, people, talking, camera and subject "
    "motion, light, setting, colours, cuts)",
    lambda config: MeasuredFactsCaptioner(),
)
CAPTIONERS.add("vlm", "a transformers image-text-to-text model from --vlm-model (eq. 2-3)", _vlm)


def build_captioner(config: SenderConfig) -> Captioner:
    return CAPTIONERS.factory(config.captioner)(config)
