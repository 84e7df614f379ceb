"""Colour names as people use them: each pixel named by hue, saturation and value, then the
names that cover the frame (the caption's main colours) or stand out in what moves."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.types import FrameArray


def small_hsv(frame: FrameArray) -> npt.NDArray[np.uint8]:
    """The frame at 80x60 in OpenCV's HSV (hue 0-180)."""
    small = cv2.resize(frame, (80, 60), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2HSV), dtype=np.uint8)


# Colour names as people use them, by hue (OpenCV's 0-180 scale), saturation and value. A
# nearest-palette match on cluster means named a grey wall with warm light "skin tone" and a
# sunlit tree "beige"; per-pixel names by hue, then shares, say what covers the frame.
_ACHROMATIC_SATURATION = 45  # below this (of 255) a pixel is a grey, whatever its hue
_BLACK_VALUE = 45


_NAMES = (
    "black", "dark grey", "grey", "light grey", "white", "pink", "dark red", "red", "beige",
    "brown", "orange", "olive", "yellow", "dark green", "green", "teal", "sky blue", "navy",
    "blue", "purple",
)  # fmt: skip


@cache
def _colour_table() -> tuple[tuple[str, ...], npt.NDArray[np.int16]]:
    """Every (hue, saturation/8, value/8) cell's colour name, as an index into the names
    (the whole table at once: named cell by cell it took a fifth of a second to build)."""
    hue, saturation, value = np.meshgrid(
        np.arange(180), np.arange(32) * 8 + 4, np.arange(32) * 8 + 4, indexing="ij"
    )

    def name(*words: str) -> list[int]:
        return [_NAMES.index(word) for word in words]

    grey = np.select(
        [value < _BLACK_VALUE, value < 100, value < 170, value < 215],
        name("black", "dark grey", "grey", "light grey"),
        *name("white"),
    )
    pale, dark = (saturation < 110) & (value > 160), value < 110
    # A muted red of middle brightness is wood or rust (a reddish floor), not "red".
    muted = (saturation < 130) & (value < 160)
    pink, dark_red, red, beige, brown, orange, olive, yellow = name(
        "pink", "dark red", "red", "beige", "brown", "orange", "olive", "yellow"
    )
    dark_green, green, teal, sky_blue, navy, blue, purple = name(
        "dark green", "green", "teal", "sky blue", "navy", "blue", "purple"
    )
    by_hue = [
        ((hue < 8) | (hue >= 170), np.where(pale, pink, np.where(dark | muted, dark_red, red))),
        (hue < 20, np.where(pale, beige, np.where(value < 160, brown, orange))),
        (hue < 34, np.where(pale, beige, np.where(dark, olive, yellow))),
        (hue < 80, np.where(dark, dark_green, green)),
        (hue < 95, np.full(hue.shape, teal)),
        (hue < 130, np.where(pale, sky_blue, np.where(value < 90, navy, blue))),
        (hue < 150, np.full(hue.shape, purple)),
    ]
    coloured = np.select(
        [band for band, _ in by_hue],
        [names for _, names in by_hue],
        np.where(dark, purple, pink),
    )
    # In shadow a colour needs more saturation to be seen as one.
    dim = (value < 110) & (saturation < 2 * _ACHROMATIC_SATURATION)
    achromatic = (value < _BLACK_VALUE) | (saturation < _ACHROMATIC_SATURATION) | dim
    return _NAMES, np.where(achromatic, grey, coloured).astype(np.int16)


Region = tuple[float, float, float, float]  # left, top, width, height: fractions of the frame


def colour_shares(
    frame: FrameArray, leave_out: Sequence[Region] = (), min_saturation: int = 0
) -> dict[str, float]:
    """Share of the frame each colour name covers (at 80x60), largest first, outside the
    ``leave_out`` regions and over pixels at least ``min_saturation`` saturated (shares stay of
    the whole frame: leaving a face out does not make a dark corner count for more)."""
    hsv = small_hsv(frame)
    kept = hsv[..., 1] >= min_saturation
    rows, columns = hsv.shape[0], hsv.shape[1]
    for left, top, width, height in leave_out:
        kept[
            max(0, int(top * rows)) : max(0, int(np.ceil((top + height) * rows))),
            max(0, int(left * columns)) : max(0, int(np.ceil((left + width) * columns))),
        ] = False
    if not kept.any():
        return {}
    shares = _named_shares(hsv[kept].astype(np.int32))
    return {name: share * kept.mean() for name, share in shares.items()}


def _named_shares(hsv: npt.NDArray[np.int32]) -> dict[str, float]:
    """Share of each colour name among HSV pixels (rows of hue, saturation, value)."""
    names, table = _colour_table()
    labels = table[hsv[:, 0], hsv[:, 1] // 8, hsv[:, 2] // 8]
    counts = np.bincount(labels, minlength=len(names)) / labels.size
    order = np.argsort(-counts)
    return {names[i]: float(counts[i]) for i in order if counts[i] > 0}


# Flow on a plain-coloured object marks its edges and a halo of background around it, so the
# object's colour is about a third of the moving pixels (a yellow box sliding over grey: 0.33).
_SUBJECT_COLOUR_SHARE = 0.25  # of the moving pixels, for "something yellow moves"
_SUBJECT_COLOUR_SALIENCE = 3.0  # times its share of the whole frame: the mover's, not the scene's


def strong_colour(pixels: npt.NDArray[np.uint8], frame: FrameArray) -> str:
    """The colour (not a grey, beige or brown) of RGB ``pixels`` (N, 3) that covers a quarter
    of them and is three times rarer in the whole ``frame``, or "" when none is."""
    if pixels.shape[0] == 0:
        return ""
    hsv = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    scene = colour_shares(frame)
    for name, share in _named_shares(hsv.astype(np.int32)).items():
        if name in (*_GREYS, "beige", "brown") or share < _SUBJECT_COLOUR_SHARE:
            continue
        if share >= _SUBJECT_COLOUR_SALIENCE * scene.get(name, 0.0):
            return name
    return ""


_CLOTHING_SHARE = 0.4  # of a body's pixels: what a person wears, not what shows around them


def clothing_colour(pixels: npt.NDArray[np.uint8]) -> str:
    """The colour (not a grey, beige or brown: shadows and skin) of at least 40% of RGB
    ``pixels`` (N, 3), or "" when none covers that much."""
    if pixels.shape[0] == 0:
        return ""
    hsv = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    for name, share in _named_shares(hsv.astype(np.int32)).items():
        if name not in (*_GREYS, "beige", "brown") and share >= _CLOTHING_SHARE:
            return name
    return ""


_MAIN_COLOUR_SHARE = 0.15
_ACCENT_COLOUR_SHARE = 0.02
_ACCENT_SATURATION = 110  # of 255: the palette's line between pale and plain colours
_GREYS = ("black", "dark grey", "grey", "light grey", "white")


def dominant_colours(
    frame: FrameArray, count: int = 3, leave_out: Sequence[Region] = ()
) -> list[tuple[str, float]]:
    """The colours a person would name: up to ``count`` names covering at least 15% of the
    frame each, then the largest strong colour (not a grey) covering at least 2%, such as a
    yellow box on a grey table. ``leave_out``: regions that are not the scene's colours (a
    face: skin in warm light reads as red, and the caption tells of the person elsewhere)."""
    shares = colour_shares(frame, leave_out)
    main = [(name, share) for name, share in shares.items() if share >= _MAIN_COLOUR_SHARE]
    main = main[:count]
    # An accent is a vivid thing a person would point at (a yellow box), not a muted tint of a
    # dark door that a face left out no longer outweighs.
    accents = [
        (name, share)
        for name, share in colour_shares(frame, leave_out, _ACCENT_SATURATION).items()
        if name not in _GREYS
        and name not in ("beige", "brown")
        and share >= _ACCENT_COLOUR_SHARE
        and all(name != chosen for chosen, _ in main)
    ]
    return main + accents[:1]
