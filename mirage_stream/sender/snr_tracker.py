"""The sender's view of the channel: a pessimistic SNR for the next segment, from the
receiver's feedback."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class SnrTracker:
    initial_snr_db: float = -10.0  # the prior, before any feedback
    z: float = 2.58  # one-sided 99.5% normal quantile for the SNR margin
    min_margin_db: float = 0.5
    history: int = 20
    _reports: deque[float] = field(default_factory=deque, init=False)

    def __post_init__(self) -> None:
        self._reports = deque(maxlen=self.history)

    def observe(self, snr_db: float) -> None:
        if math.isfinite(snr_db):
            self._reports.append(snr_db)

    def planned_snr_db(self) -> float:
        """A pessimistic SNR for the next segment.

        The latest estimate minus z times the RMS of recent segment-to-segment changes covers a
        random walk; a channel that jumps between states (Gilbert-Elliott) would make that
        margin huge, so the plan never goes below the worst recent report minus the minimum
        margin. Before any feedback: the configured prior minus 3 dB.
        """
        reports = list(self._reports)
        if not reports:
            return self.initial_snr_db - 3.0
        steps = np.diff(reports)
        spread = float(np.sqrt(np.mean(steps**2))) if steps.size else 3.0
        drift_bound = reports[-1] - max(self.min_margin_db, self.z * spread)
        worst_seen = min(reports) - self.min_margin_db
        return min(reports[-1] - self.min_margin_db, max(drift_bound, worst_seen))
