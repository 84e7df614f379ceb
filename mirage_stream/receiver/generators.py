"""Generators (eq. 18-19). The offline default animates the decoded keyframe; no diffusion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from mirage_stream.types import FrameArray, MotionHints


@dataclass(frozen=True)
class GeneratorConfig:
    """theta_g (eq. 17), the part this generator uses: frame count, rate and size."""

    num_frames: int
    fps: float
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.num_frames < 1:
            raise ValueError(f"num_frames must be at least 1, got {self.num_frames}")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if self.width < 2 or self.height < 2:
            raise ValueError(f"size must be at least 2x2, got {self.width}x{self.height}")


class Generator(Protocol):
    @property
    def name(self) -> str: ...

    def generate(
        self,
        keyframe: FrameArray,
        hints: MotionHints,
        config: GeneratorConfig,
        previous: FrameArray | None = None,
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class KeyframeMotionGenerator:
    """Renders the keyframe over the segment, moved by the measured global motion.

    Frame t is the keyframe translated by t * (dx, dy) and scaled by (1 + zoom)^t about the
    centre (reflecting at the borders), so the output moves the way the caption says the source
    moved. The first ``crossfade_frames`` blend in from ``previous`` (the last frame shown) so
    that segment boundaries do not jump. The total drift is capped at ``max_drift`` of the size.
    """

    crossfade_frames: int = 6
    max_drift: float = 0.25
    name: str = "keyframe-motion"

    def generate(
        self,
        keyframe: FrameArray,
        hints: MotionHints,
        config: GeneratorConfig,
        previous: FrameArray | None = None,
    ) -> np.ndarray:
        size = (config.width, config.height)
        base = keyframe
        if base.shape[1] != config.width or base.shape[0] != config.height:
            base = np.asarray(cv2.resize(base, size, interpolation=cv2.INTER_CUBIC), np.uint8)
        centre_x, centre_y = (config.width - 1) / 2, (config.height - 1) / 2
        limit_x, limit_y = self.max_drift * config.width, self.max_drift * config.height
        frames = np.empty((config.num_frames, config.height, config.width, 3), dtype=np.uint8)
        for t in range(config.num_frames):
            shift_x = float(np.clip(hints.dx * t, -limit_x, limit_x))
            shift_y = float(np.clip(hints.dy * t, -limit_y, limit_y))
            scale = float(
                np.clip((1.0 + hints.zoom) ** t, 1.0 - self.max_drift, 1.0 + self.max_drift)
            )
            warp = np.array(
                [
                    [scale, 0.0, (1 - scale) * centre_x + shift_x],
                    [0.0, scale, (1 - scale) * centre_y + shift_y],
                ],
                dtype=np.float64,
            )
            frames[t] = cv2.warpAffine(
                base, warp, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
        if previous is not None and previous.shape == frames.shape[1:]:
            blend = min(self.crossfade_frames, config.num_frames)
            for t in range(blend):
                alpha = (t + 1) / (blend + 1)
                frames[t] = cv2.addWeighted(previous, 1.0 - alpha, frames[t], alpha, 0.0)
        return frames
