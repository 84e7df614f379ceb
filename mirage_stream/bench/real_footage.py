"""The real-footage caption set: camera clips made outside this project, labelled by hand.

The clips are the files of public sample-video repositories, kept byte for byte under
``footage/real/SOURCE/`` of a clone of this repository (each file's SHA-256 is in the set's data
file, ``footage/real/real_set.json``, with every source's repository, commit and licence). A
clip is frames ``[start, start + frames)`` of its file; a clip that is a whole file is read as it
is (GIF, MKV, AVI, MP4), an excerpt is written once to an MP4. The split is by source: the tune
sources may choose thresholds, the test sources are only reported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from mirage_stream.bench.caption_set import (
    EvalClip,
    encode_even_frames,
    load_caption_set,
    write_clip,
)
from mirage_stream.errors import InputError
from mirage_stream.sources import FileSource, SourceConfig
from mirage_stream.types import FrameArray, VideoSegment

FOOTAGE_ROOT = Path(__file__).resolve().parents[2] / "footage" / "real"
REAL_SET_FILE = FOOTAGE_ROOT / "real_set.json"


def load_real_set(path: Path = REAL_SET_FILE) -> list[EvalClip]:
    """The real set's clips; a clear error where the footage is not there (an installed wheel
    carries no footage: the set lives in a clone of the repository)."""
    if not path.exists():
        raise InputError(
            f"the real-footage set is not here ({path}): it ships in a clone of the repository, "
            "not in the installed package"
        )
    return load_caption_set(path)


def source_file(clip: EvalClip, root: Path = FOOTAGE_ROOT) -> Path:
    """The clip's file: ``root/SOURCE/FILE``, or ``root/../FOLDER/SOURCE/FILE`` for a file
    another footage set already keeps (``folder``: the talking heads of ``footage/portrait``)."""
    recipe = clip.recipe
    base = root.parent / str(recipe["folder"]) if recipe.get("folder") else root
    path = base / str(recipe["source"]) / str(recipe["file"])
    if not path.is_file():
        raise InputError(f"clip {clip.name}: footage file {path} is missing")
    return path


def verify_checksums(checksums: dict[str, str], root: Path = FOOTAGE_ROOT) -> list[str]:
    """The files whose SHA-256 differs from the recorded one (empty when all agree)."""
    return [
        name
        for name, digest in checksums.items()
        if hashlib.sha256((root / name).read_bytes()).hexdigest() != digest
    ]


def footage_frames(clip: EvalClip, root: Path = FOOTAGE_ROOT) -> Iterator[FrameArray]:
    """The clip's frames, RGB at the file's own size."""
    start = int(clip.recipe.get("start") or 0)
    count = clip.recipe.get("frames")
    with av.open(str(source_file(clip, root))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index < start:
                continue
            if count is not None and index >= start + int(count):
                return
            yield np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


def footage_rate(clip: EvalClip, root: Path = FOOTAGE_ROOT) -> Fraction:
    with av.open(str(source_file(clip, root))) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        return Fraction(rate).limit_denominator(1001) if rate else Fraction(25)


def footage_clip(clip: EvalClip, folder: Path, root: Path = FOOTAGE_ROOT) -> Path:
    """A file holding just the clip: the source file itself when the clip is all of it, else
    an excerpt written once to ``folder`` (H.264, CRF 18)."""
    path = source_file(clip, root)
    if not clip.recipe.get("start") and clip.recipe.get("frames") is None:
        return path
    out = folder / f"{clip.name}.mp4"
    if out.exists() and out.stat().st_size > 0:
        return out
    folder.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".part.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=footage_rate(clip, root))
        assert isinstance(stream, av.VideoStream)
        stream.pix_fmt, stream.options = "yuv420p", {"crf": "18"}
        encode_even_frames(container, stream, footage_frames(clip, root))
    partial.rename(out)
    return out


def tune_source_frames(
    every: int = 2, max_side: int = 640, root: Path = FOOTAGE_ROOT
) -> tuple[list[FrameArray], list[str]]:
    """Training material from the tune half only: every ``every``-th frame of each file of
    the sources whose clips are all tune clips (no test source is ever read), shrunk to at
    most ``max_side``; and one line per source saying where it comes from and its licence."""
    data = json.loads((root / REAL_SET_FILE.name).read_text())
    splits: dict[str, set[str]] = {}
    for clip in load_real_set(root / REAL_SET_FILE.name):
        splits.setdefault(str(clip.recipe["source"]), set()).add(clip.split)
    tune = sorted(source for source, halves in splits.items() if halves == {"tune"})
    frames: list[FrameArray] = []
    for name in sorted(data["checksums"]):
        if name.split("/", 1)[0] not in tune:
            continue
        with av.open(str(root / name)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index % every:
                    continue
                image = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
                scale = max_side / max(image.shape[:2])
                if scale < 1:
                    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
                    image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
                frames.append(np.ascontiguousarray(image, dtype=np.uint8))
    sources = [
        f"{source}: {data['sources'][source]['repository']} @ {data['sources'][source]['commit']}"
        f" ({data['sources'][source]['licence']})"
        for source in tune
    ]
    return frames, sources


def evaluation_segments(
    split: str, folder: Path, working: tuple[int, int] = (320, 240)
) -> Iterator[tuple[str, EvalClip, VideoSegment]]:
    """Every clip of both evaluation sets in ``split`` ("tune", "test" or "all"), as
    ``bench caption`` shows it to the sender: written under ``folder`` (and reused there), read
    back as one segment at the working size. Yields (set name, clip, segment): what the
    threshold tools (``tools/*_scores.py``) print their scores on."""
    for set_name, clips in (("real", load_real_set()), ("composed", load_caption_set())):
        (folder / set_name).mkdir(parents=True, exist_ok=True)
        for clip in clips:
            if split != "all" and clip.split != split:
                continue
            is_file = clip.recipe["kind"] == "file"
            path = (footage_clip if is_file else write_clip)(clip, folder / set_name)
            source = FileSource(path, SourceConfig(width=working[0], height=working[1]))
            try:
                yield set_name, clip, next(source.iter_segments(1e6))
            finally:
                source.close()
