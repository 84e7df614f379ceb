"""``bench rate``: does the rate adapter keep each segment within its latency budget?

For each SNR process the adapter plans every segment from the receiver's feedback on the
previous ones; the payload it implies (a real caption of the planned granularity, keyframe
symbols of the planned codec and count) then crosses channel_sim at the segment's true SNR,
and its time on air, retries included, is checked against the budget. The receiver's SNR
estimate is the true SNR plus Gaussian estimation noise.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from channel_sim import (
    AwgnBitChannel,
    SnrProcess,
)
from mirage_stream.bench import Progress, quiet
from mirage_stream.codecs.distortion_model import load_quality
from mirage_stream.link.config import BadStateOptions, ChannelConfig, RandomWalkOptions
from mirage_stream.registry import BackendOptions, NoOptions
from mirage_stream.report import NOT_PRINTED
from mirage_stream.sender.airtime_adapter import AirtimeRateAdapter, LinkModel
from mirage_stream.sender.analysis import SceneAnalyser, SegmentAnalysis
from mirage_stream.sender.captioner import CaptionSettings, describe
from mirage_stream.sources import FileSource, SourceConfig, resolve_input
from mirage_stream.types import (
    ChannelFeedback,
    EncodedKeyframe,
    Granularity,
    SegmentPlan,
    SemanticPayload,
)
from mirage_stream.wire import encode_payload_image


@dataclass(frozen=True)
class RateBenchConfig:
    input: str = "sample:bikes"
    segments: int = 1000
    budget_ms: float = 20.0
    snr_db: float = -5.0
    snr_std_db: float = 3.0
    snr_bad_db: float = -12.0
    estimate_noise_db: float = 0.5
    bandwidth_hz: float = 20e6
    seed: int = 0


@dataclass(frozen=True)
class RateSeries:
    """Per segment, for the plot: the true SNR, the SNR the plan assumed, the time on air."""

    snr_db: list[float]
    planned_snr_db: list[float]
    time_on_air_ms: list[float]


@dataclass(frozen=True)
class ProcessRow:
    """The adapter under one SNR process."""

    process: str
    segments: int
    budget_met_share: float
    mean_time_on_air_ms: float
    p99_time_on_air_ms: float
    max_time_on_air_ms: float
    mean_predicted_mse: float
    plans: dict[str, int]  # the eight plans chosen most, with their counts
    series: RateSeries = field(metadata=NOT_PRINTED)


@dataclass(frozen=True)
class RateBenchResult:
    input: str
    budget_ms: float
    snr_db: float
    snr_std_db: float
    snr_bad_db: float
    estimate_noise_db: float
    granularities: list[str]
    processes: list[ProcessRow]
    budget_met_min: float


def snr_processes(config: RateBenchConfig) -> dict[str, SnrProcess]:
    """Each SNR process the bench compares, built as a run would build it."""
    options: dict[str, BackendOptions] = {
        "constant": NoOptions(),
        "random-walk": RandomWalkOptions(config.snr_std_db),
        "gilbert-elliott": BadStateOptions(config.snr_bad_db),
    }
    return {
        name: ChannelConfig(
            snr_db=config.snr_db,
            snr_process=name,
            snr_process_options=process_options,
            bandwidth_hz=config.bandwidth_hz,
            seed=config.seed,
        ).snr()
        for name, process_options in options.items()
    }


def _payload(
    index: int,
    analysis: SegmentAnalysis,
    plan: SegmentPlan,
    keyframe_bytes: int,
    rng: np.random.Generator,
) -> SemanticPayload:
    """The payload ``plan`` implies: a real caption, random keyframe symbols of the right size."""
    caption = describe(analysis.facts, CaptionSettings(plan.granularity))
    setting, _, variant = plan.codec.partition(":")
    keyframes = tuple(
        EncodedKeyframe(
            codec=setting,
            variant=variant,
            grid=(16, 16),
            data=rng.integers(0, 256, keyframe_bytes, dtype=np.uint8).tobytes(),
            frame_index=i,
        )
        for i in range(plan.keyframes)
    )
    return SemanticPayload(
        segment_index=index,
        t0=2.0 * index,
        duration=2.0,
        fps=25.0,
        width=320,
        height=240,
        num_frames=50,
        caption=caption,
        facts=analysis.facts,
        keyframes=keyframes,
        keyframe_fec_parity=plan.keyframe_fec_parity,
    )


def run_process(
    name: str,
    process: SnrProcess,
    analyses: list[SegmentAnalysis],
    config: RateBenchConfig,
) -> ProcessRow:
    qualities = load_quality()
    link = LinkModel(bandwidth_hz=config.bandwidth_hz)
    adapter = AirtimeRateAdapter(
        qualities, budget_s=config.budget_ms / 1000.0, link=link, initial_snr_db=config.snr_db
    )
    channel = AwgnBitChannel(bandwidth_hz=config.bandwidth_hz)
    rng = np.random.default_rng(config.seed)
    times, met, mse, true_snr, planned_snr = [], 0, [], [], []
    chosen: Counter[str] = Counter()
    last_thumbnail = None
    for index in range(config.segments):
        analysis = analyses[index % len(analyses)]
        thumbnails = [c.thumbnail for c in analysis.candidates]
        plan = adapter.plan(thumbnails, last_thumbnail, bool(analysis.cut_frames))
        payload = _payload(index, analysis, plan, qualities[plan.codec].keyframe_bytes, rng)
        image = encode_payload_image(payload)
        adapter.record_caption_bytes(plan.granularity, image.part_bytes["caption"])
        snr = process.snr_db(index)
        true_snr.append(snr)
        planned_snr.append(plan.planned_snr_db)
        sent = channel.send(
            image.data,
            snr,
            rng,
            image.exposed_spans,
            keyframe_fec_parity=payload.keyframe_fec_parity,
        )
        times.append(sent.time_on_air_s)
        met += sent.time_on_air_s <= adapter.budget_s
        mse.append(plan.predicted_mse)
        label = f"{plan.codec} x{plan.keyframes} {plan.granularity.value}"
        chosen[f"{label} fec{plan.keyframe_fec_parity}"] += 1
        if plan.keyframes:
            last_thumbnail = thumbnails[-1]
        estimate = snr + float(rng.normal(0.0, config.estimate_noise_db))
        adapter.observe(ChannelFeedback(index, estimate, delivered=sent.delivered))
    seconds = np.array(times)
    return ProcessRow(
        process=name,
        segments=config.segments,
        budget_met_share=met / config.segments,
        mean_time_on_air_ms=float(seconds.mean() * 1000),
        p99_time_on_air_ms=float(np.percentile(seconds, 99) * 1000),
        max_time_on_air_ms=float(seconds.max() * 1000),
        mean_predicted_mse=float(np.mean(mse)),
        plans=dict(chosen.most_common(8)),
        series=RateSeries(true_snr, planned_snr, [t * 1000 for t in times]),
    )


def bench_rate(config: RateBenchConfig, progress: Progress = quiet) -> RateBenchResult:
    source = FileSource(resolve_input(config.input), SourceConfig())
    try:
        analyses = [SceneAnalyser().analyse(s) for s in source.iter_segments(2.0)]
    finally:
        source.close()
    rows = []
    for name, process in snr_processes(config).items():
        progress(f"rate adapter on {name} SNR ...")
        rows.append(run_process(name, process, analyses, config))
    return RateBenchResult(
        input=config.input,
        budget_ms=config.budget_ms,
        snr_db=config.snr_db,
        snr_std_db=config.snr_std_db,
        snr_bad_db=config.snr_bad_db,
        estimate_noise_db=config.estimate_noise_db,
        granularities=[g.value for g in Granularity],
        processes=rows,
        budget_met_min=min(row.budget_met_share for row in rows),
    )


def plot_rate(result: RateBenchResult, path: Path, segments: int = 200) -> None:
    """For each SNR process: true and planned SNR, and time on air against the budget, over the
    first ``segments`` segments."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result.processes
    figure, axes = plt.subplots(2, len(rows), figsize=(4.2 * len(rows), 5.2), sharex=True)
    for column, row in enumerate(rows):
        series = row.series
        top, bottom = axes[0][column], axes[1][column]
        top.plot(series.snr_db[:segments], label="true SNR", linewidth=1)
        top.plot(series.planned_snr_db[:segments], label="planned SNR", linewidth=1)
        top.set_title(f"{row.process}: {row.budget_met_share:.1%} within budget")
        top.set_ylabel("SNR (dB)")
        top.grid(True, alpha=0.3)
        bottom.plot(series.time_on_air_ms[:segments], linewidth=1, label="time on air")
        bottom.axhline(result.budget_ms, color="red", linestyle="--", label="budget")
        bottom.set_xlabel("segment")
        bottom.set_ylabel("time on air (ms)")
        bottom.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=8)
    axes[1][0].legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    path.write_bytes(buffer.getvalue())
