"""Generator backends by name (eq. 18-19): ``offline`` (default) or ``diffusion`` (diffusers,
from a model folder or cached hub id). Chosen and loaded at start-up, so a bad name or path fails
early."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mirage_stream.hub import ModelChoice
from mirage_stream.receiver.diffusion import DiffusionOptions
from mirage_stream.receiver.generators import Generator, GeneratorConfig, KeyframeMotionGenerator
from mirage_stream.registry import Registry


@dataclass(frozen=True)
class GeneratorOptions:
    """What a generator factory takes: where its model loads from, and how it runs."""

    model: ModelChoice = field(default_factory=ModelChoice)
    diffusion: DiffusionOptions = field(default_factory=DiffusionOptions)


def _diffusion(options: GeneratorOptions) -> Generator:
    assert options.model.path_or_id  # ReceiverConfig checks it, where the option is defined
    from mirage_stream.receiver.diffusion import DiffusersVideoGenerator

    return DiffusersVideoGenerator.from_pretrained(
        options.model.path_or_id,
        allow_download=options.model.allow_download,
        options=options.diffusion,
    )


GENERATORS: Registry[Callable[[GeneratorOptions], Generator]] = Registry("generator", "--generator")
GENERATORS.add(
    "offline",
    "keyframe motion: keyframes at their times, moved by the measured motion, styles; fast",
    lambda options: KeyframeMotionGenerator(),
)
GENERATORS.add(
    "diffusion",
    "a diffusers image-to-video pipeline from --diffusion-model",
    _diffusion,
    needs=(
        "image-to-video weights: --diffusion-model PATH, or a hub id already cached "
        "(--allow-download fetches it)",
        "a GPU for real time",
    ),
    requires=("--diffusion-model PATH_OR_HUB_ID",),
)


def build_generator(name: str, options: GeneratorOptions) -> Generator:
    return GENERATORS.factory(name)(options)


def warm_up(generator: Generator, segment: GeneratorConfig) -> float | None:
    """One generation of a typical ``segment`` before the first call, for generators that need
    one (a diffusion model's first call chooses kernels and reserves memory: seconds a first
    segment would otherwise be late); returns its seconds."""
    return generator.warm_up(segment)
