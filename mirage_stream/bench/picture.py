"""``bench picture``: what a person at the receiver sees, next to the source, at each SNR.

Each input runs through the whole chain (every sender and receiver setting of ``run``) once
per SNR. Reported per run: mean PSNR of the generated video, ``face_found_rate`` (the share of
generated frames in which the face detector finds a face, over segments whose source shows
one), payload bytes and time on air per segment, and the share of segments whose keyframes
went on the reliable path. The figure puts the middle frame of the first segment side by side:
source | received at each SNR, one row per input.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from mirage_stream.errors import InputError
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.records import source_of
from mirage_stream.run import RunConfig, run_file
from mirage_stream.types import FrameArray, GeneratedSegment


@dataclass(frozen=True)
class PictureBenchConfig:
    inputs: tuple[str, ...] = ("sample:carphone", "sample:bikes")
    snrs_db: tuple[float, ...] = (-10.0, 10.0)
    # Everything else of a run (sender, receiver, segment length); its input and SNR are ours.
    run: RunConfig = field(
        default_factory=lambda: RunConfig.for_input("sample:carphone", Path("unused"))
    )

    def __post_init__(self) -> None:
        if not self.inputs or not self.snrs_db:
            raise InputError("give at least one input and one SNR")


@dataclass
class _Shown:
    source: FrameArray | None = None
    generated: FrameArray | None = None


def _run(config: RunConfig) -> tuple[dict[str, Any], _Shown]:
    shown = _Shown()

    def keep(segment: GeneratedSegment, trace: SegmentTrace) -> None:
        source = source_of(trace)
        if trace.index == 0 and source is not None:
            middle = min(segment.frames.shape[0], source.num_frames) // 2
            shown.source, shown.generated = source.frames[middle], segment.frames[middle]

    report = asyncio.run(run_file(config, on_generated=keep)).report
    rows = report.segments
    totals = report.totals
    row = {
        "input": config.input.input,
        "snr_db": config.channel.snr_db,
        "mean_psnr_db": totals.mean_psnr_db,
        "face_found_rate": totals.face_found_rate,
        "payload_bytes_per_segment": round(totals.payload_bytes / max(1, len(rows)), 1),
        "time_on_air_ms_per_segment": round(totals.time_on_air_ms / max(1, len(rows)), 3),
        "time_on_air_ms_max": round(
            max((r.get("time_on_air_ms", 0.0) for r in rows), default=0), 3
        ),
        "time_on_air_ms": round(totals.time_on_air_ms, 3),
        "keyframes_protected_share": round(
            float(np.mean([r["plan"] is not None and r["plan"].keyframes_protected for r in rows])),
            3,
        )
        if rows
        else None,
        "bit_errors": totals.bit_errors,
        "segments": totals.segments,
    }
    return row, shown


def bench_picture(
    config: PictureBenchConfig,
    figure: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    say = progress or (lambda _message: None)
    rows: list[dict[str, Any]] = []
    grid: list[list[tuple[str, FrameArray | None]]] = []
    with tempfile.TemporaryDirectory(prefix="mirage-picture-") as scratch:
        for name in config.inputs:
            line: list[tuple[str, FrameArray | None]] = []
            for snr_db in config.snrs_db:
                say(f"{name} at {snr_db:g} dB")
                run = replace(
                    config.run,
                    input=replace(config.run.input, input=name),
                    channel=replace(config.run.channel, snr_db=snr_db),
                    out=Path(scratch) / f"{len(rows)}",
                )
                row, shown = _run(run)
                rows.append(row)
                if not line:
                    line.append((f"{name.removeprefix('sample:')}: source", shown.source))
                psnr = row["mean_psnr_db"]
                title = f"received at {snr_db:g} dB" + (f": {psnr:.1f} dB PSNR" if psnr else "")
                line.append((title, shown.generated))
            grid.append(line)
    if figure is not None:
        draw_grid(grid, figure)
    return {"rows": rows, "figure": None if figure is None else str(figure)}


def draw_grid(grid: list[list[tuple[str, FrameArray | None]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = max(len(line) for line in grid)
    fig, axes = plt.subplots(len(grid), columns, figsize=(3.2 * columns, 2.6 * len(grid)))
    axes = np.atleast_2d(axes)
    for r, line in enumerate(grid):
        for c in range(columns):
            axis = axes[r, c]
            axis.axis("off")
            if c < len(line) and line[c][1] is not None:
                title, image = line[c]
                axis.imshow(image)
                axis.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
