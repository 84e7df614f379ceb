"""A model-backed generator in one file: its options, its model loading and one registration.

The backend refines the offline generator's frames with a small convolutional network whose
weights load from a folder (``refiner.safetensors``), the shape any model-backed backend has:
an options class (its own flags, checked by itself), a loader that fails at start-up with one
line when the weights are missing, and a generator that follows the ``Generator`` protocol.

    python examples/model_backed_generator.py save-random-weights /tmp/refiner
    python examples/model_backed_generator.py run --input sample:carphone --max-seconds 2 \\
        --generator refined --refiner-model /tmp/refiner --out out/refined

Everything after the script's name is ``mirage-stream``'s command line: the registration
below makes ``--generator refined`` and its flags (grouped under ``--generator refined`` in
``--help``) part of every command that takes a receiver.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from safetensors.torch import load_file, save_file

from mirage_stream.errors import InputError
from mirage_stream.receiver.generator_backends import GENERATORS
from mirage_stream.receiver.generators import (
    GenerationRequest,
    GeneratorConfig,
    KeyframeMotionGenerator,
)

WEIGHTS = "refiner.safetensors"


def refiner_network() -> torch.nn.Module:
    """3x3 convolutions predicting a correction added to each frame."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 3, 3, padding=1)
    )


@dataclass(frozen=True)
class RefinerOptions:
    """``--generator refined``'s options."""

    model: str  # the folder holding refiner.safetensors
    strength: float = 1.0  # how much of the network's correction is added

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise InputError(f"--refiner-strength must be in [0, 1], got {self.strength}")

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument(
            "--refiner-model", default=None, metavar="FOLDER", help=f"folder with {WEIGHTS}"
        )
        group.add_argument(
            "--refiner-strength",
            type=float,
            default=cls.strength,
            help="share of the correction added, 0-1; default %(default)s",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RefinerOptions:
        return cls(args.refiner_model, args.refiner_strength)


@dataclass
class RefinedGenerator:
    """The offline generator's frames, corrected by a loaded network."""

    network: torch.nn.Module
    strength: float = 1.0
    name: str = "refined"
    adapts_rate: bool = False
    draws_people: bool = False
    base: KeyframeMotionGenerator = field(default_factory=KeyframeMotionGenerator)

    @classmethod
    def from_folder(cls, options: RefinerOptions) -> RefinedGenerator:
        path = Path(options.model) / WEIGHTS
        if not path.is_file():
            raise InputError(f"--refiner-model: no {WEIGHTS} in {options.model}")
        network = refiner_network()
        network.load_state_dict(load_file(str(path)))
        return cls(network.eval(), options.strength)

    @torch.inference_mode()
    def generate(self, request: GenerationRequest) -> npt.NDArray[np.uint8]:
        frames = self.base.generate(request)
        pixels = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
        refined = pixels + self.strength * self.network(pixels)
        out = (refined.clamp(0.0, 1.0) * 255.0).round().byte().permute(0, 2, 3, 1)
        return np.ascontiguousarray(out.numpy())

    def warm_up(self, config: GeneratorConfig) -> float | None:
        return None


def register() -> None:
    """The one registration: name, line for --help and info, factory, options, needs."""
    GENERATORS.add(
        "refined",
        "the offline generator's frames refined by a small network from --refiner-model",
        RefinedGenerator.from_folder,
        options=RefinerOptions,
        needs=(f"a folder with {WEIGHTS}: --refiner-model FOLDER",),
        requires=("--refiner-model FOLDER",),
    )


def save_random_weights(folder: Path, seed: int = 0) -> None:
    """A refiner with small random weights (for trying the backend; not a trained model)."""
    torch.manual_seed(seed)
    network = refiner_network()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.mul_(0.05)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(network.state_dict(), str(folder / WEIGHTS))


def main(argv: list[str]) -> int:
    if argv[:1] == ["save-random-weights"] and len(argv) == 2:
        save_random_weights(Path(argv[1]))
        print(f"random refiner weights written to {Path(argv[1]) / WEIGHTS}")
        return 0
    from mirage_stream.cli import main as mirage_stream

    register()
    return mirage_stream(argv, prog="model_backed_generator.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
