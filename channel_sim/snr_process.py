"""SNR over time: one value per segment from a named process, reproducible from a seed.

Every process answers ``snr_db(index)`` for segment ``index`` >= 0 and gives the same answer
for the same index however often it is asked (random processes draw their series once, lazily,
from their own seeded generator).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from channel_sim.snr_units import check_finite


class SnrProcess(Protocol):
    def snr_db(self, index: int) -> float: ...


def _check_index(index: int) -> int:
    if index < 0:
        raise ValueError(f"segment index must be non-negative, got {index}")
    return index


@dataclass(frozen=True)
class ConstantSnr:
    value_db: float

    def __post_init__(self) -> None:
        check_finite("value_db", self.value_db)

    def snr_db(self, index: int) -> float:
        _check_index(index)
        return float(self.value_db)


@dataclass(frozen=True)
class ScheduleSnr:
    """Per-segment values in order; after the last, the schedule repeats (``cycle``) or holds."""

    values_db: tuple[float, ...]
    cycle: bool = True

    def __post_init__(self) -> None:
        if not self.values_db:
            raise ValueError("values_db must not be empty")
        for position, value in enumerate(self.values_db):
            check_finite(f"values_db[{position}]", value)

    def snr_db(self, index: int) -> float:
        _check_index(index)
        count = len(self.values_db)
        return float(self.values_db[index % count if self.cycle else min(index, count - 1)])


@dataclass
class _LazySeries:
    """Grows a per-segment series on demand, in blocks, from one seeded generator."""

    seed: int
    values: list[float] = field(default_factory=list)
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)


@dataclass
class GaussMarkovSnr:
    """AR(1) random walk around ``mean_db``: x[k+1] = mean + rho (x[k] - mean) + w[k], with
    w ~ N(0, std^2 (1 - rho^2)) so that the stationary std is ``std_db``; x[0] ~ stationary."""

    mean_db: float
    std_db: float
    rho: float = 0.9
    seed: int = 0
    _series: _LazySeries = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_finite("mean_db", self.mean_db)
        if not (math.isfinite(self.std_db) and self.std_db >= 0):
            raise ValueError(f"std_db must be finite and non-negative, got {self.std_db!r}")
        if not (math.isfinite(self.rho) and -1 < self.rho < 1):
            raise ValueError(f"rho must lie in (-1, 1), got {self.rho!r}")
        self._series = _LazySeries(self.seed)

    def snr_db(self, index: int) -> float:
        series = self._series
        innovation = self.std_db * math.sqrt(1 - self.rho**2)
        while len(series.values) <= _check_index(index):
            if not series.values:
                series.values.append(self.mean_db + self.std_db * series.rng.standard_normal())
                continue
            previous = series.values[-1]
            step = innovation * series.rng.standard_normal()
            series.values.append(self.mean_db + self.rho * (previous - self.mean_db) + step)
        return float(series.values[index])


@dataclass
class GilbertElliottSnr:
    """Two-state Markov channel: 'good' at ``good_db``, 'bad' at ``bad_db``; it moves good ->
    bad with ``p_good_to_bad`` and bad -> good with ``p_bad_to_good`` per segment, starting in
    its stationary distribution."""

    good_db: float
    bad_db: float
    p_good_to_bad: float = 0.1
    p_bad_to_good: float = 0.3
    seed: int = 0
    _series: _LazySeries = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_finite("good_db", self.good_db)
        check_finite("bad_db", self.bad_db)
        for name in ("p_good_to_bad", "p_bad_to_good"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 < value <= 1):
                raise ValueError(f"{name} must lie in (0, 1], got {value!r}")
        self._series = _LazySeries(self.seed)

    @property
    def stationary_bad(self) -> float:
        return self.p_good_to_bad / (self.p_good_to_bad + self.p_bad_to_good)

    def snr_db(self, index: int) -> float:
        series = self._series
        while len(series.values) <= _check_index(index):
            if not series.values:
                bad = series.rng.random() < self.stationary_bad
            else:
                was_bad = series.values[-1] == self.bad_db
                leave = self.p_bad_to_good if was_bad else self.p_good_to_bad
                bad = was_bad != (series.rng.random() < leave)
            series.values.append(self.bad_db if bad else self.good_db)
        return float(series.values[index])


@dataclass(frozen=True)
class TraceSnr:
    """A measured trace: per-segment SNR values read from a CSV file (held after the end)."""

    values_db: tuple[float, ...]
    source: str = ""

    @classmethod
    def from_csv(cls, path: Path) -> TraceSnr:
        """Read a CSV whose column ``snr_db`` (or, without a header, the last column) holds one
        value per segment. Blank lines and lines starting with '#' are skipped; any other line
        that does not parse raises ValueError naming the file, line and value."""
        rows = [
            (number, row)
            for number, row in enumerate(csv.reader(path.read_text().splitlines()), start=1)
            if row and not row[0].strip().startswith("#") and any(cell.strip() for cell in row)
        ]
        if not rows:
            raise ValueError(f"{path}: no SNR values")
        header = [cell.strip().lower() for cell in rows[0][1]]
        column = -1
        if "snr_db" in header:
            column = header.index("snr_db")
            rows = rows[1:]
        values = []
        for number, row in rows:
            cell = row[column].strip() if len(row) > max(column, -column - 1) else ""
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(f"{path}:{number}: snr_db {cell!r} is not a number") from None
            if not math.isfinite(value):
                raise ValueError(f"{path}:{number}: snr_db {cell!r} is not finite")
            values.append(value)
        if not values:
            raise ValueError(f"{path}: no SNR values")
        return cls(tuple(values), str(path))

    def snr_db(self, index: int) -> float:
        return float(self.values_db[min(_check_index(index), len(self.values_db) - 1)])
