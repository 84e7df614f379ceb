"""What a ``--labels`` value names: a clip of either caption set, or a labels file."""

from __future__ import annotations

from pathlib import Path

from mirage_stream.bench.caption_set import EvalClip, load_caption_set
from mirage_stream.bench.real_footage import load_real_set
from mirage_stream.errors import InputError

SET_PREFIX = "caption-set:"
REAL_PREFIX = "real:"


def labelled_clip(spec: str) -> EvalClip:
    """The one clip a ``--labels`` value names: ``caption-set:NAME`` (a clip of the composed
    set), ``real:NAME`` (a clip of the real-footage set) or the path of a labels file holding
    one clip."""
    for prefix, what in ((SET_PREFIX, "caption set"), (REAL_PREFIX, "real-footage set")):
        if not spec.startswith(prefix):
            continue
        clips = load_real_set() if prefix == REAL_PREFIX else load_caption_set()
        named = {clip.name: clip for clip in clips}
        name = spec[len(prefix) :]
        if name not in named:
            raise InputError(f"no clip {name!r} in the {what}; one of {', '.join(named)}")
        return named[name]
    clips = load_caption_set(Path(spec))
    if len(clips) != 1:
        raise InputError(f"--labels {spec}: one clip expected, found {len(clips)}")
    return clips[0]
