"""Backends by name: one small table per family (captioners, generators, SNR processes,
detectors, codecs), so that a flag, ``mirage-stream info`` and the error for a wrong name all
read the same list. Each entry carries its backend's options class (its own flags, read back
and checked by the class) and says what it needs beyond the package."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from mirage_stream.errors import InputError

F = TypeVar("F")


class BackendOptions(Protocol):
    """A backend's own options: a frozen dataclass that checks itself in ``__post_init__``,
    adds its flags to a group and reads them back."""

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None: ...

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BackendOptions: ...


@dataclass(frozen=True)
class NoOptions:
    """The options of a backend that has none."""

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        return None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> NoOptions:
        return cls()


def option_flags(options: type[BackendOptions]) -> dict[str, tuple[str, Any]]:
    """An options class's flags: flag -> (namespace field, default), read off a scratch
    parser so that the class states its flags once."""
    scratch = argparse.ArgumentParser(add_help=False)
    options.add_arguments(scratch.add_argument_group())
    return {
        action.option_strings[0]: (action.dest, action.default)
        for action in scratch._actions
        if action.option_strings
    }


@dataclass(frozen=True)
class Entry(Generic[F]):
    name: str
    summary: str  # one line for --help and info
    factory: F
    options: type[BackendOptions] = NoOptions
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
        options: type[BackendOptions] = NoOptions,
        needs: tuple[str, ...] = (),
        requires: tuple[str, ...] = (),
    ) -> None:
        if name in self._entries:
            raise ValueError(f"{self.family} {name!r} is registered twice")
        self._entries[name] = Entry(name, summary, factory, options, needs, requires)

    def remove(self, name: str) -> None:
        """Take an entry out again (a test's or a plug-in's own backend)."""
        del self._entries[name]

    def names(self) -> list[str]:
        return list(self._entries)

    def summaries(self) -> dict[str, str]:
        return {name: entry.summary for name, entry in self._entries.items()}

    def describe(self) -> dict[str, dict[str, Any]]:
        """Each name with its line, its own flags and what it needs beyond the package
        (``info``)."""
        return {
            name: {
                "summary": entry.summary,
                "options": {
                    flag: default for flag, (_, default) in option_flags(entry.options).items()
                },
                "needs": list(entry.needs),
            }
            for name, entry in self._entries.items()
        }

    def check(self, name: str, options: object | None = None) -> str:
        """``name`` if registered and, where ``options`` is passed, of the class its entry
        takes; else the one-line error a user sees."""
        if name not in self._entries:
            raise InputError(f"{self.flag} must be one of {', '.join(self._entries)}, got {name!r}")
        wanted = self._entries[name].options
        if options is not None and not isinstance(options, wanted):
            flags = ", ".join(option_flags(wanted)) or "none"
            raise InputError(
                f"{self.flag} {name} takes {wanted.__name__} (its flags: {flags}), "
                f"got {type(options).__name__}"
            )
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

    def add_arguments(
        self,
        parser: argparse.ArgumentParser,
        group: argparse._ArgumentGroup,
        default: str,
        lead: str,
    ) -> None:
        """The flag that picks a backend (in ``group``), then each backend's own flags in a
        group of their own (``--generator diffusion``), as its options class declares them."""
        group.add_argument(
            self.flag,
            default=default,
            metavar="{" + ",".join(self._entries) + "}",
            help=f"{lead}: {self.help()}; default %(default)s",
        )
        for entry in self._entries.values():
            if option_flags(entry.options):
                own = parser.add_argument_group(f"{self.flag} {entry.name}", entry.summary)
                entry.options.add_arguments(own)

    def options_from_args(self, name: str, args: argparse.Namespace) -> BackendOptions:
        """The chosen backend's options, read back from ``args``; a flag that belongs to
        another backend, or a required flag left out, is a one-line error."""
        chosen = self._entries[self.check(name)]
        own = option_flags(chosen.options)
        for entry in self._entries.values():
            for flag, (dest, default) in option_flags(entry.options).items():
                if flag not in own and getattr(args, dest, default) != default:
                    raise InputError(
                        f"{flag} is an option of {self.flag} {entry.name} (not {name})"
                    )
        given: Mapping[str, object] = {
            flag: getattr(args, dest, None) for flag, (dest, _) in own.items()
        }
        for required in chosen.requires:
            if given.get(required.split()[0]) is None:
                raise InputError(f"{self.flag} {name} needs {required}")
        return chosen.options.from_args(args)
