"""The labelled caption evaluation set: short clips built offline, and their hand-written labels.

Every clip and its labels live in one data file (``data/caption_set.json``): a recipe that says
how the clip is made (``scenes.py``) and the labels a person wrote after looking at it.

Clips are written in the container and codec the recipe names (mp4/h264, mkv/vp9, avi/mpeg4,
mov/mjpeg), so the bench reads them through the same PyAV source as any user's file. Labels are
checked by eye against a contact sheet (``bench caption-set --sheet``); the clips are split into
a ``tune`` half (thresholds may be chosen on it) and a ``test`` half (reported).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import av
import av.container
import cv2
import numpy as np

from mirage_stream.bench.scenes import render, source_rate
from mirage_stream.errors import InputError
from mirage_stream.types import FrameArray

LABELS_FILE = "caption_set.json"
CAMERA_LABELS = ("still", "pan left", "pan right", "tilt up", "tilt down", "zoom in", "zoom out")
ACTIONS = ("walking", "standing", "sitting", "talking", "gesturing")
EXPRESSIONS = ("smiling", "mouth open", "eyes closed")
_CODECS = {"mp4": "libx264", "mkv": "libvpx-vp9", "avi": "mpeg4", "mov": "mjpeg"}


@dataclass(frozen=True)
class ClipLabels:
    """What a person sees in a clip. ``people`` is a range (lo, hi) over the whole clip;
    ``person_px`` the height of the tallest fully visible person at source resolution (None
    without one); ``walking`` the direction people walk in screen terms ("left", "right") or None;
    ``colours`` every colour name a person would accept for the clip's main colours."""

    people: tuple[int, int]
    person_px: int | None
    actions: tuple[str, ...]
    walking: str | None
    hands: bool
    objects: tuple[str, ...]
    camera: tuple[str, ...]  # every true description of the camera; the first is the main one
    cuts: tuple[float, ...]
    setting: str  # "indoor", "outdoor" or "unknown"
    animation: bool
    colours: tuple[str, ...]
    # How many cars are in view over the clip, (lo, hi); None where not counted.
    vehicles: tuple[int, int] | None = None
    # The person nearest the camera (talking heads): expressions seen ("smiling", "mouth
    # open", "eyes closed"), where the head turns to look in frame terms ("left", "right",
    # "up", "down"), glasses (None: not labelled) and every hair colour word a person accepts.
    expressions: tuple[str, ...] = ()
    looks: tuple[str, ...] = ()
    glasses: bool | None = None
    hair: tuple[str, ...] | None = None  # () for no hair to name (a bald head)

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> ClipLabels:
        labels = cls(
            people=(int(values["people"][0]), int(values["people"][1])),
            person_px=values.get("person_px"),
            actions=tuple(values.get("actions", ())),
            walking=values.get("walking"),
            hands=bool(values.get("hands", False)),
            objects=tuple(values.get("objects", ())),
            camera=tuple(values["camera"]),
            cuts=tuple(float(t) for t in values.get("cuts", ())),
            setting=values["setting"],
            animation=bool(values.get("animation", False)),
            colours=tuple(values["colours"]),
            vehicles=(
                (int(values["vehicles"][0]), int(values["vehicles"][1]))
                if values.get("vehicles") is not None
                else None
            ),
            expressions=tuple(values.get("expressions", ())),
            looks=tuple(values.get("looks", ())),
            glasses=values.get("glasses"),
            hair=tuple(values["hair"]) if values.get("hair") is not None else None,
        )
        if not labels.camera or set(labels.camera) - set(CAMERA_LABELS):
            raise ValueError(f"camera labels {labels.camera} must come from {CAMERA_LABELS}")
        if unknown := set(labels.actions) - set(ACTIONS):
            raise ValueError(f"unknown actions {sorted(unknown)}")
        if unknown := set(labels.expressions) - set(EXPRESSIONS):
            raise ValueError(f"unknown expressions {sorted(unknown)}")
        if unknown := set(labels.looks) - {"left", "right", "up", "down"}:
            raise ValueError(f"unknown head directions {sorted(unknown)}")
        if labels.setting not in ("indoor", "outdoor", "unknown"):
            raise ValueError(f"setting {labels.setting!r} must be indoor, outdoor or unknown")
        return labels


@dataclass(frozen=True)
class EvalClip:
    name: str
    split: str  # "tune" or "test"
    recipe: dict[str, Any]
    labels: ClipLabels
    description: str


def load_caption_set(path: Path | None = None) -> list[EvalClip]:
    """The clips and labels of the data file (the shipped one by default)."""
    if path is None:
        text = resources.files("mirage_stream.bench").joinpath("data", LABELS_FILE).read_text()
    else:
        try:
            text = path.read_text()
        except OSError as error:
            raise InputError(f"cannot read labels {path}: {error}") from None
    try:
        entries = json.loads(text)["clips"]
        clips = [
            EvalClip(
                name=entry["name"],
                split=entry.get("split", "test"),
                recipe=entry.get("recipe", {}),
                labels=ClipLabels.from_json(entry["labels"]),
                description=entry.get("description", ""),
            )
            for entry in entries
        ]
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
        raise InputError(f"labels file {path or LABELS_FILE}: {error}") from None
    names = [clip.name for clip in clips]
    if len(set(names)) != len(names):
        raise InputError("labels file: clip names must be unique")
    return clips


def clip_frames(clip: EvalClip, seed: int = 0) -> Iterator[FrameArray]:
    rng = np.random.default_rng([seed, sum(map(ord, clip.name))])
    try:
        return render(clip.recipe, rng)
    except InputError as error:
        raise InputError(f"clip {clip.name}: {error}") from None


def write_clip(clip: EvalClip, folder: Path, seed: int = 0) -> Path:
    """Encode the clip into ``folder`` in its recipe's container (default mp4) and return the
    path. An existing file is reused: the recipes are deterministic."""
    container_name = clip.recipe.get("container", "mp4")
    if container_name not in _CODECS:
        raise InputError(f"clip {clip.name}: container must be one of {sorted(_CODECS)}")
    path = folder / f"{clip.name}.{container_name}"
    if path.exists() and path.stat().st_size > 0:
        return path
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part." + container_name)
    fps = clip.recipe.get("fps") or source_rate(clip.recipe)
    with av.open(str(partial), "w", format=None if container_name != "mkv" else "matroska") as out:
        stream = out.add_stream(_CODECS[container_name], rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.pix_fmt = "yuvj420p" if container_name == "mov" else "yuv420p"
        stream.options = {"crf": "18"} if container_name == "mp4" else {}
        if container_name in ("avi", "mov"):
            stream.bit_rate = 8_000_000
        encode_even_frames(out, stream, clip_frames(clip, seed))
    partial.rename(path)
    return path


def encode_even_frames(
    container: av.container.OutputContainer, stream: av.VideoStream, images: Iterable[FrameArray]
) -> None:
    """Encode RGB ``images`` into ``stream``, sized by the first image cut to even sides (what
    4:2:0 needs), and flush it."""
    for index, image in enumerate(images):
        if index == 0:
            stream.width = image.shape[1] - image.shape[1] % 2
            stream.height = image.shape[0] - image.shape[0] % 2
        even = np.ascontiguousarray(image[: stream.height, : stream.width])
        for packet in stream.encode(av.VideoFrame.from_ndarray(even, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def contact_sheet(clips: list[EvalClip], out: Path, seed: int = 0) -> Path:
    """One row per clip (first, middle and last frame), for checking the labels by eye."""
    rows = []
    for clip in clips:
        frames = list(clip_frames(clip, seed))
        picks = [frames[0], frames[len(frames) // 2], frames[-1]]
        row = np.hstack(
            [cv2.resize(frame, (240, 180), interpolation=cv2.INTER_AREA) for frame in picks]
        )
        cv2.putText(row, clip.name, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1)
        rows.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    return out
