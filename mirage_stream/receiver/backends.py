"""Generator backends by name: ``offline`` (default) or ``diffusion`` (diffusers, from a model
folder or cached hub id). Chosen and loaded at start-up, so a bad name or path fails early."""

from __future__ import annotations

from mirage_stream.errors import InputError
from mirage_stream.receiver.generators import Generator, KeyframeMotionGenerator

GENERATORS = ("offline", "diffusion")


def build_generator(
    name: str,
    model: str | None = None,
    *,
    allow_download: bool = False,
    cpu_offload: bool = False,
) -> Generator:
    if name == "offline":
        return KeyframeMotionGenerator()
    if name == "diffusion":
        if not model:
            raise InputError("--generator diffusion needs --diffusion-model PATH_OR_HUB_ID")
        from mirage_stream.receiver.diffusion import DiffusersVideoGenerator

        return DiffusersVideoGenerator.from_pretrained(
            model, allow_download=allow_download, cpu_offload=cpu_offload
        )
    raise InputError(f"--generator must be one of {', '.join(GENERATORS)}, got {name!r}")
