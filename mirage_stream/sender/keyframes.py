"""Keyframe selection (eq. 4). The first selector scores frames by sharpness alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mirage_stream.sender.measure import sharpness
from mirage_stream.types import Keyframe, VideoSegment


class KeyframeSelector(Protocol):
    @property
    def name(self) -> str: ...

    def select(self, segment: VideoSegment) -> list[Keyframe]: ...


@dataclass(frozen=True)
class SharpestFrameSelector:
    """Picks the frame with the highest Laplacian variance among ``candidates`` evenly spaced."""

    candidates: int = 12
    name: str = "sharpest"

    def select(self, segment: VideoSegment) -> list[Keyframe]:
        picks = np.unique(
            np.linspace(0, segment.num_frames - 1, num=self.candidates).round().astype(int)
        )
        scores = [sharpness(segment.frames[i]) for i in picks]
        best = int(picks[int(np.argmax(scores))])
        return [Keyframe(frame_index=best, image=segment.frames[best], score=max(scores))]
