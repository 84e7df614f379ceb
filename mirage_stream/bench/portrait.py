"""``bench portrait``: is the person at the receiver recognisably the caller, moving as they
moved, and at how many bytes against real codecs.

Each clip runs through the whole chain twice: with the caller's reference and face track
(``mirage``) and without (``mirage-no-portrait``: the picture before them). The same source
frames are then coded by AV1 and H.264 at their coarsest quantiser with the size and frame
rate lowered until the clip fits Mirage's bytes (the frames held in between, upscaled), and as
one AV1 still a segment within the same bytes per segment, held; all three again at ten times
the bytes. Every ``sample_every``-th frame whose source shows a face (dlib) is scored
(``face_metrics``): identity distance, same-person share, face found, 68-point landmark error,
mouth-opening correlation, PSNR/SSIM of the face box. Bytes per segment split into the
reference, the face track and the rest; sender and receiver milliseconds per frame are the
portrait stage's and the reenactment's own timings.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mirage_stream.bench import Progress, quiet
from mirage_stream.bench.face_metrics import FaceLook, FaceScores, compare, look, scores
from mirage_stream.bench.portrait_baselines import fitted_video, held_stills, pingpong
from mirage_stream.errors import InputError
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.records import LinkRecord, source_of
from mirage_stream.run import RunConfig, run_file
from mirage_stream.types import FrameArray, GeneratedSegment

PORTRAIT_PREFIX = "portrait:"
PORTRAIT_ROOT = Path(__file__).resolve().parents[2] / "footage" / "portrait"
PORTRAIT_SET_FILE = PORTRAIT_ROOT / "portrait_set.json"
PORTRAIT_HALVES = ("tune", "test", "all")
VIDEO_BASELINES = ("av1", "h264")
MULTIPLES = (1, 10)


@dataclass(frozen=True)
class PortraitBenchConfig:
    inputs: tuple[str, ...] = ("portrait:test",)
    sample_every: int = 5  # score every n-th frame
    baselines: bool = True
    # Play each clip forwards, backwards, forwards... to this many seconds: a long call from a
    # short clip, without the cut a loop would make (which takes a new reference).
    pingpong_s: float | None = None
    run: RunConfig = field(
        default_factory=lambda: RunConfig.for_input("sample:carphone", Path("unused"))
    )

    def __post_init__(self) -> None:
        if not self.inputs:
            raise InputError("give at least one input")
        if self.sample_every < 1:
            raise InputError(f"--sample-every must be at least 1, got {self.sample_every}")
        if self.pingpong_s is not None and not 2 <= self.pingpong_s <= 600:
            raise InputError(f"--pingpong-seconds must be in [2, 600], got {self.pingpong_s}")


@dataclass(frozen=True)
class SchemeScores:
    """One way of sending a clip, scored."""

    scheme: str
    bytes: int
    bytes_per_segment: float
    setting: str  # what the scheme ran at (a baseline's size and rate)
    scores: FaceScores | None

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values.update(values.pop("scores") or {})
        return values


@dataclass(frozen=True)
class ClipResult:
    input: str
    split: str  # "tune" / "test" for clips of the portrait set, "" for others
    frames: int
    segments: int
    reference_bytes_per_segment: float
    face_track_bytes_per_segment: float
    other_bytes_per_segment: float
    face_track_kbit_s: float
    sender_ms_per_frame: float  # the portrait stage (face mesh, fit, reference coding)
    receiver_ms_per_frame: float  # reenactment
    schemes: tuple[SchemeScores, ...]

    def to_json(self) -> dict[str, Any]:
        values = {k: v for k, v in asdict(self).items() if k != "schemes"}
        values["schemes"] = {s.scheme: s.to_json() for s in self.schemes}
        return values


@dataclass(frozen=True)
class PortraitBenchResult:
    clips: tuple[ClipResult, ...]

    def totals(self) -> dict[str, dict[str, float | None]]:
        """Per scheme, the mean of each score over the clips that have it."""
        names = {s.scheme for clip in self.clips for s in clip.schemes}
        out: dict[str, dict[str, float | None]] = {}
        for name in sorted(names):
            rows = [s.to_json() for c in self.clips for s in c.schemes if s.scheme == name]
            keys = (
                "bytes_per_segment",
                "found_share",
                "same_person_share",
                "mean_distance",
                "landmark_error",
                "mouth_correlation",
                "face_psnr_db",
                "face_ssim",
            )
            out[name] = {k: _mean([r.get(k) for r in rows]) for k in keys}
            out[name]["min_same_person_share"] = _min([r.get("same_person_share") for r in rows])
        return out

    def to_json(self) -> dict[str, Any]:
        return {"clips": [c.to_json() for c in self.clips], "totals": self.totals()}


def _mean(values: list[Any]) -> float | None:
    kept = [float(v) for v in values if v is not None and np.isfinite(v)]
    return round(float(np.mean(kept)), 4) if kept else None


def _min(values: list[Any]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return round(min(kept), 4) if kept else None


def portrait_clips(half: str) -> list[tuple[str, str, str]]:
    """(name, file, split) of the portrait set's ``half`` (tune, test or all) or one clip."""
    data = json.loads(PORTRAIT_SET_FILE.read_text())
    root = PORTRAIT_ROOT.parents[1]
    clips = [
        (PORTRAIT_PREFIX + c["name"], str(root / c["path"]), c["split"]) for c in data["clips"]
    ]
    if half in PORTRAIT_HALVES:
        return [c for c in clips if half == "all" or c[2] == half]
    chosen = [c for c in clips if c[0] == PORTRAIT_PREFIX + half]
    if not chosen:
        names = ", ".join(c[0] for c in clips)
        raise InputError(f"no portrait clip {half!r}; the set holds {names}")
    return chosen


def expand_inputs(inputs: tuple[str, ...]) -> list[tuple[str, str, str]]:
    expanded = []
    for name in inputs:
        if name.startswith(PORTRAIT_PREFIX):
            expanded += portrait_clips(name[len(PORTRAIT_PREFIX) :])
        else:
            expanded.append((name, name, ""))
    return expanded


@dataclass
class _Collected:
    sources: list[FrameArray] = field(default_factory=list)
    received: list[FrameArray] = field(default_factory=list)
    part_bytes: list[dict[str, int]] = field(default_factory=list)
    portrait_ms: float = 0.0
    reenact_ms: float = 0.0


def _run(config: RunConfig) -> tuple[_Collected, float]:
    collected = _Collected()

    def keep(segment: GeneratedSegment, trace: SegmentTrace) -> None:
        source = source_of(trace)
        if source is None:
            return
        count = min(len(segment.frames), source.num_frames)
        collected.sources += list(source.frames[:count])
        collected.received += list(segment.frames[:count])
        link = trace.record(LinkRecord)
        if link is not None:
            collected.part_bytes.append(dict(link.payload_bytes))
        collected.portrait_ms += trace.timings_ms.get("portrait", 0.0)
        collected.reenact_ms += trace.timings_ms.get("reenact", 0.0)

    report = asyncio.run(run_file(config, on_generated=keep)).report
    return collected, report.segments[0]["frames"] / report.segments[0]["duration_s"]


def _score(
    sources: list[FrameArray],
    looks: dict[int, FaceLook],
    received: list[FrameArray],
) -> FaceScores | None:
    return scores([compare(sources[i], face, received[i]) for i, face in looks.items()])


@dataclass(frozen=True)
class FigureRow:
    """Three moments of one clip: (source, received without the portrait, with it)."""

    name: str
    moments: tuple[tuple[FrameArray, FrameArray, FrameArray], ...]


FIGURE_MOMENTS = (1 / 6, 1 / 2, 5 / 6)  # where in the clip the figure looks


def bench_clip(
    name: str, file: str, split: str, config: PortraitBenchConfig, progress: Progress
) -> tuple[ClipResult, FigureRow]:
    with tempfile.TemporaryDirectory() as scratch:
        if config.pingpong_s is not None:
            file = str(pingpong(file, config.pingpong_s, Path(scratch) / "pingpong.mp4"))
        base = replace(config.run, input=replace(config.run.input, input=file))
        on = replace(base, out=Path(scratch) / "on")
        off = replace(base, out=Path(scratch) / "off", sender=replace(base.sender, portrait=False))
        progress(f"{name}: run with the portrait")
        now, fps = _run(on)
        progress(f"{name}: run without")
        before, _ = _run(off)
    count = min(len(now.sources), len(before.sources))
    sources = now.sources[:count]
    looks = {
        i: face
        for i in range(0, count, config.sample_every)
        if (face := look(sources[i])) is not None
    }
    segments = len(now.part_bytes) or 1
    mirage_bytes = sum(p.get("total", 0) for p in now.part_bytes)
    today_bytes = sum(p.get("total", 0) for p in before.part_bytes)
    schemes = [
        SchemeScores("mirage", mirage_bytes, mirage_bytes / segments, "", None),
        SchemeScores("mirage-no-portrait", today_bytes, today_bytes / segments, "", None),
    ]
    videos = {"mirage": now.received[:count], "mirage-no-portrait": before.received[:count]}
    if config.baselines:
        stack = np.stack(sources)
        segment_frames = max(1, round(count / segments))
        for multiple in MULTIPLES:
            budget = mirage_bytes * multiple
            suffix = "" if multiple == 1 else f"-x{multiple}"
            for scheme in VIDEO_BASELINES:
                progress(f"{name}: {scheme} within {budget} B")
                size, shown, setting = fitted_video(stack, fps, scheme, budget)
                schemes.append(SchemeScores(scheme + suffix, size, size / segments, setting, None))
                videos[scheme + suffix] = shown
            progress(f"{name}: AV1 stills within {budget // segments} B a segment")
            size, shown, setting = held_stills(stack, segment_frames, budget // segments)
            schemes.append(SchemeScores("av1-still" + suffix, size, size / segments, setting, None))
            videos["av1-still" + suffix] = shown
    progress(f"{name}: scoring {len(looks)} frames of {len(schemes)} schemes")
    scored = tuple(replace(s, scores=_score(sources, looks, videos[s.scheme])) for s in schemes)

    def per_segment(part: str) -> float:
        return round(sum(p.get(part, 0) for p in now.part_bytes) / segments, 1)

    track = per_segment("face_track")
    seconds = count / fps
    picks = [min(count - 1, int(share * count)) for share in FIGURE_MOMENTS]
    figure = FigureRow(
        name, tuple((sources[i], before.received[i], now.received[i]) for i in picks)
    )
    result = ClipResult(
        input=name,
        split=split,
        frames=count,
        segments=segments,
        reference_bytes_per_segment=per_segment("reference"),
        face_track_bytes_per_segment=track,
        other_bytes_per_segment=round(
            mirage_bytes / segments - track - per_segment("reference"), 1
        ),
        face_track_kbit_s=round(8 * track * segments / max(seconds, 1e-9) / 1000, 3),
        sender_ms_per_frame=round(now.portrait_ms / max(count, 1), 2),
        receiver_ms_per_frame=round(now.reenact_ms / max(count, 1), 2),
        schemes=scored,
    )
    return result, figure


def bench_portrait(
    config: PortraitBenchConfig, progress: Progress = quiet, figure: Path | None = None
) -> PortraitBenchResult:
    """Every input scored; ``figure``: a PNG of the first ``FIGURE_CLIPS`` inputs, each at
    three moments: source | received without the portrait | with it."""
    say = progress
    results = [
        bench_clip(name, file, split, config, say)
        for name, file, split in expand_inputs(config.inputs)
    ]
    if figure is not None:
        draw_figure([row for _, row in results][:FIGURE_CLIPS], figure)
    return PortraitBenchResult(tuple(result for result, _ in results))


FIGURE_CLIPS = 3
_TILE = (240, 180)


def draw_figure(rows: list[FigureRow], path: Path) -> None:
    """One row a clip; per moment three tiles: source, before, now, labelled."""
    labels = ("source", "before", "now")
    tiles_per_row = 3 * len(FIGURE_MOMENTS)
    canvas = np.full(
        (len(rows) * (_TILE[1] + 22) + 4, tiles_per_row * _TILE[0] + 2 * 8, 3), 255, np.uint8
    )
    for r, row in enumerate(rows):
        top = r * (_TILE[1] + 22) + 20
        cv2.putText(canvas, row.name, (4, top - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
        for m, moment in enumerate(row.moments):
            for k, image in enumerate(moment):
                left = (3 * m + k) * _TILE[0] + 8 * m
                tile = cv2.resize(image, _TILE, interpolation=cv2.INTER_AREA)
                canvas[top : top + _TILE[1], left : left + _TILE[0]] = tile
                cv2.putText(
                    canvas,
                    labels[k],
                    (left + 4, top + 14),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    0.45,
                    (255, 255, 0),
                    1,
                    cv2.LINE_AA,
                )
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), canvas[..., ::-1])
