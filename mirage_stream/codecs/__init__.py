"""Keyframe codecs, chosen by name (eq. 10-13).

| name | what | default variant |
|---|---|---|
| ``vq`` | trained FSQ-VAE: 128x96 -> 16x12 indices (240 B); or 64x64 -> 16x16 | ``K1024@128x96`` |
| ``ae`` | trained autoencoder, latent quantised to q bits (q = 2, 3, 4, 6, 8) | ``q8`` |
| ``thumbnail`` | baseline: a 24x18 YCrCb thumbnail with few-bit samples | ``y24x18b5-c12x9b4`` |

The learned codecs load their shipped weights lazily (torch is imported only when used).
"""

from __future__ import annotations

from collections.abc import Callable

from mirage_stream.codecs.base import CodecError, KeyframeCodec
from mirage_stream.codecs.thumbnail import ThumbnailCodec
from mirage_stream.types import EncodedKeyframe


def _vq(variant: str) -> KeyframeCodec:
    from mirage_stream.codecs.learned.codecs import vq_from_variant

    return vq_from_variant(variant)


def _ae(variant: str) -> KeyframeCodec:
    from mirage_stream.codecs.learned.codecs import ae_from_variant

    return ae_from_variant(variant)


# name -> (default variant, factory from a variant string, one line on what it is)
_REGISTRY: dict[str, tuple[str, Callable[[str], KeyframeCodec], str]] = {
    "vq": (
        "K1024@128x96",
        _vq,
        "trained FSQ-VAE: a 128x96 keyframe as 16x12 indices of K=1024 (240 B), or the 64x64 "
        "codecs K256..K2048 (16x16 indices)",
    ),
    "ae": ("q8", _ae, "trained autoencoder, latent quantised to q bits (q2..q8)"),
    "thumbnail": (
        ThumbnailCodec().variant,
        ThumbnailCodec.from_variant,
        "baseline: a 24x18 YCrCb thumbnail with few-bit samples",
    ),
}


def available_codecs() -> list[str]:
    return sorted(_REGISTRY)


def describe_codecs() -> dict[str, str]:
    """Each codec name with its default variant and a line on what it is."""
    return {
        name: f"{summary}; default {default}" for name, (default, _, summary) in _REGISTRY.items()
    }


def make_codec(name: str, variant: str | None = None) -> KeyframeCodec:
    """The named codec, at ``variant`` or its default. ``name`` may also be ``name:variant``."""
    if variant is None and ":" in name:
        name, variant = name.split(":", 1)
    try:
        default, factory, _ = _REGISTRY[name]
    except KeyError:
        raise CodecError(f"codec must be one of {available_codecs()}, got {name!r}") from None
    return factory(variant or default)


def codec_for(encoded: EncodedKeyframe) -> KeyframeCodec:
    """The codec that can decode ``encoded``, from its wire codec name and variant."""
    if encoded.codec not in _REGISTRY:
        raise CodecError(f"unknown keyframe codec {encoded.codec!r}")
    return make_codec(encoded.codec, encoded.variant)


__all__ = [
    "CodecError",
    "KeyframeCodec",
    "ThumbnailCodec",
    "available_codecs",
    "codec_for",
    "describe_codecs",
    "make_codec",
]
