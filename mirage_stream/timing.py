"""When the picture changes between two keyframes: the keyframe timing the sender measures
(``sender.keyframe_timing``), the facts carry (``wire.facts``) and the generator follows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIMING_POINTS = 7  # shares sent per keyframe pair
TIMING_LEVELS = 15  # each share travels as an integer 0..15 (4 bits)


@dataclass(frozen=True)
class KeyframeTiming:
    """When the change between two keyframes of a segment happens (the sender saw it; the
    receiver cannot): at ``len(progress)`` evenly spaced times strictly between frame
    ``start`` and frame ``end``, the share of the way from the first keyframe's picture to
    the second's, in [0, 1] (``sender.keyframe_timing``)."""

    start: int
    end: int
    progress: tuple[float, ...]

    def at(self, frame: int) -> float:
        """The share done at ``frame``, interpolated (0 at ``start``, 1 at ``end``)."""
        span = self.end - self.start
        if span <= 0:
            return 1.0
        count = len(self.progress)
        times = [0.0, *((k + 1) / (count + 1) for k in range(count)), 1.0]
        shares = [0.0, *self.progress, 1.0]
        return float(np.interp((frame - self.start) / span, times, shares))


__all__ = ["TIMING_LEVELS", "TIMING_POINTS", "KeyframeTiming"]
