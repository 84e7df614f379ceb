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

import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirage_stream.bench.caption_set import (
    ClipLabels,
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
from mirage_stream.sender.sentences import Sentence, Statement
from mirage_stream.sources import FileSource, SourceConfig, resolve_input
from mirage_stream.types import SceneFacts

CUT_TOLERANCE_S = 0.25
MIN_PERSON_PX = 30  # people_recall counts clips with someone at least this tall at source
FACTS = (
    "people",
    "walking",
    "standing",
    "sitting",
    "talking",
    "gesturing",
    "camera",
    "cut",
    "outdoors",
    "indoors",
    "animation",
    "colour",
    "hands",
    "object",
    "vehicles",
    "expression",
    "looks",
    "glasses",
)
VEHICLES = ("car", "bicycle")


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


def verdict(claim: Statement, labels: ClipLabels) -> bool | None:
    """True or false against ``labels``; None when the labels say nothing about the claim."""
    fact, value = claim.fact, claim.value
    if fact == "people":
        assert isinstance(value, tuple)
        low, high = value
        return low <= labels.people[1] and labels.people[0] <= high
    if fact == "walking":
        direction_ok = labels.walking is None or value in (labels.walking, "both")
        return "walking" in labels.actions and direction_ok
    if fact in ("standing", "sitting", "talking", "gesturing"):
        return fact in labels.actions
    if fact == "camera":
        return None if value == "shake" else value in labels.camera
    if fact == "cut":
        assert isinstance(value, float)
        return any(abs(value - t) <= CUT_TOLERANCE_S for t in labels.cuts)
    if fact in ("outdoors", "indoors"):
        return None if labels.setting == "unknown" else labels.setting == fact.removesuffix("s")
    if fact == "hands":
        return bool(labels.hands)
    if fact == "object":
        return str(value) in labels.objects
    if fact == "vehicles":
        if labels.vehicles is None:
            return None
        assert isinstance(value, tuple)
        return value[0] <= labels.vehicles[1] and labels.vehicles[0] <= value[1]
    if fact == "expression":
        return value in labels.expressions
    if fact == "looks":
        return value in labels.looks
    if fact == "glasses":
        return labels.glasses
    if fact == "animation":
        return labels.animation
    if fact == "colour":
        return value in labels.colours
    return None


def _within(count: object, labelled: tuple[int, int]) -> bool:
    """A claimed (low, high) count inside the labelled range."""
    assert isinstance(count, tuple)
    low, high = int(count[0]), int(count[1])
    return labelled[0] <= low and high <= labelled[1]


def _recalled(labels: ClipLabels, claims: list[Statement]) -> dict[str, tuple[int, int]]:
    """For each labelled fact: (found, labelled)."""

    def said(fact: str, test: Any = None) -> bool:
        return any(
            c.fact == fact and verdict(c, labels) and (test is None or test(c)) for c in claims
        )

    counts: dict[str, tuple[int, int]] = {}
    if labels.people[0] >= 1:
        counts["people"] = (int(said("people")), 1)
    for action in labels.actions:
        counts[action] = (int(said(action)), 1)
    if labels.camera[0] != "still":
        counts["camera"] = (int(said("camera", lambda c: c.value != "still")), 1)
    if labels.cuts:
        found = sum(
            any(
                c.fact == "cut" and abs(float(c.value) - t) <= CUT_TOLERANCE_S  # type: ignore[arg-type]
                for c in claims
            )
            for t in labels.cuts
        )
        counts["cut"] = (found, len(labels.cuts))
    if labels.setting in ("outdoor", "indoor"):
        fact = labels.setting + "s"
        counts[fact] = (int(said(fact)), 1)
    if set(labels.objects) & set(VEHICLES):
        counts["vehicles"] = (int(said("object", lambda c: c.value in VEHICLES)), 1)
    if labels.animation:
        counts["animation"] = (int(said("animation")), 1)
    counts["colour"] = (int(said("colour")), 1)
    if labels.hands:
        counts["hands"] = (int(said("hands")), 1)
    for expression in labels.expressions:
        counts["expression"] = _plus(
            counts.get("expression"), int(said("expression", lambda c, e=expression: c.value == e))
        )
    for direction in labels.looks:
        counts["looks"] = _plus(
            counts.get("looks"), int(said("looks", lambda c, d=direction: c.value == d))
        )
    if labels.glasses:
        counts["glasses"] = (int(said("glasses")), 1)
    return counts


def _plus(counts: tuple[int, int] | None, hit: int) -> tuple[int, int]:
    """(found, labelled) with one more labelled item, found or not."""
    found, labelled = counts or (0, 0)
    return found + hit, labelled + 1


@dataclass(frozen=True)
class ClipResult:
    name: str
    split: str
    caption: str
    sentences: list[Sentence]
    facts: SceneFacts
    labels: ClipLabels
    video_s: float
    sender_s: float

    def claims(self) -> list[tuple[Sentence, Statement]]:
        return [(sentence, claim) for sentence in self.sentences for claim in sentence.claims]


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


def score(results: list[ClipResult]) -> dict[str, Any]:
    """Per-fact precision and recall, the false statements, people / action / walking recall
    and the sender's real-time factor over ``results``."""
    true: dict[str, int] = defaultdict(int)
    false: dict[str, int] = defaultdict(int)
    found: dict[str, int] = defaultdict(int)
    labelled: dict[str, int] = defaultdict(int)
    false_statements = []
    people_hits = people_total = counted = 0
    for result in results:
        claims = result.claims()
        for sentence, claim in claims:
            judged = verdict(claim, result.labels)
            if judged is True:
                true[claim.fact] += 1
            elif judged is False:
                false[claim.fact] += 1
                false_statements.append(
                    {
                        "clip": result.name,
                        "fact": claim.fact,
                        "claim": claim.value,
                        "sentence": sentence.text,
                    }
                )
        for fact, (hit, total) in _recalled(result.labels, [c for _, c in claims]).items():
            found[fact] += hit
            labelled[fact] += total
        labels = result.labels
        if (labels.person_px or 0) >= MIN_PERSON_PX and labels.people[0] >= 1:
            people_total += 1
            counts = [c.value for _, c in claims if c.fact == "people"]
            people_hits += bool(counts)
            counted += any(_within(count, labels.people) for count in counts)
    actions = ("walking", "standing", "sitting", "talking", "gesturing")

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    facts = {
        fact: {
            "precision": ratio(true[fact], true[fact] + false[fact]),
            "recall": ratio(found[fact], labelled[fact]),
            "stated": true[fact] + false[fact],
            "false": false[fact],
            "labelled": labelled[fact],
        }
        for fact in FACTS
    }
    video_s = sum(r.video_s for r in results)
    known_setting = [r for r in results if r.labels.setting != "unknown"]
    return {
        "clips": len(results),
        "segments": len(results),  # one segment per clip
        "facts": facts,
        "false_statements": false_statements,
        "people_recall": ratio(people_hits, people_total),
        "people_clips": people_total,
        "count_accuracy": ratio(counted, people_total),
        "vehicle_recall": ratio(found["vehicles"], labelled["vehicles"]),
        "hands_recall": ratio(found["hands"], labelled["hands"]),
        "expression_recall": ratio(found["expression"], labelled["expression"]),
        "looks_recall": ratio(found["looks"], labelled["looks"]),
        "glasses_recall": ratio(found["glasses"], labelled["glasses"]),
        # Of the clips whose setting is known: stated and right (a wrong one is a false
        # statement; an unstated one is neither).
        "setting_accuracy": ratio(found["indoors"] + found["outdoors"], len(known_setting)),
        "action_recall": ratio(sum(found[a] for a in actions), sum(labelled[a] for a in actions)),
        "walking_recall": ratio(found["walking"], labelled["walking"]),
        "rtf": round(sum(r.sender_s for r in results) / video_s, 4) if video_s else None,
    }


SETS = ("composed", "real")


def _set_clips(name: str, config: CaptionBenchConfig) -> list[EvalClip]:
    if name == "real":
        return load_real_set()
    return load_caption_set(Path(config.labels) if config.labels else None)


def _caption_all(
    clips: list[tuple[EvalClip, Path | None]],
    config: CaptionBenchConfig,
    folder: Path,
    progress: bool,
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
        if progress:
            print(f"{clip.name} ({clip.split}): {text}", file=sys.stderr, flush=True)
    return results


def bench_caption(config: CaptionBenchConfig, progress: bool = False) -> dict[str, Any]:
    """Scores per set (``composed``: scenes this project composed; ``real``: camera footage
    from outside it) and per half (``tune``, ``test``, ``all``); with ``input``, one clip."""
    captions: dict[str, dict[str, str]] = {}
    sets: dict[str, dict[str, dict[str, Any]]] = {}
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
    return {
        "input": config.input or ",".join(config.sets),
        "sets": sets,
        "captions": captions,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
