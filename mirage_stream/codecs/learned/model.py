"""Model and quantisers of the learned keyframe codecs, split as CompressAI and diffusers do:
``KeyframeAutoencoder`` (encoder / decoder) here, quantisers beside it, bit packing elsewhere.

Two quantisers:

* ``FsqQuantiser``: finite scalar quantisation. Each of ``d`` latent channels is bounded and
  rounded to ``L_i`` levels; the tuple of levels is one codeword of an implicit codebook of size
  K = prod(L_i), and its index is the mixed-radix number of the levels (eq. 11-12: the nearest
  codeword, argmin of the distance). A fixed grid cannot collapse, so every code stays usable.
* ``UniformQuantiser``: each latent value bounded to [0, 1] and rounded to 2^q levels.

Training uses straight-through rounding; the loss is eq. 14's reconstruction term (the
codebook and commitment terms vanish for a fixed FSQ grid).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

# Levels per latent channel for each codebook size: powers of two, so that every bit pattern of
# an index is a valid codeword and one flipped bit moves exactly one channel.
FSQ_LEVELS: dict[int, tuple[int, ...]] = {
    256: (4, 4, 4, 4),
    512: (8, 4, 4, 4),
    1024: (8, 8, 4, 4),
    2048: (8, 8, 8, 4),
}


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable or does not match its model."""


@dataclass(frozen=True)
class AutoencoderConfig:
    """Every constructor argument of ``KeyframeAutoencoder``; saved as config.json."""

    kind: str = "fsq"  # "fsq" (VQ codec) or "uniform" (q-bit AE)
    latent_channels: int = 4
    widths: tuple[int, ...] = (48, 64, 96)  # one stride-2 stage between consecutive widths
    residual_blocks: int = 2
    fsq_levels: tuple[int, ...] = FSQ_LEVELS[256]
    input_size: tuple[int, int] = (64, 64)  # (width, height) the codec resizes keyframes to

    def __post_init__(self) -> None:
        if self.kind not in ("fsq", "uniform"):
            raise CheckpointError(f"kind must be 'fsq' or 'uniform', got {self.kind!r}")
        if self.kind == "fsq" and len(self.fsq_levels) != self.latent_channels:
            raise CheckpointError(
                f"fsq_levels {self.fsq_levels} must have latent_channels={self.latent_channels} "
                "entries"
            )
        if len(self.widths) < 1 or self.residual_blocks < 0:
            raise CheckpointError("widths needs at least one entry; residual_blocks >= 0")

    @property
    def downsampling(self) -> int:
        return int(2 ** (len(self.widths) - 1))

    @property
    def codebook_size(self) -> int:
        return math.prod(self.fsq_levels)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> AutoencoderConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise CheckpointError(f"config has unknown fields: {sorted(unknown)}")
        tuples = {"widths", "fsq_levels", "input_size"}
        arguments: dict[str, Any] = {k: tuple(v) if k in tuples else v for k, v in values.items()}
        return cls(**arguments)


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual: torch.Tensor = self.body(x)
        return x + residual


class FsqQuantiser(nn.Module):
    """Finite scalar quantisation with straight-through rounding (Mentzer et al., 2023)."""

    _levels: torch.Tensor
    _radix: torch.Tensor

    def __init__(self, levels: tuple[int, ...]) -> None:
        super().__init__()
        self.levels = levels
        self.register_buffer("_levels", torch.tensor(levels, dtype=torch.float32), persistent=False)
        radix = [math.prod(levels[:i]) for i in range(len(levels))]
        self.register_buffer("_radix", torch.tensor(radix, dtype=torch.int64), persistent=False)

    def _bound(self, z: torch.Tensor) -> torch.Tensor:
        levels = self._levels.view(1, -1, 1, 1)
        half = (levels - 1) * (1 - 1e-3) / 2
        offset = torch.where(levels % 2 == 0, 0.5, 0.0)
        shift = torch.atanh(offset / half)
        return torch.tanh(z + shift) * half - offset

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Quantised latent in level units, centred (straight-through gradient)."""
        bounded = self._bound(z)
        return bounded + (torch.round(bounded) - bounded).detach()

    def to_indices(self, quantised: torch.Tensor) -> torch.Tensor:
        """(B, d, h, w) centred levels -> (B, h, w) codebook indices."""
        levels = self._levels.view(1, -1, 1, 1)
        digits = (torch.round(quantised) + torch.div(levels, 2, rounding_mode="floor")).long()
        return (digits * self._radix.view(1, -1, 1, 1)).sum(dim=1)

    def from_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """(B, h, w) indices -> (B, d, h, w) centred levels; any index in [0, K) is valid."""
        levels = self._levels.long().view(1, -1, 1, 1)
        digits = (
            torch.div(indices.unsqueeze(1), self._radix.view(1, -1, 1, 1), rounding_mode="floor")
            % levels
        )
        return (digits - torch.div(levels, 2, rounding_mode="floor")).float()


class UniformQuantiser(nn.Module):
    """Latent bounded to [0, 1] by a sigmoid, rounded to 2^q levels (straight-through)."""

    def forward(self, z: torch.Tensor, bits: int) -> torch.Tensor:
        bounded = torch.sigmoid(z)
        steps = float(2**bits - 1)
        return bounded + (torch.round(bounded * steps) / steps - bounded).detach()

    @staticmethod
    def to_symbols(quantised: torch.Tensor, bits: int) -> torch.Tensor:
        return torch.round(quantised * (2**bits - 1)).long()

    @staticmethod
    def from_symbols(symbols: torch.Tensor, bits: int) -> torch.Tensor:
        return symbols.float() / float(2**bits - 1)


class KeyframeAutoencoder(nn.Module):
    """Convolutional encoder E and decoder D (eq. 10, 13) with an FSQ or uniform quantiser."""

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        widths = config.widths
        encoder: list[nn.Module] = [nn.Conv2d(3, widths[0], 3, padding=1), nn.GELU()]
        for before, after in itertools.pairwise(widths):
            encoder += [nn.Conv2d(before, after, 4, stride=2, padding=1), nn.GELU()]
        encoder += [_Residual(widths[-1]) for _ in range(config.residual_blocks)]
        encoder.append(nn.Conv2d(widths[-1], config.latent_channels, 1))
        self.encoder = nn.Sequential(*encoder)

        decoder: list[nn.Module] = [
            nn.Conv2d(config.latent_channels, widths[-1], 3, padding=1),
            nn.GELU(),
        ]
        decoder += [_Residual(widths[-1]) for _ in range(config.residual_blocks)]
        for before, after in itertools.pairwise(widths[::-1]):
            decoder += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(before, after, 3, padding=1),
                nn.GELU(),
            ]
        decoder.append(nn.Conv2d(widths[0], 3, 3, padding=1))
        self.decoder = nn.Sequential(*decoder)
        self.fsq = FsqQuantiser(config.fsq_levels) if config.kind == "fsq" else None
        self.uniform = UniformQuantiser() if config.kind == "uniform" else None

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """z_e = E(x) for images in [0, 1], (B, 3, H, W) -> (B, d, H/s, W/s)."""
        latent: torch.Tensor = self.encoder(images * 2 - 1)
        return latent

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """x_hat = D(e), clamped to [0, 1]."""
        decoded: torch.Tensor = self.decoder(latent)
        return torch.clamp(decoded * 0.5 + 0.5, 0.0, 1.0)

    def decoder_input(self, quantised: torch.Tensor) -> torch.Tensor:
        """Scale quantised values into the decoder's working range."""
        if self.fsq is not None:
            half = (self.fsq._levels.view(1, -1, 1, 1) // 2).clamp(min=1)
            return quantised / half
        return quantised * 2 - 1

    def forward(self, images: torch.Tensor, bits: int = 8) -> torch.Tensor:
        latent = self.encode(images)
        if self.fsq is not None:
            quantised = self.fsq(latent)
        else:
            assert self.uniform is not None
            quantised = self.uniform(latent, bits)
        return self.decode(self.decoder_input(quantised))

    def save_pretrained(self, folder: Path) -> None:
        save_weights(self, self.config.to_json(), folder)

    @classmethod
    def from_pretrained(cls, folder: Path) -> KeyframeAutoencoder:
        """Load config.json + model.safetensors from a local folder (no network, ever)."""
        config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
        if not config_path.is_file() or not weights_path.is_file():
            raise CheckpointError(f"{folder} lacks {CONFIG_NAME} or {WEIGHTS_NAME}")
        try:
            config = AutoencoderConfig.from_json(json.loads(config_path.read_text()))
        except (json.JSONDecodeError, TypeError) as error:
            raise CheckpointError(f"{config_path}: {error}") from None
        model = cls(config)
        load_weights(model, folder)
        return model


def save_weights(module: nn.Module, config: dict[str, Any], folder: Path) -> None:
    """config.json + model.safetensors (float16) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
    state = {
        key: value.detach().to(torch.float16).contiguous()
        for key, value in module.state_dict().items()
    }
    save_file(state, str(folder / WEIGHTS_NAME))


def load_weights(module: nn.Module, folder: Path) -> None:
    """Load ``folder``'s model.safetensors into ``module`` (eval mode), refusing weights that do
    not match its layers exactly."""
    weights_path = folder / WEIGHTS_NAME
    if not weights_path.is_file():
        raise CheckpointError(f"{folder} lacks {WEIGHTS_NAME}")
    state = {key: value.float() for key, value in load_file(str(weights_path)).items()}
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        k for k in set(state) & set(expected) if state[k].shape != expected[k].shape
    )
    if missing or unexpected or mismatched:
        detail = "; ".join(
            f"{label}: {names[:4]}"
            for label, names in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("shape", mismatched),
            )
            if names
        )
        raise CheckpointError(f"{folder}: weights do not match config.json ({detail})")
    module.load_state_dict(state)
    module.eval()
