"""Where a model backend loads from: a local folder, or a hub id read from the local cache.

Nothing is downloaded unless the user allows it, so a fresh machine without the weights gets a
clear error at start-up instead of a hang or a network failure mid-call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mirage_stream.errors import InputError


@dataclass(frozen=True)
class ModelSource:
    target: str  # what from_pretrained receives
    local_files_only: bool
    is_folder: bool


def model_source(path_or_id: str, flag: str, allow_download: bool = False) -> ModelSource:
    """Resolve ``path_or_id`` for ``flag``; a path that names no folder is an ``InputError``."""
    local = Path(path_or_id).expanduser()
    is_folder = path_or_id.startswith((".", "/", "~")) or local.exists()
    if is_folder and not local.is_dir():
        raise InputError(f"{flag}: no model folder at {local}")
    return ModelSource(
        target=str(local) if is_folder else path_or_id,
        local_files_only=is_folder or not allow_download,
        is_folder=is_folder,
    )


def load_error(flag: str, path_or_id: str, what: str, error: Exception) -> InputError:
    """The one-line error for a model that would not load."""
    source = "folder" if Path(path_or_id).expanduser().exists() else "hub id (local cache only)"
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    return InputError(f"{flag}: cannot load {what} from {source} {path_or_id!r}: {first_line}")


def load_processor_and_model(
    path_or_id: str, model_class: Any, flag: str, what: str, allow_download: bool = False
) -> tuple[Any, Any]:
    """A transformers processor and model (``model_class.from_pretrained``) from one source."""
    from transformers import AutoProcessor

    source = model_source(path_or_id, flag, allow_download)
    try:
        processor = AutoProcessor.from_pretrained(  # type: ignore[no-untyped-call]
            source.target, local_files_only=source.local_files_only
        )
        model = model_class.from_pretrained(source.target, local_files_only=source.local_files_only)
    except (OSError, ValueError, KeyError) as error:
        raise load_error(flag, path_or_id, what, error) from None
    return processor, model
