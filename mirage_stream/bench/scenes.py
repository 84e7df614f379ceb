"""Scenes for the caption evaluation set, made offline from what installed packages ship.

Recipes (a ``kind`` and its parameters, written in ``data/caption_set.json``):

* ``sample``: frames of a shipped sample clip at its own resolution (real footage);
* ``walkers``: drawn figures walking or standing over a photograph (a real street from the bikes
  clip, an image shipped in scikit-image or matplotlib), at the source size the recipe names;
* ``object``: a coloured box moved over a photograph, optionally by a drawn hand;
* ``pan`` / ``zoom``: a camera moving over a still photograph;
* ``cut``: one still shot, then another.

Composed scenes get sensor-like noise so that they read as filmed, not rendered.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from mirage_stream.errors import InputError
from mirage_stream.sources import sample_path
from mirage_stream.types import FrameArray


def source_rate(recipe: dict[str, Any]) -> Fraction:
    """A sample clip's own frame rate (cut times in the labels are in its seconds), else 25."""
    if recipe.get("kind") != "sample":
        return Fraction(25)
    with av.open(str(sample_path(recipe["sample"]))) as container:
        rate = container.streams.video[0].average_rate
    return Fraction(rate) if rate else Fraction(25)


def _sample_frames(name: str, start: int = 0, count: int = 10**6) -> list[FrameArray]:
    """Frames ``start`` to ``start + count`` of a shipped sample, at its own resolution (only
    those are kept: a whole 720p sample is hundreds of megabytes)."""
    frames: list[FrameArray] = []
    with av.open(str(sample_path(name))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= start + count:
                break
            if index >= start:
                frames.append(np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8))
    return frames


def background_image(spec: str) -> FrameArray:
    """``sample:NAME@FRAME``, ``skimage:NAME`` or ``matplotlib:FILE``, as RGB uint8."""
    kind, _, name = spec.partition(":")
    if kind == "sample":
        clip, _, frame = name.partition("@")
        found = _sample_frames(clip, int(frame or 0), 1)
        if not found:
            raise InputError(f"background {spec!r}: the sample has no such frame")
        return found[0]
    if kind == "skimage":
        from skimage import data as skdata

        image = np.asarray(getattr(skdata, name)())
    elif kind == "matplotlib":
        import matplotlib

        sample = Path(matplotlib.get_data_path()) / "sample_data" / name
        decoded = cv2.imread(str(sample), cv2.IMREAD_COLOR)
        if decoded is None:
            raise InputError(f"background {spec!r}: no image at {sample}")
        image = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    else:
        raise InputError(f"unknown background {spec!r}")
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3].astype(np.uint8))


def _cover(image: FrameArray, width: int, height: int) -> FrameArray:
    """``image`` centre-cropped to the aspect and resized to width x height."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    size = (math.ceil(w * scale), math.ceil(h * scale))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    y0 = (resized.shape[0] - height) // 2
    x0 = (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])


# --- drawing ----------------------------------------------------------------------------------


def _limb(
    canvas: FrameArray,
    start: tuple[float, float],
    angle: float,
    length: float,
    thickness: float,
    colour: tuple[int, ...],
) -> tuple[float, float]:
    end = (start[0] + length * math.sin(angle), start[1] + length * math.cos(angle))
    cv2.line(
        canvas,
        (round(start[0] * 4), round(start[1] * 4)),
        (round(end[0] * 4), round(end[1] * 4)),
        colour,
        max(1, round(thickness)),
        cv2.LINE_AA,
        shift=2,
    )
    return end


def draw_person(
    canvas: FrameArray,
    feet_x: float,
    feet_y: float,
    height: float,
    phase: float,
    shirt: tuple[int, int, int],
    trousers: tuple[int, int, int],
    stride: float = 0.45,
) -> None:
    """A walking (``stride`` > 0) or standing figure whose feet touch (feet_x, feet_y): head,
    torso, two jointed legs and arms swinging in opposite phase."""
    h = height
    skin = (205, 160, 130)
    hip = (feet_x, feet_y - 0.5 * h)
    shoulder = (feet_x, feet_y - 0.8 * h)
    swing = stride * math.sin(phase)
    for side in (1, -1):
        knee = _limb(canvas, hip, side * swing, 0.26 * h, 0.1 * h, trousers)
        bend = max(0.0, side * swing) * 0.8
        foot = _limb(canvas, knee, side * swing - bend, 0.25 * h, 0.085 * h, trousers)
        _limb(canvas, foot, math.pi / 2 * np.sign(stride or 1), 0.06 * h, 0.05 * h, (30, 30, 30))
    torso = np.array(
        [
            (feet_x - 0.08 * h, feet_y - 0.82 * h),
            (feet_x + 0.08 * h, feet_y - 0.82 * h),
            (feet_x + 0.07 * h, feet_y - 0.48 * h),
            (feet_x - 0.07 * h, feet_y - 0.48 * h),
        ]
    )
    cv2.fillPoly(canvas, [np.round(torso * 4).astype(np.int32)], shirt, cv2.LINE_AA, shift=2)
    for side in (1, -1):
        # Seen from the side, as walkers crossing the view are: arms swing against the legs.
        arm = -side * swing * 0.8
        elbow = _limb(canvas, (shoulder[0], shoulder[1] + 0.02 * h), arm, 0.17 * h, 0.06 * h, shirt)
        _limb(canvas, elbow, arm + 0.25 * abs(arm), 0.15 * h, 0.045 * h, skin)
    _limb(canvas, (feet_x, feet_y - 0.86 * h), 0.0, 0.04 * h, 0.06 * h, skin)  # neck
    head = (round(feet_x * 4), round((feet_y - 0.93 * h) * 4))
    axes = (round(0.055 * h * 4), round(0.07 * h * 4))
    cv2.ellipse(canvas, head, axes, 0, 0, 360, skin, -1, cv2.LINE_AA, shift=2)
    hair = (60, 40, 25)
    cv2.ellipse(canvas, head, axes, 0, 180, 360, hair, -1, cv2.LINE_AA, shift=2)


def _noisy(frame: FrameArray, rng: np.random.Generator, sigma: float = 2.5) -> FrameArray:
    noise = rng.normal(0.0, sigma, frame.shape)
    return np.asarray(np.clip(frame.astype(np.float32) + noise, 0, 255), dtype=np.uint8)


def _walkers(recipe: dict[str, Any], rng: np.random.Generator) -> Iterator[FrameArray]:
    width, height = recipe["size"]
    background = _cover(background_image(recipe["background"]), width, height)
    for t in range(recipe.get("frames", 50)):
        canvas = background.copy()
        for figure in recipe["figures"]:
            speed = figure.get("speed", 0.0)
            x = figure["x"] * width + speed * t
            size = figure["height"]
            phase = figure.get("phase", 0.0) + t * (abs(speed) / (0.35 * size)) * 1.2
            draw_person(
                canvas,
                x,
                figure["y"] * height,
                size,
                phase if speed else math.sin(t / 6.0) * 0.1,
                tuple(figure.get("shirt", (40, 60, 150))),
                tuple(figure.get("trousers", (40, 40, 50))),
                stride=0.45 if speed else 0.05,
            )
        yield _noisy(canvas, rng)


def _object(recipe: dict[str, Any], rng: np.random.Generator) -> Iterator[FrameArray]:
    width, height = recipe["size"]
    background = _cover(background_image(recipe["background"]), width, height)
    box_w, box_h = recipe["box"]
    colour = tuple(recipe["colour"])
    (x0, y0), (x1, y1) = recipe["path"]
    frames = recipe.get("frames", 50)
    for t in range(frames):
        a = t / max(1, frames - 1)
        cx, cy = (x0 + (x1 - x0) * a) * width, (y0 + (y1 - y0) * a) * height
        canvas = background.copy()
        top_left = (round(cx - box_w / 2), round(cy - box_h / 2))
        bottom_right = (round(cx + box_w / 2), round(cy + box_h / 2))
        cv2.rectangle(canvas, top_left, bottom_right, colour, -1, cv2.LINE_AA)
        shade = tuple(int(c * 0.7) for c in colour)
        cv2.rectangle(canvas, top_left, bottom_right, shade, 3, cv2.LINE_AA)
        if recipe.get("hand"):
            skin = (215, 170, 140)
            wrist = (round(cx + box_w * 0.3), round(cy - box_h * 0.5))
            cv2.ellipse(canvas, wrist, (box_w // 4, box_h // 5), -20, 0, 360, skin, -1)
            arm_end = (round(cx + box_w * 1.6), round(cy - box_h * 1.6))
            cv2.line(canvas, wrist, arm_end, skin, max(3, box_w // 4), cv2.LINE_AA)
        yield _noisy(canvas, rng)


def _window(
    image: FrameArray, cx: float, cy: float, scale: float, size: tuple[int, int]
) -> FrameArray:
    """A width x height view of ``image`` centred at (cx, cy) (fractions), ``scale`` source
    pixels per output pixel, through an affine warp (smooth sub-pixel camera moves)."""
    width, height = size
    h, w = image.shape[:2]
    matrix = np.array(
        [
            [1 / scale, 0, width / 2 - cx * w / scale],
            [0, 1 / scale, height / 2 - cy * h / scale],
        ],
        dtype=np.float64,
    )
    return np.asarray(
        cv2.warpAffine(
            image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        ),
        dtype=np.uint8,
    )


def _camera(recipe: dict[str, Any], rng: np.random.Generator) -> Iterator[FrameArray]:
    width, height = recipe["size"]
    image = background_image(recipe["background"])
    h, w = image.shape[:2]
    fit = max(w / width, h / height)
    frames = recipe.get("frames", 50)
    (x0, y0, z0), (x1, y1, z1) = recipe["from"], recipe["to"]  # centre and zoom
    for t in range(frames):
        a = t / max(1, frames - 1)
        zoom = z0 + (z1 - z0) * a
        view = _window(image, x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, fit / zoom, (width, height))
        yield _noisy(view, rng)


def _cut(recipe: dict[str, Any], rng: np.random.Generator) -> Iterator[FrameArray]:
    width, height = recipe["size"]
    shots = [_cover(background_image(spec), width, height) for spec in recipe["shots"]]
    frames = recipe.get("frames", 50)
    cut_at = recipe["cut_frame"]
    for t in range(frames):
        yield _noisy(shots[0] if t < cut_at else shots[1], rng)


def _sample(recipe: dict[str, Any], rng: np.random.Generator) -> Iterator[FrameArray]:
    yield from _sample_frames(recipe["sample"], recipe.get("start", 0), recipe.get("frames", 50))


RECIPES = {
    "sample": _sample,
    "walkers": _walkers,
    "object": _object,
    "pan": _camera,
    "zoom": _camera,
    "cut": _cut,
}


def render(recipe: dict[str, Any], rng: np.random.Generator) -> Iterator[FrameArray]:
    """The frames of a clip made by ``recipe`` (its ``kind`` picks the maker)."""
    kind = recipe.get("kind")
    if kind not in RECIPES:
        raise InputError(f"unknown recipe kind {kind!r}")
    return RECIPES[kind](recipe, rng)
