"""Lays a detail keyframe (a face coded at full codec size) back over its whole frame."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mirage_stream.types import FrameArray, Region

FEATHER = 0.2  # share of the detail's side over which it fades into the frame below


def paste_region(base: FrameArray, detail: FrameArray, region: Region) -> FrameArray:
    """``base`` with ``detail`` (already at the region's pixel size) blended into ``region``;
    the detail's edges fade in so that no seam shows where the two codings differ."""
    height, width = base.shape[:2]
    x0, y0, x1, y1 = region.pixels(width, height)
    if detail.shape[:2] != (y1 - y0, x1 - x0):
        raise ValueError(f"detail {detail.shape[:2]} does not fit region {(y1 - y0, x1 - x0)}")
    ramp_y = _ramp(y1 - y0)[:, None]
    ramp_x = _ramp(x1 - x0)[None, :]
    alpha = np.minimum(ramp_y, ramp_x)[..., None]
    out = base.copy()
    below = out[y0:y1, x0:x1].astype(np.float32)
    blended = alpha * detail.astype(np.float32) + (1.0 - alpha) * below
    out[y0:y1, x0:x1] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return out


def _ramp(length: int) -> npt.NDArray[np.float32]:
    """0 -> 1 over the outer FEATHER of each side, 1 in the middle."""
    edge = max(1.0, FEATHER * length)
    position = np.arange(length, dtype=np.float32) + 0.5
    ramp = np.clip(np.minimum(position, length - position) / edge, 0.0, 1.0)
    return np.asarray(ramp, np.float32)
