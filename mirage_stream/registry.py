"""Backends by name: one small table per family (captioners, generators, SNR processes,
detectors, codecs), so that a flag, ``mirage-stream info`` and the error for a wrong name all
read the same list; each entry says what it needs beyond the package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from mirage_stream.errors import InputError

F = TypeVar("F")


@dataclass(frozen=True)
class Entry(Generic[F]):
    name: str
    summary: str  # one line for --help and info
    factory: F
    needs: tuple[str, ...] = ()  # what it needs beyond the package (weights, a file, a GPU)
    # Flags that must be given with it, each with its metavar ("--snr-trace PATH").
    requires: tuple[str, ...] = ()


@dataclass
class Registry(Generic[F]):
    """Named factories of one backend family. ``flag`` names the option that picks one."""

    family: str
    flag: str
    _entries: dict[str, Entry[F]] = field(default_factory=dict, init=False)

    def add(
        self,
        name: str,
        summary: str,
        factory: F,
        needs: tuple[str, ...] = (),
        requires: tuple[str, ...] = (),
    ) -> None:
        if name in self._entries:
            raise ValueError(f"{self.family} {name!r} is registered twice")
        self._entries[name] = Entry(name, summary, factory, needs, requires)

    def names(self) -> list[str]:
        return list(self._entries)

    def summaries(self) -> dict[str, str]:
        return {name: entry.summary for name, entry in self._entries.items()}

    def describe(self) -> dict[str, dict[str, Any]]:
        """Each name with its line and what it needs beyond the package (``info``)."""
        return {
            name: {"summary": entry.summary, "needs": list(entry.needs)}
            for name, entry in self._entries.items()
        }

    def check(self, name: str, given: Mapping[str, object] | None = None) -> str:
        """``name`` if registered and, where ``given`` (flag -> value) is passed, every flag
        it requires has a value; else the one-line error a user sees."""
        if name not in self._entries:
            raise InputError(f"{self.flag} must be one of {', '.join(self._entries)}, got {name!r}")
        values = given or {}
        for required in self._entries[name].requires if given is not None else ():
            if not values.get(required.split()[0]):
                raise InputError(f"{self.flag} {name} needs {required}")
        return name

    def taking(self, flag: str) -> str | None:
        """The entry that requires ``flag`` (the one a user means by giving it), if one does."""
        for entry in self._entries.values():
            if any(required.split()[0] == flag for required in entry.requires):
                return entry.name
        return None

    def factory(self, name: str) -> F:
        return self._entries[self.check(name)].factory

    def help(self) -> str:
        """The choices as a sentence for ``--help``."""
        return "; ".join(f"{name}: {entry.summary}" for name, entry in self._entries.items())
