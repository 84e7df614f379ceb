"""Where a call's CPU goes: ``bench live --profile``.

Every stage that works off the event loop times its own CPU (``SegmentTrace.worked``, the
thread's clock): capture, each detector of the analysis, caption, keyframe encode, the face
track, the channel, decode, the face rebuilt, generation. The event loop's thread (signalling,
DTLS and SCTP, the data channels, reassembly, the sinks) is timed as one row. Their sum is
checked against the process's CPU clock: what no stage claims is shown as "unattributed", and
the profile is trusted only when that remainder is within ``AGREEMENT`` of the whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

AGREEMENT = 0.10  # the stages' sum and the process's CPU agree within this share


@dataclass(frozen=True)
class CostRow:
    """One stage's CPU per call: milliseconds per second of call (1000 is a whole core)."""

    end: str  # "sender", "receiver", "event loop" or "unattributed"
    stage: str
    cpu_ms_per_s: float
    share: float  # of the process's CPU


@dataclass(frozen=True)
class CostProfile:
    rows: list[CostRow]  # largest first within each end
    process_cpu_s: float
    stages_cpu_s: float  # the stages' own timings plus the event loop's thread
    agreement: float  # stages_cpu_s / process_cpu_s
    agrees: bool  # within AGREEMENT


def cost_profile(
    sender_cpu_ms: Sequence[Mapping[str, float]],
    receiver_cpu_ms: Sequence[Mapping[str, float]],
    loop_cpu_s: float,
    process_cpu_s: float,
    call_seconds: float,
) -> CostProfile:
    """Rows per call from every call's stage totals (milliseconds), the event loop thread's
    and the process's CPU seconds over ``call_seconds`` of call (summed over the calls)."""
    ends = {"sender": _summed(sender_cpu_ms), "receiver": _summed(receiver_cpu_ms)}
    ends["event loop"] = {"signalling, transport, reassembly, sinks": loop_cpu_s * 1000.0}
    stages_ms = sum(ms for stages in ends.values() for ms in stages.values())
    process_ms = process_cpu_s * 1000.0
    ends["unattributed"] = {"no stage's clock": max(0.0, process_ms - stages_ms)}
    rows = [
        CostRow(
            end,
            stage,
            round(ms / call_seconds, 2),
            round(ms / process_ms, 4) if process_ms else 0.0,
        )
        for end, stages in ends.items()
        for stage, ms in sorted(stages.items(), key=lambda item: -item[1])
    ]
    agreement = stages_ms / process_ms if process_ms else 0.0
    return CostProfile(
        rows,
        round(process_cpu_s, 3),
        round(stages_ms / 1000.0, 3),
        round(agreement, 3),
        abs(agreement - 1.0) <= AGREEMENT,
    )


def _summed(per_call: Sequence[Mapping[str, float]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for stages in per_call:
        for name, ms in stages.items():
            totals[name] = totals.get(name, 0.0) + ms
    return totals


def plot_profile(profile: CostProfile, path: Path, title: str) -> None:
    """A flame-style chart: the whole call on top, each end below it, its stages at the
    bottom, every bar as wide as its CPU."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    total = sum(row.cpu_ms_per_s for row in profile.rows)
    fig, ax = plt.subplots(figsize=(12, 3.6))
    colours = [plt.get_cmap("tab20")(k) for k in range(20)]
    ax.barh(2, total, color="0.75", edgecolor="white")
    ax.text(total / 2, 2, f"one call: {total / 1000:.3f} cores", ha="center", va="center")
    left = 0.0
    for index, end in enumerate(dict.fromkeys(row.end for row in profile.rows)):
        rows = [row for row in profile.rows if row.end == end]
        width = sum(row.cpu_ms_per_s for row in rows)
        ax.barh(1, width, left=left, color=colours[2 * index % 20], edgecolor="white")
        if width > total * 0.06:
            ax.text(left + width / 2, 1, end, ha="center", va="center", fontsize=8)
        for row in rows:
            ax.barh(
                0,
                row.cpu_ms_per_s,
                left=left,
                color=colours[(2 * index + 1) % 20],
                edgecolor="white",
            )
            if row.cpu_ms_per_s > total * 0.035:
                ax.text(
                    left + row.cpu_ms_per_s / 2,
                    0,
                    row.stage,
                    ha="center",
                    va="center",
                    fontsize=7,
                    rotation=90 if row.cpu_ms_per_s < total * 0.08 else 0,
                )
            left += row.cpu_ms_per_s
    ax.set_yticks([0, 1, 2], ["stage", "end", "call"])
    ax.set_xlabel("CPU milliseconds per second of call (1000 = one core)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
