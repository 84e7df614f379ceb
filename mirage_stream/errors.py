"""The typed errors a user or a peer can provoke. Anything else escaping is a bug."""


class MirageError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(MirageError, ValueError):
    """A user-supplied input (path, sample name, flag value) cannot be used."""


class PayloadError(MirageError, ValueError):
    """Wire bytes are not a valid SemanticPayload (malformed, truncated, oversized, bad version)."""


class OutputError(MirageError, OSError):
    """Results cannot be written where they were asked for (read-only folder, disk full)."""


class FieldValueError(ValueError):
    """A setting's value is out of its range; ``field`` names the setting (a dataclass field),
    so a config can report it as the flag that set it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem
