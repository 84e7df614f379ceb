"""Keyframe codecs, chosen by name (eq. 10-13).

| name | what | default variant |
|---|---|---|
| ``vq`` | trained FSQ-VAE: 128x96 -> 16x12 indices (240 B); or 64x64 -> 16x16 | ``K1024@128x96`` |
| ``ae`` | trained autoencoder, latent quantised to q bits (q = 2, 3, 4, 6, 8) | ``q8`` |
| ``thumbnail`` | baseline: a 24x18 YCrCb thumbnail with few-bit samples | ``y24x18b5-c12x9b4`` |

The learned codecs load their shipped weights lazily (torch is imported only when used).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mirage_stream.codecs.base import CodecError, KeyframeCodec
from mirage_stream.codecs.thumbnail import ThumbnailCodec
from mirage_stream.errors import InputError
from mirage_stream.registry import Registry
from mirage_stream.types import EncodedKeyframe


@dataclass(frozen=True)
class CodecBackend:
    """How to make one codec: its default variant, a factory from a variant string, and the
    variants this install can run (its shipped weights), which every bench and the rate
    adapter read: a new codec or variant is measured and chosen without a list to edit."""

    default_variant: str
    from_variant: Callable[[str], KeyframeCodec]
    shipped_variants: Callable[[], list[str]]

    def variants(self) -> list[str]:
        return self.shipped_variants()


def _vq(variant: str) -> KeyframeCodec:
    from mirage_stream.codecs.learned.codecs import vq_from_variant

    return vq_from_variant(variant)


def _vq_variants() -> list[str]:
    from mirage_stream.codecs.learned.codecs import shipped_vq_variants

    return shipped_vq_variants()


def _ae(variant: str) -> KeyframeCodec:
    from mirage_stream.codecs.learned.codecs import ae_from_variant

    return ae_from_variant(variant)


def _ae_variants() -> list[str]:
    from mirage_stream.codecs.learned.codecs import AE_BITS, WEIGHTS_DIR

    return [f"q{bits}" for bits in AE_BITS] if (WEIGHTS_DIR / "ae").is_dir() else []


CODECS: Registry[CodecBackend] = Registry("codec", "--codec")
CODECS.add(
    "vq",
    "trained FSQ-VAE: a 128x96 keyframe as 16x12 indices of K=1024 (240 B), or the 64x64 "
    "codecs K256..K2048 (16x16 indices)",
    CodecBackend("K1024@128x96", _vq, _vq_variants),
)
CODECS.add(
    "ae",
    "trained autoencoder, latent quantised to q bits (q2..q8)",
    CodecBackend("q8", _ae, _ae_variants),
)
CODECS.add(
    "thumbnail",
    "baseline: a 24x18 YCrCb thumbnail with few-bit samples",
    CodecBackend(
        ThumbnailCodec().variant, ThumbnailCodec.from_variant, lambda: [ThumbnailCodec().variant]
    ),
)


def available_codecs() -> list[str]:
    return sorted(CODECS.names())


def codec_settings(names: Iterable[str] | None = None) -> list[str]:
    """``name:variant`` for every variant each named codec (all when None) can run here;
    a ``name:variant`` among ``names`` stands for itself."""
    settings: list[str] = []
    for name in CODECS.names() if names is None else names:
        if ":" in name:
            settings.append(name)
            continue
        backend = CODECS.factory(name)
        variants = backend.variants()
        if variants == [backend.default_variant] and len(variants) == 1:
            settings.append(name)  # one setting: its name says it
        else:
            settings += [f"{name}:{variant}" for variant in variants]
    return settings


def check_codec_setting(setting: str) -> str:
    """``setting`` (``name`` or ``name:variant``) if this install runs it, else the one-line
    error listing what it runs; cheap (no weights are loaded), so configs check it at start.
    A variant's suffix after ``-`` (the index order, ``K256-random``) is the codec's to judge."""
    name, _, variant = setting.partition(":")
    CODECS.check(name)
    if variant:
        runs = CODECS.factory(name).variants()
        if variant.split("-", 1)[0] not in runs:
            raise InputError(
                f"--codec {setting}: {name} has no variant {variant!r} here; it runs "
                f"{', '.join(runs) or 'none (no shipped weights)'}"
            )
    return setting


def make_codec(name: str, variant: str | None = None) -> KeyframeCodec:
    """The named codec, at ``variant`` or its default. ``name`` may also be ``name:variant``."""
    if variant is None and ":" in name:
        name, variant = name.split(":", 1)
    if name not in CODECS.names():
        raise CodecError(f"codec must be one of {available_codecs()}, got {name!r}")
    backend = CODECS.factory(name)
    return backend.from_variant(variant or backend.default_variant)


def codec_for(encoded: EncodedKeyframe) -> KeyframeCodec:
    """The codec that can decode ``encoded``, from its wire codec name and variant."""
    if encoded.codec not in CODECS.names():
        raise CodecError(f"unknown keyframe codec {encoded.codec!r}")
    return make_codec(encoded.codec, encoded.variant)


__all__ = [
    "CODECS",
    "CodecBackend",
    "CodecError",
    "KeyframeCodec",
    "ThumbnailCodec",
    "available_codecs",
    "check_codec_setting",
    "codec_for",
    "codec_settings",
    "make_codec",
]
