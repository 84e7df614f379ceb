"""Keyframe codecs on a trained ``KeyframeAutoencoder``: ``vq`` (FSQ indices, h w log2 K bits,
eq. 10-13) and ``ae`` (latent quantised to q bits)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import torch

from mirage_stream.codecs.base import CodecError
from mirage_stream.codecs.bitpack import pack_symbols, packed_size, unpack_symbols
from mirage_stream.codecs.learned.model import (
    CheckpointError,
    KeyframeAutoencoder,
    UniformQuantiser,
)
from mirage_stream.types import EncodedKeyframe, FrameArray

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_VQ_SIZE = (64, 64)  # the input size of the K<size> codecs; others say theirs
AE_BITS = (2, 3, 4, 6, 8)


def _to_tensor(image: FrameArray, size: tuple[int, int]) -> torch.Tensor:
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3), got {image.shape}")
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if (image.shape[1], image.shape[0]) != size:
        shrinking = image.shape[1] > size[0]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
        image = np.asarray(cv2.resize(image, size, interpolation=interpolation), np.uint8)
    return torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0


def _to_image(tensor: torch.Tensor, size: tuple[int, int]) -> FrameArray:
    image = (tensor[0].permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
    if (image.shape[1], image.shape[0]) != size:
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC), np.uint8)
    return np.ascontiguousarray(image)


@cache
def load_model(folder: Path) -> KeyframeAutoencoder:
    """A checkpoint from a local folder, loaded once per process."""
    return KeyframeAutoencoder.from_pretrained(folder)


def shipped_vq_variants() -> list[str]:
    """The variant of every vq checkpoint shipped with the package: ``K<size>`` for the 64x64
    codecs (folders ``vq-K<size>``), ``K<size>@<W>x<H>`` for those coding at another size
    (folders ``vq-K<size>-<W>x<H>``); by size, then K."""
    variants = []
    for folder in WEIGHTS_DIR.glob("vq-K*"):
        base, _, size = folder.name[3:].partition("-")
        if folder.is_dir() and base[1:].isdigit():
            variants.append(base + (f"@{size}" if size else ""))
    return sorted(variants, key=lambda v: ("@" in v, v.partition("@")[2], int(v[1:].split("@")[0])))


def shipped_folder(name: str) -> Path:
    folder = WEIGHTS_DIR / name
    if not folder.is_dir():
        raise CodecError(f"no shipped weights {name!r} in {WEIGHTS_DIR}")
    return folder


@dataclass
class VqKeyframeCodec:
    """FSQ-VAE codec: the keyframe is resized to the model's input size (64x64 by default) and
    becomes a 16x16 grid of indices into a K-entry codebook, log2 K bits each.

    ``index_order`` ``lattice`` sends the mixed-radix FSQ index, so one flipped bit moves one
    latent channel by a power-of-two number of levels (neighbouring codewords stay close);
    ``random`` sends a seeded random relabelling of the same codebook, the baseline for
    measuring what that ordering buys under bit errors.
    """

    model: KeyframeAutoencoder
    index_order: str = "lattice"
    name: str = "vq"
    _permutation: npt.NDArray[np.int64] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.model.fsq is None:
            raise CodecError("the vq codec needs an FSQ model (kind 'fsq')")
        if self.index_order not in ("lattice", "random"):
            raise CodecError(f"index_order must be 'lattice' or 'random', got {self.index_order}")
        if self.index_order == "random":
            self._permutation = np.random.default_rng(0).permutation(self.codebook_size)

    @property
    def codebook_size(self) -> int:
        return self.model.config.codebook_size

    @property
    def bits_per_index(self) -> int:
        return int(math.log2(self.codebook_size))

    @property
    def grid(self) -> tuple[int, int]:
        width, height = self.model.config.input_size
        step = self.model.config.downsampling
        return height // step, width // step

    @property
    def variant(self) -> str:
        suffix = "" if self.index_order == "lattice" else "-random"
        width, height = self.model.config.input_size
        size = "" if (width, height) == DEFAULT_VQ_SIZE else f"@{width}x{height}"
        return f"K{self.codebook_size}{size}{suffix}"

    def payload_bytes(self) -> int:
        rows, cols = self.grid
        return packed_size(rows * cols, self.bits_per_index)

    def damaged_symbols(self, bit_offsets: Sequence[int]) -> list[int]:
        count = self.grid[0] * self.grid[1]
        return sorted({b // self.bits_per_index for b in bit_offsets} & set(range(count)))

    @torch.no_grad()
    def indices(self, image: FrameArray) -> npt.NDArray[np.int64]:
        """The (rows, cols) codebook indices of ``image`` in lattice order."""
        assert self.model.fsq is not None
        latent = self.model.encode(_to_tensor(image, self.model.config.input_size))
        return self.model.fsq.to_indices(self.model.fsq(latent))[0].numpy()

    def encode(self, image: FrameArray, frame_index: int = 0) -> EncodedKeyframe:
        sent = self.indices(image).ravel()
        if self._permutation is not None:
            sent = self._permutation[sent]
        return EncodedKeyframe(
            codec=self.name,
            variant=self.variant,
            grid=self.grid,
            data=pack_symbols(sent, self.bits_per_index),
            frame_index=frame_index,
        )

    @torch.no_grad()
    def decode(
        self, encoded: EncodedKeyframe, size: tuple[int, int], damaged: bool = False
    ) -> FrameArray:
        """Every bit pattern is a valid index (K is a power of two), so damage never fails."""
        assert self.model.fsq is not None
        rows, cols = self.grid
        received = unpack_symbols(encoded.data, self.bits_per_index, rows * cols)
        if self._permutation is not None:
            received = np.argsort(self._permutation)[received]
        indices = torch.from_numpy(received.reshape(1, rows, cols))
        levels = self.model.fsq.from_indices(indices)
        return _to_image(self.model.decode(self.model.decoder_input(levels)), size)


@dataclass
class AeKeyframeCodec:
    """Autoencoder codec: the keyframe at the model's input size (320x240 by default) becomes a
    latent of c x h x w values, each quantised to ``bits`` bits (q in {2, 3, 4, 6, 8})."""

    model: KeyframeAutoencoder
    bits: int = 8
    name: str = "ae"

    def __post_init__(self) -> None:
        if self.model.uniform is None:
            raise CodecError("the ae codec needs a uniform-quantiser model (kind 'uniform')")
        if self.bits not in AE_BITS:
            raise CodecError(f"q must be one of {AE_BITS}, got {self.bits}")

    @property
    def variant(self) -> str:
        return f"q{self.bits}"

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        width, height = self.model.config.input_size
        step = self.model.config.downsampling
        return self.model.config.latent_channels, height // step, width // step

    def payload_bytes(self) -> int:
        return packed_size(math.prod(self.latent_shape), self.bits)

    def damaged_symbols(self, bit_offsets: Sequence[int]) -> list[int]:
        count = math.prod(self.latent_shape)
        return sorted({b // self.bits for b in bit_offsets} & set(range(count)))

    @torch.no_grad()
    def encode(self, image: FrameArray, frame_index: int = 0) -> EncodedKeyframe:
        latent = self.model.encode(_to_tensor(image, self.model.config.input_size))
        symbols = UniformQuantiser.to_symbols(torch.sigmoid(latent), self.bits)
        _, rows, cols = self.latent_shape
        return EncodedKeyframe(
            codec=self.name,
            variant=self.variant,
            grid=(rows, cols),
            data=pack_symbols(symbols.numpy().ravel(), self.bits),
            frame_index=frame_index,
        )

    @torch.no_grad()
    def decode(
        self, encoded: EncodedKeyframe, size: tuple[int, int], damaged: bool = False
    ) -> FrameArray:
        channels, rows, cols = self.latent_shape
        symbols = unpack_symbols(encoded.data, self.bits, channels * rows * cols)
        grid = torch.from_numpy(symbols.reshape(1, channels, rows, cols))
        latent = UniformQuantiser.from_symbols(grid, self.bits)
        return _to_image(self.model.decode(self.model.decoder_input(latent)), size)


def vq_from_variant(variant: str, folder: Path | None = None) -> VqKeyframeCodec:
    """``K256`` (or ``K256-random``, or ``K1024@128x96`` for a codec coding at another size)
    from the shipped weights or ``folder``."""
    named, _, order = variant.partition("-")
    base, _, size = named.partition("@")
    width, _, height = size.partition("x")
    if not (base.startswith("K") and base[1:].isdigit()) or (
        size and not (width.isdigit() and height.isdigit())
    ):
        raise CodecError(f"vq variant {variant!r} is not of the form K<size>[@WxH][-random]")
    weights = folder or shipped_folder(f"vq-{base}" + (f"-{size}" if size else ""))
    try:
        model = load_model(weights)
    except CheckpointError as error:
        raise CodecError(str(error)) from None
    if model.config.codebook_size != int(base[1:]):
        raise CodecError(f"weights hold K={model.config.codebook_size}, variant asks {base}")
    return VqKeyframeCodec(model, index_order=order or "lattice")


def ae_from_variant(variant: str, folder: Path | None = None) -> AeKeyframeCodec:
    """``q8`` (2, 3, 4, 6 or 8) from the shipped weights or ``folder``."""
    if not variant.startswith("q") or not variant[1:].isdigit():
        raise CodecError(f"ae variant {variant!r} is not of the form q<bits>")
    try:
        model = load_model(folder or shipped_folder("ae"))
    except CheckpointError as error:
        raise CodecError(str(error)) from None
    return AeKeyframeCodec(model, bits=int(variant[1:]))
