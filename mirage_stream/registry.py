"""Backends by name: one small table per family (captioners, generators, SNR processes), so
that a flag, ``mirage-stream info`` and the error for a wrong name all read the same list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from mirage_stream.errors import InputError

F = TypeVar("F")


@dataclass(frozen=True)
class Entry(Generic[F]):
    name: str
    summary: str  # one line for --help and info
    factory: F


@dataclass
class Registry(Generic[F]):
    """Named factories of one backend family. ``flag`` names the option that picks one."""

    family: str
    flag: str
    _entries: dict[str, Entry[F]] = field(default_factory=dict, init=False)

    def add(self, name: str, summary: str, factory: F) -> None:
        if name in self._entries:
            raise ValueError(f"{self.family} {name!r} is registered twice")
        self._entries[name] = Entry(name, summary, factory)

    def names(self) -> list[str]:
        return list(self._entries)

    def summaries(self) -> dict[str, str]:
        return {name: entry.summary for name, entry in self._entries.items()}

    def check(self, name: str) -> str:
        """``name`` if registered; else the one-line error a user sees."""
        if name not in self._entries:
            raise InputError(f"{self.flag} must be one of {', '.join(self._entries)}, got {name!r}")
        return name

    def factory(self, name: str) -> F:
        return self._entries[self.check(name)].factory

    def help(self) -> str:
        """The choices as a sentence for ``--help``."""
        return "; ".join(f"{name}: {entry.summary}" for name, entry in self._entries.items())
