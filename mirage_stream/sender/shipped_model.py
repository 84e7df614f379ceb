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


class ShippedModel:
    """One LiteRT interpreter per thread: an interpreter keeps its tensors inside and is not
    safe to share, while the sender's stages run on the event loop's worker threads."""

    def __init__(self, file: str, sha256: str) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter_class: Any = Interpreter
        self._data = model_bytes(file, sha256)  # a bad file fails when the sender is built
        self._local = threading.local()

    def interpreter(self) -> Any:
        interpreter = getattr(self._local, "interpreter", None)
        if interpreter is None:
            interpreter = self._interpreter_class(model_content=self._data, num_threads=1)
            interpreter.allocate_tensors()
            self._local.interpreter = interpreter
        return interpreter
