"""Shedding the sender's work before a live call falls behind.

A live sender measures how far behind real time it runs: the age of each segment when its turn
comes (now minus the wall-clock capture of its last frame; the camera has gone on capturing
meanwhile) plus the time its recent segments took. Falling behind, it first does less per
segment (``LIGHT``: the detectors on three sampled frames instead of up to six, no motion
track, no face retries or face detail: the caption and the keyframe still go). When the segment
waited too long already, or, with the work already lightened, would still be done too late to
play within a segment and a second of its capture, it is dropped (``SKIP``), counted, rather
than sent ever later: on a machine with more calls than cores, dropping some segments is what
makes the rest fast enough. It comes back to full work after a few segments on time. A file run
never sheds: it waits instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Shed(enum.Enum):
    NONE = ""
    LIGHT = "light"
    SKIP = "skip"


@dataclass(frozen=True)
class LoadShedConfig:
    """Thresholds in segment lengths of lag (chosen so that a 2 s segment still plays within
    segment + 1 s of its capture: a sender a whole segment behind cannot make it)."""

    light_after: float = 0.5  # lag plus expected work, in segments
    skip_after: float = 0.65  # the rest of the budget is the link, the receiver and its playout
    recover_below: float = 0.3
    recover_segments: int = 3  # this many on time in a row before full work again
    # The expected work: a moving average of the sender's recent segments (its weight on the
    # newest), shrunk after a skip, since dropping work is what makes the next one faster.
    newest_weight: float = 0.5
    after_skip: float = 0.6


@dataclass
class ShedCounts:
    light: int = 0  # segments sent with less work
    skipped: int = 0  # segments dropped for being too late


@dataclass
class LoadShedder:
    config: LoadShedConfig = field(default_factory=LoadShedConfig)
    counts: ShedCounts = field(default_factory=ShedCounts)
    _light: bool = False
    _on_time: int = 0
    _work_s: float = 0.0  # expected seconds of work per segment

    def decide(self, lag_s: float, segment_s: float) -> Shed:
        """What to do with a segment whose turn comes ``lag_s`` after its capture."""
        config = self.config
        waited = lag_s / max(segment_s, 1e-6)
        lag = (lag_s + self._work_s) / max(segment_s, 1e-6)
        # A skip when the wait alone is too long (newer video is waiting), or when the work
        # still makes it too late after lightening it: lighter work comes first.
        if waited >= config.skip_after or (lag >= config.skip_after and self._light):
            self._light, self._on_time = True, 0
            self._work_s *= config.after_skip
            self.counts.skipped += 1
            return Shed.SKIP
        if lag >= config.light_after:
            self._light, self._on_time = True, 0
        elif self._light and lag < config.recover_below:
            self._on_time += 1
            if self._on_time >= config.recover_segments:
                self._light, self._on_time = False, 0
        else:
            self._on_time = 0  # on time only in a row counts
        if self._light:
            self.counts.light += 1
            return Shed.LIGHT
        return Shed.NONE

    def worked(self, seconds: float) -> None:
        """A segment took ``seconds`` of the sender's time."""
        weight = self.config.newest_weight
        self._work_s = (
            seconds if not self._work_s else (1 - weight) * self._work_s + weight * seconds
        )
