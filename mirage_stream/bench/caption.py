"""``bench caption``: the sender's captions checked against hand-written labels.

Each clip of the evaluation set (``caption_set``) is written to a video file, read back through
the same source as a user's file, cut into one segment and described by the sender (scene
analysis, caption). Every claim of the caption (``captioner.Statement``) is scored against the
clip's labels:

* ``true``: the label agrees (a count inside the labelled range, a camera move among the true
  descriptions, a cut within ``CUT_TOLERANCE_S`` of a labelled one, a colour a person accepts);
* ``false``: the label contradicts it: a *false statement*, listed with its sentence;
* unscored: claims the labels say nothing about (things moving, the light, a face's place).

Recall is counted per labelled fact: people (clips where someone is surely in view), each
labelled action, camera motion other than still, cuts, outdoor setting, animation, at least one
accepted colour, hands. Precision is true / (true + false) per fact.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mirage_stream.bench import Progress, quiet
from mirage_stream.bench.caption_score import CaptionScore, ClipResult, score
from mirage_stream.bench.caption_set import (
    EvalClip,
    load_caption_set,
    write_clip,
)
from mirage_stream.bench.labels import labelled_clip
from mirage_stream.bench.real_footage import footage_clip, load_real_set
from mirage_stream.bench.sender import peak_rss_mb
from mirage_stream.errors import InputError
from mirage_stream.sender.analysis import SceneAnalyser
from mirage_stream.sender.captioner import (
    CaptionSettings,
    MeasuredFactsCaptioner,
    caption_sentences,
)
from mirage_stream.sender.sentences import Sentence
from mirage_stream.sources import FileSource, SourceConfig, resolve_input
from mirage_stream.types import SceneFacts


@dataclass(frozen=True)
class CaptionBenchConfig:
    input: str | None = None  # one video with ``labels``, or None for the evaluation set
    labels: str | None = None  # with input: caption-set:NAME or a file with one clip
    split: str = "all"  # "tune", "test" or "all": which clips to report
    sets: tuple[str, ...] = ("composed", "real")  # without input: which evaluation sets
    clips_dir: Path | None = None  # where the clips are written (default: a temporary folder)
    width: int = 320
    height: int = 240
    settings: CaptionSettings = field(default_factory=CaptionSettings)


def caption_clip(
    path: Path, config: CaptionBenchConfig, analyser: SceneAnalyser
) -> tuple[str, list[Sentence], SceneFacts, float, float]:
    """The sender's caption of a whole clip as one segment: text, sentences, facts, the
    clip's seconds and the seconds the sender took (analysis and caption)."""
    source = FileSource(path, SourceConfig(width=config.width, height=config.height))
    try:
        segment = next(source.iter_segments(1e6))
    finally:
        source.close()
    start = time.perf_counter()
    analysis = analyser.analyse(segment)
    caption = MeasuredFactsCaptioner().caption(segment, analysis, config.settings)
    elapsed = time.perf_counter() - start
    sentences = caption_sentences(analysis.facts, config.settings)
    return caption.text, sentences, analysis.facts, segment.duration, elapsed


@dataclass(frozen=True)
class CaptionBenchResult:
    input: str
    sets: dict[str, dict[str, CaptionScore]]  # set -> half ("tune", "test", "all") -> score
    captions: dict[str, dict[str, str]]  # "set:clip" -> its half and caption
    peak_rss_mb: float


SETS = ("composed", "real")


def _set_clips(name: str, config: CaptionBenchConfig) -> list[EvalClip]:
    if name == "real":
        return load_real_set()
    return load_caption_set(Path(config.labels) if config.labels else None)


def _caption_all(
    clips: list[tuple[EvalClip, Path | None]],
    config: CaptionBenchConfig,
    folder: Path,
    progress: Progress,
) -> list[ClipResult]:
    analyser = SceneAnalyser()
    results = []
    for clip, path in clips:
        if path is None:
            is_file = clip.recipe.get("kind") == "file"
            path = footage_clip(clip, folder) if is_file else write_clip(clip, folder)
        text, sentences, facts, video_s, sender_s = caption_clip(path, config, analyser)
        results.append(
            ClipResult(
                clip.name, clip.split, text, sentences, facts, clip.labels, video_s, sender_s
            )
        )
        progress(f"{clip.name} ({clip.split}): {text}")
    return results


def bench_caption(config: CaptionBenchConfig, progress: Progress = quiet) -> CaptionBenchResult:
    """Scores per set (``composed``: scenes this project composed; ``real``: camera footage
    from outside it) and per half (``tune``, ``test``, ``all``); with ``input``, one clip."""
    captions: dict[str, dict[str, str]] = {}
    sets: dict[str, dict[str, CaptionScore]] = {}
    with tempfile.TemporaryDirectory(prefix="mirage-caption-set-") as scratch:
        folder = config.clips_dir or Path(scratch)
        if config.input is not None:
            if config.labels is None:
                raise InputError("--input needs --labels (caption-set:NAME or a labels file)")
            clip = labelled_clip(config.labels)
            results = _caption_all([(clip, resolve_input(config.input))], config, folder, progress)
            sets["input"] = {"all": score(results)}
        else:
            for name in config.sets:
                if name not in SETS:
                    raise InputError(f"--set must be one of {', '.join(SETS)}, got {name!r}")
                clips = _set_clips(name, config)
                if config.split != "all":
                    clips = [clip for clip in clips if clip.split == config.split]
                    if not clips:
                        raise InputError(f"no clips in split {config.split!r} of set {name}")
                results = _caption_all([(c, None) for c in clips], config, folder / name, progress)
                halves = {
                    half: [r for r in results if r.split == half] for half in ("tune", "test")
                }
                sets[name] = {half: score(rows) for half, rows in halves.items() if rows}
                sets[name]["all"] = score(results)
                captions |= {
                    f"{name}:{r.name}": {"split": r.split, "caption": r.caption} for r in results
                }
    return CaptionBenchResult(
        input=config.input or ",".join(config.sets),
        sets=sets,
        captions=captions,
        peak_rss_mb=round(peak_rss_mb(), 1),
    )
