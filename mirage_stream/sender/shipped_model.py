"""A model file shipped in the package (``sender/models/``), run by LiteRT."""

from __future__ import annotations

import hashlib
import threading
from functools import cache
from importlib import resources
from typing import Any


@cache
def model_bytes(file: str, sha256: str) -> bytes:
    """The file's bytes, checked once against the SHA-256 recorded beside its licence."""
    data = resources.files("mirage_stream.sender").joinpath("models", file).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise RuntimeError(f"{file} does not match its recorded SHA-256: reinstall")
    return data


# Per thread, one interpreter per model file, shared by every sender of the process: an
# interpreter keeps its tensors inside and is not safe to share between threads, but a thread
# runs one stage at a time, whichever call it serves. Building one costs tens of milliseconds
# and the model's packed weights, so calls on one server no longer each build their own.
_PER_THREAD = threading.local()


class ShippedModel:
    """A shipped model and its LiteRT interpreter for the calling thread."""

    def __init__(self, file: str, sha256: str, keep_tensors: bool = False) -> None:
        """``keep_tensors``: an interpreter of its own that keeps every intermediate tensor
        readable after ``invoke`` (a layer's features, not only the outputs)."""
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter_class: Any = Interpreter
        self._file = file
        self._keep_tensors = keep_tensors
        self._data = model_bytes(file, sha256)  # a bad file fails when the sender is built

    def interpreter(self) -> Any:
        built: dict[tuple[str, bool], Any] = _PER_THREAD.__dict__.setdefault("interpreters", {})
        key = (self._file, self._keep_tensors)
        interpreter = built.get(key)
        if interpreter is None:
            interpreter = self._interpreter_class(
                model_content=self._data,
                num_threads=1,
                experimental_preserve_all_tensors=self._keep_tensors,
            )
            interpreter.allocate_tensors()
            built[key] = interpreter
        return interpreter
