"""``bench receiver``: receiver cost per second of video, generation queue depth, and caption
consistency of the generated video with its source (Table 5), per style and codec.

Each row runs the whole chain (sender, simulated link at --snr-db, receiver) on --input with
the offline generator. Caption consistency captions the source segment and the generated one
with the same offline captioner and compares the two with Sentence-BERT. That captioner agreeing
with itself proves little, so with ``labels`` (a labels file of the caption evaluation set's
format, one clip) the claims made of the source and of the generated video are also scored
against the hand-written labels (``label_facts``).
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mirage_stream.bench import Progress, quiet
from mirage_stream.errors import InputError
from mirage_stream.metrics.captions import CaptionConsistency, SentenceBert
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.receiver.profile import StylePreset
from mirage_stream.records import source_of
from mirage_stream.report import RunReport
from mirage_stream.run import RunConfig, run_file
from mirage_stream.sender.captioner import MeasuredFactsCaptioner
from mirage_stream.types import GeneratedSegment, VideoSegment

if TYPE_CHECKING:
    from mirage_stream.bench.caption_score import CaptionScore

RECEIVER_STAGES = ("decode", "prompt", "generate", "sink")
RTF_STAGES = ("decode", "generate")  # the prompt is built inside the "generate" stage
STYLES = tuple(preset.value for preset in StylePreset)
CODECS = ("vq", "ae")


@dataclass(frozen=True)
class ReceiverBenchConfig:
    """The main run (any run's components) and the Table-5 grid of styles and codecs."""

    run: RunConfig = field(
        default_factory=lambda: RunConfig.for_input("sample:carphone", Path("out/bench-receiver"))
    )
    styles: tuple[str, ...] = STYLES
    style_codecs: tuple[str, ...] = CODECS
    labels: str | None = None  # caption-set:NAME or a labels file with one clip

    def __post_init__(self) -> None:
        for style in self.styles:
            if style not in STYLES:
                raise InputError(f"--styles: unknown style {style!r} (one of {', '.join(STYLES)})")


def _run(config: RunConfig) -> tuple[RunReport, list[tuple[VideoSegment, VideoSegment]]]:
    pairs: list[tuple[VideoSegment, VideoSegment]] = []

    def keep(generated: GeneratedSegment, trace: SegmentTrace) -> None:
        source = source_of(trace)
        if source is not None:
            shown = VideoSegment(generated.index, generated.frames, generated.fps, generated.t0)
            pairs.append((source, shown))

    result = asyncio.run(run_file(config, on_generated=keep))
    return result.report, pairs


def _receiver_seconds(report: RunReport) -> dict[str, float]:
    totals = dict.fromkeys(RECEIVER_STAGES, 0.0)
    for row in report.segments + report.dropped:
        for name in RECEIVER_STAGES:
            totals[name] += row["timings_ms"].get(name, 0.0) / 1000.0
    return totals


@dataclass(frozen=True)
class StyleScore:
    """One style preset with one codec: how close the restyled video stays to the source."""

    style: str
    codec: str
    sbert: float
    bertscore_f1: float | None  # needs BERTScore weights, which no package ships


@dataclass(frozen=True)
class ReceiverBenchResult:
    """``bench receiver --json``: the receiver's cost per second of video and its fidelity."""

    input: str | None
    snr_db: float
    codec: str
    segments: int
    video_s: float
    rtf: float | None
    stages: dict[str, float]  # seconds per second of video, per receiver stage
    queue_depth_max: int
    sbert: float | None
    mean_psnr_db: float | None
    per_segment: list[dict[str, Any]]
    styles: list[StyleScore]
    label_facts: dict[str, CaptionScore] | None  # "source" / "generated" -> their score


def bench_receiver(config: ReceiverBenchConfig, progress: Progress = quiet) -> ReceiverBenchResult:
    consistency = CaptionConsistency(MeasuredFactsCaptioner(), SentenceBert())

    say = progress
    base = config.run
    with tempfile.TemporaryDirectory(prefix="mirage-bench-") as scratch:

        def run(
            style: str | None, codec: str
        ) -> tuple[RunReport, list[dict[str, Any]], list[tuple[VideoSegment, VideoSegment]]]:
            """``style`` None: the profile as given; else the given one in that style."""
            profile = base.receiver.profile
            if style is not None:
                profile = replace(profile, style=StylePreset(style))
            run_config = replace(
                base,
                out=Path(scratch) / f"{style}-{codec}",
                sender=replace(base.sender, codec=codec),
                receiver=replace(base.receiver, profile=profile),
            )
            report, pairs = _run(run_config)
            scores = [consistency.compare(source, shown) for source, shown in pairs]
            return report, scores, pairs

        say(f"main run: profile as given, codec {base.sender.codec}")
        report, scores, pairs = run(None, base.sender.codec)
        label_facts = None if config.labels is None else _label_facts(config.labels, pairs)
        video_s = report.totals.video_s
        seconds = _receiver_seconds(report)
        receiver_s = sum(seconds[name] for name in RTF_STAGES)
        styles = []
        for style in config.styles:
            for codec in config.style_codecs:
                say(f"style {style}, codec {codec}")
                _, style_scores, _ = run(style, codec)
                sbert = round(float(np.mean([s["sbert"] for s in style_scores])), 4)
                styles.append(StyleScore(style, codec, sbert, bertscore_f1=None))
    return ReceiverBenchResult(
        input=base.input.input,
        snr_db=base.channel.snr_db,
        codec=base.sender.codec,
        segments=report.totals.segments,
        video_s=video_s,
        rtf=round(receiver_s / video_s, 4) if video_s else None,
        stages={name: round(s / video_s, 4) for name, s in seconds.items()} if video_s else {},
        queue_depth_max=report.totals.generation_queue_depth_max,
        sbert=round(float(np.mean([s["sbert"] for s in scores])), 4) if scores else None,
        mean_psnr_db=report.totals.mean_psnr_db,
        per_segment=scores,
        styles=styles,
        label_facts=label_facts,
    )


def _label_facts(
    labels: str, pairs: list[tuple[VideoSegment, VideoSegment]]
) -> dict[str, CaptionScore]:
    """The claims the offline captioner makes of the source and of the generated video, each
    scored against the labels (see ``bench.caption.score``)."""
    from mirage_stream.bench.caption_score import ClipResult, score
    from mirage_stream.bench.labels import labelled_clip
    from mirage_stream.sender.analysis import SceneAnalyser
    from mirage_stream.sender.captioner import CaptionSettings, caption_sentences, describe

    clip = labelled_clip(labels)
    analyser, settings = SceneAnalyser(), CaptionSettings()
    sides: dict[str, list[ClipResult]] = {"source": [], "generated": []}
    for source, shown in pairs:
        for side, segment in (("source", source), ("generated", shown)):
            facts = analyser.analyse(segment).facts
            sides[side].append(
                ClipResult(
                    f"{clip.name}#{segment.index}",
                    clip.split,
                    describe(facts, settings),
                    caption_sentences(facts, settings),
                    facts,
                    clip.labels,
                    segment.duration,
                    0.0,
                )
            )
    return {side: score(rows, timed=False) for side, rows in sides.items()}
