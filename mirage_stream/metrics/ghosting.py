"""Ghosting: how much of a generated video is a double image of two keyframes.

A double image appears where a generator cross-fades two keyframes that disagree (something
moved and the flow did not follow it): the pixel shows neither keyframe but a mix of both. So,
for each generated frame strictly between two decoded keyframes A (before) and B (after), on
lightly smoothed luma:

- the pixels where the keyframes disagree, ``|A - B| >= DISAGREEMENT``, are looked at;
- a looked-at pixel is a ghost when the frame lies strictly between A and B there, at least
  ``GHOST_MARGIN`` of the way from each: ``(g - A)(g - B) < 0`` and
  ``min(|g - A|, |g - B|) >= GHOST_MARGIN * |A - B|``.

``ghosting`` is the ghost pixels over the looked-at pixels, pooled over the frames. A cut or a
hold scores 0 (every pixel is one keyframe or the other); a plain cross-fade scores about 0.5
over a long gap (its weights lie in [0.25, 0.75] for half the frames); something that slid
into place (a flow morph that followed the motion) shows one keyframe's content, not a mix,
and stays near 0. Changes the generator adds on its own (a warp, a style) that move a pixel
out of the [A, B] range are not ghosts. The constants are round values chosen before any clip
was looked at: 24 grey levels is a clearly visible difference, a quarter keeps interpolation
noise at an edge out.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.types import FrameArray

DISAGREEMENT = 24.0  # grey levels between the keyframes for a pixel to be looked at
GHOST_MARGIN = 0.25  # share of |A - B| a ghost lies away from both keyframes


def _luma(image: FrameArray) -> npt.NDArray[np.float32]:
    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(grey, (0, 0), 1.0), np.float32)


def ghost_pixels(frame: FrameArray, before: FrameArray, after: FrameArray) -> tuple[int, int]:
    """(ghost pixels, looked-at pixels) of one frame between two keyframes."""
    g, a, b = _luma(frame), _luma(before), _luma(after)
    difference = np.abs(a - b)
    looked_at = difference >= DISAGREEMENT
    between = (g - a) * (g - b) < 0
    away = np.minimum(np.abs(g - a), np.abs(g - b)) >= GHOST_MARGIN * difference
    return int(np.count_nonzero(looked_at & between & away)), int(np.count_nonzero(looked_at))


def ghosting(
    frames: npt.NDArray[np.uint8], keyframes: Sequence[tuple[int, FrameArray]]
) -> tuple[int, int]:
    """(ghost pixels, looked-at pixels) over every frame of ``frames`` strictly between two
    of ``keyframes`` ((frame index, image at the frames' size), any order). Frames before the
    first or after the last keyframe have nothing to mix and are not looked at."""
    anchors = sorted(keyframes, key=lambda pair: pair[0])
    ghosts = looked = 0
    for (a_index, a_image), (b_index, b_image) in itertools.pairwise(anchors):
        if a_image.shape != frames.shape[1:] or b_image.shape != frames.shape[1:]:
            raise ValueError(
                f"keyframes {a_image.shape} / {b_image.shape} differ from frames {frames.shape[1:]}"
            )
        for t in range(max(a_index + 1, 0), min(b_index, frames.shape[0])):
            found, seen = ghost_pixels(frames[t], a_image, b_image)
            ghosts, looked = ghosts + found, looked + seen
    return ghosts, looked
