"""The receiver's settings (eq. 16-17 and the generation queue), with their options."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from mirage_stream.errors import FieldValueError, InputError
from mirage_stream.options import (
    DEFAULT_SEED,
    WORKING_HEIGHT,
    WORKING_WIDTH,
    add_download_argument,
    add_seed_argument,
    add_size_arguments,
)
from mirage_stream.receiver.generator_backends import GENERATORS
from mirage_stream.receiver.generators import GeneratorConfig
from mirage_stream.receiver.profile import ReceiverProfile, load_profile
from mirage_stream.receiver.receiver import DamagedKeyframes
from mirage_stream.registry import BackendOptions, NoOptions


@dataclass(frozen=True)
class ReceiverConfig:
    """How the receiver decodes, personalises and generates; the profile is an object (load
    one from TOML with ``load_profile``)."""

    width: int = WORKING_WIDTH
    height: int = WORKING_HEIGHT
    profile: ReceiverProfile = field(default_factory=ReceiverProfile)
    generator: str = "offline"  # a name in GENERATORS
    # The chosen generator's own options, of the class its entry names (DiffusionGeneratorOptions
    # for "diffusion"; none for "offline").
    generator_options: BackendOptions = field(default_factory=NoOptions)
    keyframe_strength: float = 1.0  # lambda of eq. 17
    steps: int = 25  # denoising steps of eq. 17 (diffusion only)
    guidance: float = 3.0  # classifier-free guidance of eq. 17 (diffusion only)
    damaged_keyframes: str = DamagedKeyframes.BEST_EFFORT.value
    generation_queue: int = 2
    seed: int = DEFAULT_SEED
    rate_adapter: bool = True  # live: lower a diffusion model's steps and size to keep up
    # Rebuild the caller's face from their reference picture and face track where both came.
    reenact: bool = True

    def __post_init__(self) -> None:
        # Even sizes: generated video is encoded as yuv420p.
        for name, value in (("width", self.width), ("height", self.height)):
            if not 16 <= value <= 4096 or value % 2:
                raise InputError(f"--{name} must be even and in 16..4096, got {value}")
        GENERATORS.check(self.generator, self.generator_options)
        try:  # theta_g's own limits (eq. 17), named as the flags that set them
            GeneratorConfig(
                num_frames=1,
                fps=25.0,
                width=self.width,
                height=self.height,
                keyframe_strength=self.keyframe_strength,
                steps=self.steps,
                guidance=self.guidance,
            )
        except FieldValueError as error:
            raise InputError(f"--{error.field.replace('_', '-')} {error.problem}") from None
        policies = [policy.value for policy in DamagedKeyframes]
        if self.damaged_keyframes not in policies:
            raise InputError(
                f"--damaged-keyframes must be one of {', '.join(policies)}, "
                f"got {self.damaged_keyframes!r}"
            )
        if self.generation_queue < 1:
            raise InputError(f"--generation-queue must be at least 1, got {self.generation_queue}")

    def typical_segment(self, seconds: float = 2.0, fps: float = 25.0) -> GeneratorConfig:
        """theta_g of a typical segment at this receiver's size (a warm-up generation)."""
        return GeneratorConfig(
            num_frames=round(seconds * fps),
            fps=fps,
            width=self.width,
            height=self.height,
            steps=self.steps,
            guidance=self.guidance,
        )

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        defaults = ReceiverConfig  # each default lives in its field, once
        group = parser.add_argument_group("receiver")
        group.add_argument(
            "--profile",
            default=None,
            metavar="TOML",
            help="receiver profile: [identity] mode keep|anonymise|substitute, persona; [style] "
            "preset none|cinematic|animation|oil-painting, text, lighting, colour; [safety] "
            "blocked_words, negative_prompt (see README)",
        )
        GENERATORS.add_arguments(parser, group, defaults.generator, "how video is generated")
        add_download_argument(parser)
        group.add_argument(
            "--keyframe-strength",
            type=float,
            default=defaults.keyframe_strength,
            help="lambda in [0, 1]: how closely generation follows the keyframe; "
            "default %(default)s",
        )
        group.add_argument(
            "--steps",
            type=int,
            default=defaults.steps,
            help="denoising steps (diffusion); default %(default)s",
        )
        group.add_argument(
            "--guidance",
            type=float,
            default=defaults.guidance,
            help="classifier-free guidance scale (diffusion; 1 turns it off); default %(default)s",
        )
        group.add_argument(
            "--damaged-keyframes",
            metavar="{best-effort,last-good}",
            default=defaults.damaged_keyframes,
            help="a keyframe whose CRC failed: best-effort (decode it anyway) or last-good "
            "(generate from the caption and the last intact keyframe); default %(default)s",
        )
        group.add_argument(
            "--generation-queue",
            type=int,
            default=defaults.generation_queue,
            help="segments waiting for generation at most; default %(default)s",
        )
        add_size_arguments(parser)
        add_seed_argument(parser)
        group.add_argument(
            "--no-rate-adapter",
            action="store_true",
            help="live: keep a diffusion model's steps and size fixed even when generation "
            "falls behind",
        )

        group.add_argument(
            "--reenact",
            action=argparse.BooleanOptionalAction,
            default=defaults.reenact,
            help="where the sender sent the caller's reference picture and face track, "
            "rebuild every frame's face from the picture (never for an anonymising profile); "
            "default %(default)s",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ReceiverConfig:
        profile = load_profile(Path(args.profile)) if args.profile else ReceiverProfile()
        return cls(
            width=args.width,
            height=args.height,
            profile=profile,
            generator=args.generator,
            generator_options=GENERATORS.options_from_args(args.generator, args),
            keyframe_strength=args.keyframe_strength,
            steps=args.steps,
            guidance=args.guidance,
            damaged_keyframes=args.damaged_keyframes,
            generation_queue=args.generation_queue,
            seed=args.seed,
            rate_adapter=not args.no_rate_adapter,
            reenact=args.reenact,
        )
