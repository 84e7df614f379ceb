"""Bench commands: each prints one JSON object (see README for what each measures).

Every bench takes its config and returns a dataclass result (its fields are the JSON keys);
each reports progress through one callback type, ``Progress``, a line at a time."""

from collections.abc import Callable

Progress = Callable[[str], None]


def quiet(_message: str) -> None:
    """The progress callback of a bench run without one."""
