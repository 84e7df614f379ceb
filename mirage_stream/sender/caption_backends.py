"""Captioners by name (eq. 2-3): the offline one and the transformers VLM. Each factory takes
only the options it uses: where its model loads from."""

from __future__ import annotations

from collections.abc import Callable

from mirage_stream.hub import ModelChoice
from mirage_stream.registry import Registry
from mirage_stream.sender.captioner import Captioner, MeasuredFactsCaptioner


def _vlm(model: ModelChoice) -> Captioner:
    assert model.path_or_id  # SenderConfig checks it, where --vlm-model is defined
    from mirage_stream.sender.vlm import VlmCaptioner

    return VlmCaptioner.from_pretrained(model.path_or_id, allow_download=model.allow_download)


CAPTIONERS: Registry[Callable[[ModelChoice], Captioner]] = Registry("captioner", "--captioner")
CAPTIONERS.add(
    "measured-facts",
    "offline, fluent text from measured facts (faces, people, talking, camera and subject "
    "motion, light, setting, colours, cuts)",
    lambda model: MeasuredFactsCaptioner(),
)
CAPTIONERS.add(
    "vlm",
    "a transformers image-text-to-text model from --vlm-model (eq. 2-3)",
    _vlm,
    needs=(
        "image-text-to-text weights: --vlm-model PATH, or a hub id already cached "
        "(--allow-download fetches it)",
    ),
    requires=("--vlm-model PATH_OR_HUB_ID",),
)


def build_captioner(name: str, model: ModelChoice) -> Captioner:
    return CAPTIONERS.factory(name)(model)
