"""Keyframe codecs, chosen by name (eq. 10-13)."""

from __future__ import annotations

from collections.abc import Callable

from mirage_stream.codecs.base import CodecError, KeyframeCodec
from mirage_stream.codecs.thumbnail import ThumbnailCodec
from mirage_stream.types import EncodedKeyframe

# name -> (default factory, factory from a wire variant string)
_REGISTRY: dict[str, tuple[Callable[[], KeyframeCodec], Callable[[str], KeyframeCodec]]] = {
    "thumbnail": (lambda: ThumbnailCodec(), ThumbnailCodec.from_variant),
}


def available_codecs() -> list[str]:
    return sorted(_REGISTRY)


def make_codec(name: str) -> KeyframeCodec:
    """The named codec with its default setting."""
    try:
        factory, _ = _REGISTRY[name]
    except KeyError:
        raise CodecError(f"codec must be one of {available_codecs()}, got {name!r}") from None
    return factory()


def codec_for(encoded: EncodedKeyframe) -> KeyframeCodec:
    """The codec that can decode ``encoded``, from its wire codec name and variant."""
    try:
        _, from_variant = _REGISTRY[encoded.codec]
    except KeyError:
        raise CodecError(f"unknown keyframe codec {encoded.codec!r}") from None
    return from_variant(encoded.variant)


__all__ = [
    "CodecError",
    "KeyframeCodec",
    "ThumbnailCodec",
    "available_codecs",
    "codec_for",
    "make_codec",
]
