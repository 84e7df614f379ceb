"""Generator backends by name (eq. 18-19): ``offline`` (default) or ``diffusion`` (diffusers,
from a model folder or cached hub id). Chosen and loaded at start-up, so a bad name or path fails
early."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mirage_stream.receiver.generators import Generator, GeneratorConfig, KeyframeMotionGenerator
from mirage_stream.registry import Registry

if TYPE_CHECKING:
    from mirage_stream.receiver.config import ReceiverConfig


def _diffusion(config: ReceiverConfig) -> Generator:
    assert config.diffusion_model  # ReceiverConfig checks it, where the option is defined
    from mirage_stream.receiver.diffusion import DiffusersVideoGenerator

    return DiffusersVideoGenerator.from_pretrained(
        config.diffusion_model, allow_download=config.allow_download, options=config.diffusion
    )


GENERATORS: Registry[Callable[[ReceiverConfig], Generator]] = Registry("generator", "--generator")
GENERATORS.add(
    "offline",
    "keyframe motion: keyframes at their times, moved by the measured motion, styles; fast",
    lambda config: KeyframeMotionGenerator(),
)
GENERATORS.add(
    "diffusion", "a diffusers image-to-video pipeline from --diffusion-model", _diffusion
)


def build_generator(config: ReceiverConfig) -> Generator:
    return GENERATORS.factory(config.generator)(config)


def warm_up(generator: Generator, config: ReceiverConfig, seconds: float = 2.0) -> float | None:
    """One generation of a typical segment at the receiver's size before the first call, for
    generators that need one (a diffusion model's first call chooses kernels and reserves
    memory: seconds a first segment would otherwise be late); returns its seconds."""
    fps = 25.0
    segment = GeneratorConfig(
        num_frames=round(seconds * fps),
        fps=fps,
        width=config.width,
        height=config.height,
        steps=config.steps,
        guidance=config.guidance,
    )
    return generator.warm_up(segment)
