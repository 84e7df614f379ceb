"""Generator backends by name (eq. 18-19): ``offline`` (default) or ``diffusion`` (diffusers,
from a model folder or cached hub id). Chosen and loaded at start-up, so a bad name or path fails
early."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mirage_stream.receiver.diffusion import DiffusionGeneratorOptions
from mirage_stream.receiver.generators import Generator, GeneratorConfig, KeyframeMotionGenerator
from mirage_stream.registry import BackendOptions, Registry


def _diffusion(options: DiffusionGeneratorOptions) -> Generator:
    from mirage_stream.receiver.diffusion import DiffusersVideoGenerator

    return DiffusersVideoGenerator.from_pretrained(
        options.model, allow_download=options.allow_download, options=options.run
    )


GENERATORS: Registry[Callable[[Any], Generator]] = Registry("generator", "--generator")
GENERATORS.add(
    "offline",
    "keyframe motion: keyframes at their times, moved by the measured motion, styles; fast",
    lambda options: KeyframeMotionGenerator(),
)
GENERATORS.add(
    "diffusion",
    "a diffusers image-to-video pipeline from --diffusion-model",
    _diffusion,
    options=DiffusionGeneratorOptions,
    needs=(
        "image-to-video weights: --diffusion-model PATH, or a hub id already cached "
        "(--allow-download fetches it)",
        "a GPU for real time",
    ),
    requires=("--diffusion-model PATH_OR_HUB_ID",),
)


def build_generator(name: str, options: BackendOptions) -> Generator:
    """The generator ``name`` with its options (``ReceiverConfig.generator_options``)."""
    return GENERATORS.factory(name)(options)


def warm_up(generator: Generator, segment: GeneratorConfig) -> float | None:
    """One generation of a typical ``segment`` before the first call, for generators that need
    one (a diffusion model's first call chooses kernels and reserves memory: seconds a first
    segment would otherwise be late); returns its seconds."""
    return generator.warm_up(segment)
