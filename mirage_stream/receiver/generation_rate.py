"""The generation rate adapter: a live call's diffusion generator held at real time.

Each segment's generation time over its duration is the cost in seconds per generated second;
above ``target`` the call falls behind. The adapter walks a ladder of settings, cheapest last:
fewer denoising steps first (down to half), then a smaller working size (down to half a side),
predicting each rung's cost as the measured cost scaled by steps x area, and takes the richest
rung predicted to fit. When the cost falls below ``relax_below`` it climbs one rung back, if
that rung is predicted to fit with room. The drop-oldest generation queue stays the last resort
when even the cheapest rung is too slow. Every change is kept (the newest few) for the stats.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class GenerationSetting:
    """A rung: the share of the configured steps, and of each side, the model works with."""

    steps_scale: float = 1.0
    model_scale: float = 1.0

    @property
    def relative_cost(self) -> float:
        """Denoising cost relative to the full setting: steps x pixels."""
        return self.steps_scale * self.model_scale**2

    def describe(self) -> str:
        return f"{self.steps_scale:.0%} of the steps at {self.model_scale:.0%} size"


LADDER: tuple[GenerationSetting, ...] = (
    GenerationSetting(1.0, 1.0),
    GenerationSetting(0.75, 1.0),
    GenerationSetting(0.5, 1.0),
    GenerationSetting(0.5, 0.85),
    GenerationSetting(0.5, 0.7),
    GenerationSetting(0.5, 0.6),
    GenerationSetting(0.5, 0.5),
)


@dataclass(frozen=True)
class SettingChange:
    segment: int
    setting: str
    cost_s_per_s: float  # what was measured before the change


@dataclass
class GenerationRateAdapter:
    target: float = 0.85  # s per generated s to stay under (headroom for decode and playout)
    relax_below: float = 0.5
    level: int = 0  # the rung in use
    last_cost: float | None = None  # s per generated s of the newest segment
    changes: deque[SettingChange] = field(default_factory=lambda: deque(maxlen=16))
    change_count: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.relax_below < self.target:
            raise ValueError("relax_below must be in (0, target)")

    @property
    def setting(self) -> GenerationSetting:
        return LADDER[self.level]

    def observe(self, segment: int, generate_s: float, segment_s: float) -> None:
        """One segment took ``generate_s`` to make ``segment_s`` of video: pick the next rung."""
        if segment_s <= 0 or not math.isfinite(generate_s):
            return
        cost = generate_s / segment_s
        self.last_cost = cost
        now = self.setting.relative_cost

        def predicted(level: int) -> float:
            return cost * LADDER[level].relative_cost / now

        chosen = self.level
        if cost > self.target:
            fitting = [k for k in range(self.level + 1, len(LADDER)) if predicted(k) <= self.target]
            chosen = fitting[0] if fitting else len(LADDER) - 1
        elif (
            cost < self.relax_below
            and self.level > 0
            and predicted(self.level - 1) <= 0.8 * self.target
        ):
            chosen = self.level - 1
        if chosen != self.level:
            self.level = chosen
            self.change_count += 1
            self.changes.append(SettingChange(segment, self.setting.describe(), round(cost, 3)))
