"""``bench picture``: what a person at the receiver sees, next to the source, at each SNR.

Each input runs through the whole chain (every sender and receiver setting of ``run``) once
per SNR; ``--real-set`` adds the clips of the real-footage set (a half of it, or all). Reported
per run: mean PSNR of the generated video beside ``hold_psnr_db`` (the same frames showing the
nearest decoded keyframe, held: what a receiver with no generator shows), their difference
``above_hold_db`` and ``ghosting`` (metrics.ghosting), ``face_found_rate`` (the share of
generated frames in which the face detector finds a face, over segments whose source shows
one), payload bytes and time on air per segment, and the share of segments whose keyframes
went on the reliable path. The figure puts the middle frame of the first segment side by side:
source | received at each SNR, one row per input. ``compare_track`` runs each input twice,
without and with the sender's motion track (rows say which in ``motion_track``); its figure
shows, per input, the frame of the first segment where the track changed the picture most:
source | received without | received with the track.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from mirage_stream.bench import Progress, quiet
from mirage_stream.bench.labels import REAL_PREFIX
from mirage_stream.errors import InputError
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.records import source_of
from mirage_stream.report import ONLY_WHEN_SET
from mirage_stream.run import RunConfig, run_file
from mirage_stream.types import FrameArray, GeneratedSegment

REAL_HALVES = ("tune", "test", "all")


@dataclass(frozen=True)
class PictureBenchConfig:
    inputs: tuple[str, ...] = ("sample:carphone", "sample:bikes")
    snrs_db: tuple[float, ...] = (-10.0, 10.0)
    # Clips of the real-footage set run after the inputs: "tune", "test" or "all"; None: none.
    real_set: str | None = None
    compare_track: bool = False  # each run twice: motion track off, then on
    # Everything else of a run (sender, receiver, segment length); its input and SNR are ours.
    run: RunConfig = field(
        default_factory=lambda: RunConfig.for_input("sample:carphone", Path("unused"))
    )

    def __post_init__(self) -> None:
        if not (self.inputs or self.real_set) or not self.snrs_db:
            raise InputError("give at least one input and one SNR")
        if self.real_set not in (None, *REAL_HALVES):
            raise InputError(f"--real-set must be one of {', '.join(REAL_HALVES)}")


def _input_file(name: str, scratch: Path) -> str:
    """What ``run`` reads for an input: itself, or the file of a ``real:NAME`` clip."""
    if not name.startswith(REAL_PREFIX):
        return name
    from mirage_stream.bench.labels import labelled_clip
    from mirage_stream.bench.real_footage import footage_clip

    return str(footage_clip(labelled_clip(name), scratch / "clips"))


def _real_inputs(half: str, scratch: Path) -> list[tuple[str, str]]:
    """(name shown, file) for each clip of the real-footage set's ``half``."""
    from mirage_stream.bench.real_footage import footage_clip, load_real_set

    clips = [clip for clip in load_real_set() if half == "all" or clip.split == half]
    return [(REAL_PREFIX + clip.name, str(footage_clip(clip, scratch / "clips"))) for clip in clips]


@dataclass
class _Shown:
    source: FrameArray | None = None
    generated: FrameArray | None = None
    # The first segment whole, for the track comparison's choice of frame.
    sources: FrameArray | None = None
    frames: FrameArray | None = None


def _run(config: RunConfig) -> tuple[PictureRow, _Shown]:
    shown = _Shown()

    def keep(segment: GeneratedSegment, trace: SegmentTrace) -> None:
        source = source_of(trace)
        if trace.index == 0 and source is not None:
            count = min(segment.frames.shape[0], source.num_frames)
            middle = count // 2
            shown.source, shown.generated = source.frames[middle], segment.frames[middle]
            shown.sources, shown.frames = source.frames[:count], segment.frames[:count]

    report = asyncio.run(run_file(config, on_generated=keep)).report
    rows = report.segments
    totals = report.totals
    row = PictureRow(
        input=str(config.input.input),
        snr_db=config.channel.snr_db,
        mean_psnr_db=totals.mean_psnr_db,
        hold_psnr_db=totals.hold_psnr_db,
        above_hold_db=None
        if totals.mean_psnr_db is None or totals.hold_psnr_db is None
        else round(totals.mean_psnr_db - totals.hold_psnr_db, 3),
        ghosting=totals.ghosting,
        face_found_rate=totals.face_found_rate,
        payload_bytes_per_segment=round(totals.payload_bytes / max(1, len(rows)), 1),
        time_on_air_ms_per_segment=round(totals.time_on_air_ms / max(1, len(rows)), 3),
        time_on_air_ms_max=round(max((r.get("time_on_air_ms", 0.0) for r in rows), default=0), 3),
        time_on_air_ms=round(totals.time_on_air_ms, 3),
        keyframes_protected_share=round(
            float(np.mean([r["plan"] is not None and r["plan"].keyframes_protected for r in rows])),
            3,
        )
        if rows
        else None,
        bit_errors=totals.bit_errors,
        segments=totals.segments,
    )
    return row, shown


@dataclass(frozen=True)
class PictureRow:
    """One clip at one SNR, run through the whole chain."""

    input: str
    snr_db: float
    mean_psnr_db: float | None
    hold_psnr_db: float | None  # the first keyframe held for the whole segment
    above_hold_db: float | None
    ghosting: float | None
    face_found_rate: float | None
    payload_bytes_per_segment: float
    time_on_air_ms_per_segment: float
    time_on_air_ms_max: float
    time_on_air_ms: float
    keyframes_protected_share: float | None
    bit_errors: int
    segments: int
    # Comparing the motion track: whether this run sent it.
    motion_track: bool | None = field(default=None, metadata=ONLY_WHEN_SET)


@dataclass(frozen=True)
class SnrSummary:
    """The runs at one SNR (and one side of the track comparison) against the hold baseline."""

    runs: int
    runs_below_hold: int
    mean_above_hold_db: float | None
    min_above_hold_db: float | None
    mean_ghosting: float | None


@dataclass(frozen=True)
class PictureBenchResult:
    rows: list[PictureRow]
    summary: dict[str, SnrSummary]  # "-10", or "-10 with track" / "-10 without track"
    figure: str | None


def bench_picture(
    config: PictureBenchConfig,
    figure: Path | None = None,
    progress: Progress = quiet,
) -> PictureBenchResult:
    say = progress
    rows: list[PictureRow] = []
    grid: list[list[tuple[str, FrameArray | None]]] = []
    with tempfile.TemporaryDirectory(prefix="mirage-picture-") as scratch:
        named = [(name, _input_file(name, Path(scratch))) for name in config.inputs]
        if config.real_set is not None:
            named += _real_inputs(config.real_set, Path(scratch))
        for name, path in named:
            line: list[tuple[str, FrameArray | None]] = []
            for snr_db in config.snrs_db:
                shown_runs = []
                for track in (False, True) if config.compare_track else (None,):
                    say(f"{name} at {snr_db:g} dB" + _track_words(track))
                    sender = config.run.sender
                    run = replace(
                        config.run,
                        input=replace(config.run.input, input=path),
                        channel=replace(config.run.channel, snr_db=snr_db),
                        sender=sender if track is None else replace(sender, motion_track=track),
                        out=Path(scratch) / f"{len(rows)}",
                    )
                    row, shown = _run(run)
                    row = replace(row, input=name, motion_track=track)
                    rows.append(row)
                    shown_runs.append(shown)
                    if not config.compare_track:
                        if not line:
                            short = name.removeprefix("sample:").removeprefix(REAL_PREFIX)
                            line.append((f"{short}: source", shown.source))
                        psnr = row.mean_psnr_db
                        title = f"received at {snr_db:g} dB" + (
                            f": {psnr:.1f} dB PSNR" if psnr else ""
                        )
                        line.append((title, shown.generated))
                if config.compare_track:
                    grid.append(_track_line(name, snr_db, *shown_runs))
            if line:
                grid.append(line)
    if figure is not None:
        draw_grid(grid, figure)
    return PictureBenchResult(rows, _summary(rows), None if figure is None else str(figure))


def _track_words(track: bool | None) -> str:
    return "" if track is None else (", with the motion track" if track else ", without")


def _track_line(
    name: str, snr_db: float, without: _Shown, with_track: _Shown
) -> list[tuple[str, FrameArray | None]]:
    """source | without | with the track, at the frame the track changed most."""
    short = name.removeprefix("sample:").removeprefix(REAL_PREFIX)
    if without.frames is None or with_track.frames is None or with_track.sources is None:
        return [(f"{short}: source", without.source)]
    count = min(len(without.frames), len(with_track.frames))
    change = [
        float(np.abs(with_track.frames[t].astype(np.int16) - without.frames[t]).mean())
        for t in range(count)
    ]
    frame = int(np.argmax(change))
    return [
        (f"{short}: source, frame {frame}", with_track.sources[frame]),
        (f"received at {snr_db:g} dB", without.frames[frame]),
        ("received with the motion track", with_track.frames[frame]),
    ]


def _summary(rows: list[PictureRow]) -> dict[str, SnrSummary]:
    """Per SNR (and, comparing the track, per side: "-10 with track", "-10 without track"):
    runs, how many fell below the hold baseline, the mean PSNR gain over it and the pooled
    mean ghosting."""
    summary: dict[str, SnrSummary] = {}
    groups = sorted({(row.snr_db, row.motion_track) for row in rows}, key=str)
    for snr_db, track in groups:
        at = [r for r in rows if r.snr_db == snr_db and r.motion_track == track]
        gains = [row.above_hold_db for row in at if row.above_hold_db is not None]
        ghosts = [row.ghosting for row in at if row.ghosting is not None]
        side = "" if track is None else (" with track" if track else " without track")
        summary[f"{snr_db:g}{side}"] = SnrSummary(
            runs=len(at),
            runs_below_hold=sum(1 for gain in gains if gain < 0),
            mean_above_hold_db=round(float(np.mean(gains)), 3) if gains else None,
            min_above_hold_db=round(min(gains), 3) if gains else None,
            mean_ghosting=round(float(np.mean(ghosts)), 4) if ghosts else None,
        )
    return summary


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
