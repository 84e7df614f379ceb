"""``bench sender``: what the sender costs per second of video, per stage, and what it sends.

The sender runs on every segment of the input as it would in a call (feedback aside): scene
analysis, rate plan, caption, keyframe selection, privacy filter, encoding. Decoding the input
file is the camera's job and is reported apart (``source_rtf``).
"""

from __future__ import annotations

import resource
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from mirage_stream.bench import Progress, quiet
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.records import SenderRecord
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.factory import build_sender
from mirage_stream.sources import FileSource, resolve_input
from mirage_stream.sources.config import InputConfig
from mirage_stream.wire import encode_payload_image

STAGES = ("analyse", "plan", "caption", "select", "privacy", "encode", "portrait", "track")


@dataclass(frozen=True)
class SenderBenchConfig:
    input: InputConfig = field(default_factory=lambda: InputConfig(input="sample:bikes"))
    sender: SenderConfig = field(default_factory=SenderConfig)
    warmup_segments: int = 1  # run once first so that lazy loads are not counted


@dataclass(frozen=True)
class SenderSegment:
    """One segment as the sender handled it."""

    index: int
    seconds: float
    bytes: int
    keyframes: int
    keyframe_skipped: str | None
    codec: str | None
    granularity: str | None
    caption: str | None


@dataclass(frozen=True)
class SenderBenchResult:
    """``bench sender --json``: the sender's real-time factor, by stage, and what it sent."""

    input: str | None
    segments: int
    video_s: float
    rtf: float | None
    stages: dict[str, float | None]  # each stage's seconds per second of video
    source_rtf: float | None  # decoding the input, apart (a camera's job)
    peak_rss_mb: float
    bytes_per_segment: float | None
    keyframes_skipped: int
    bytes_saved_by_skipping: int
    bytes_saved_share: float | None
    options: dict[str, Any]  # the sender's settings
    per_segment: list[SenderSegment]


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_sender(config: SenderBenchConfig, progress: Progress = quiet) -> SenderBenchResult:
    source = FileSource(resolve_input(config.input.input or ""), config.input.frames())
    start = time.perf_counter()
    try:
        segments = list(source.iter_segments(config.input.segment_s))
    finally:
        source.close()
    decode_s = time.perf_counter() - start
    if config.warmup_segments and segments:
        warm = build_sender(config.sender)
        warm.describe(segments[0], SegmentTrace(index=0))
    sender = build_sender(config.sender)
    rows: list[SenderSegment] = []
    total_s = 0.0
    stage_ms = dict.fromkeys(STAGES, 0.0)
    for segment in segments:
        trace = SegmentTrace(index=segment.index)
        began = time.perf_counter()
        payload = sender.describe(segment, trace)
        elapsed = time.perf_counter() - began
        total_s += elapsed
        for name in STAGES:
            stage_ms[name] += trace.timings_ms.get(name, 0.0)
        size = len(encode_payload_image(payload).data) if payload is not None else 0
        sent = trace.record(SenderRecord)
        plan = None if sent is None else sent.plan
        rows.append(
            SenderSegment(
                index=segment.index,
                seconds=round(elapsed, 4),
                bytes=size,
                keyframes=0 if payload is None else len(payload.keyframes),
                keyframe_skipped=None if sent is None else sent.keyframe_skipped,
                codec=None if plan is None else plan.codec,
                granularity=None if plan is None else plan.granularity.value,
                caption=None if sent is None else sent.caption,
            )
        )
        progress(f"segment {segment.index}: {elapsed * 1000:.0f} ms, {size} B")
    video_s = sum(segment.duration for segment in segments)
    keyframe_bytes = sender.codec(config.sender.codec).payload_bytes()
    skipped = [row for row in rows if row.keyframe_skipped]
    sent_bytes = sum(row.bytes for row in rows)
    # What the skipped segments would have cost with one keyframe each (symbols + metadata).
    saved = len(skipped) * (keyframe_bytes + 16)
    return SenderBenchResult(
        input=config.input.input,
        segments=len(rows),
        video_s=round(video_s, 3),
        rtf=round(total_s / video_s, 4) if video_s else None,
        stages={
            name: round(ms / 1000.0 / video_s, 4) if video_s else None
            for name, ms in stage_ms.items()
        },
        source_rtf=round(decode_s / video_s, 4) if video_s else None,
        peak_rss_mb=round(peak_rss_mb(), 1),
        bytes_per_segment=round(sent_bytes / len(rows), 1) if rows else None,
        keyframes_skipped=len(skipped),
        bytes_saved_by_skipping=saved,
        bytes_saved_share=round(saved / (sent_bytes + saved), 4) if sent_bytes else None,
        options=asdict(config.sender),
        per_segment=rows,
    )
