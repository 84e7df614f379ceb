"""One end-to-end run on a file: source -> sender -> link -> receiver -> files + report.json."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channel_sim import (
    AwgnBitChannel,
    ConstantSnr,
    GaussMarkovSnr,
    GilbertElliottSnr,
    SnrProcess,
    TraceSnr,
    time_on_air_s,
)
from mirage_stream.errors import InputError
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link import SimulatedLinkStage
from mirage_stream.pipeline import (
    BoundedQueue,
    DropPolicy,
    Envelope,
    PipelineResult,
    SegmentTrace,
    Stage,
    run_pipeline,
)
from mirage_stream.player import FileSink, PlaybackClock
from mirage_stream.receiver import DecodeStage, GenerateStage, ReceiverProfile, load_profile
from mirage_stream.receiver.backends import build_generator
from mirage_stream.sender.factory import SenderOptions, build_sender
from mirage_stream.sender.rate import LinkModel
from mirage_stream.sources import FileSource, SourceConfig, resolve_input
from mirage_stream.types import GeneratedSegment, LinkReport, VideoSegment

SNR_RANGE_DB = (-30.0, 40.0)
SNR_PROCESSES = ("constant", "random-walk", "gilbert-elliott", "trace")


@dataclass(frozen=True)
class RunConfig:
    """Everything a run depends on; saved beside its results as ``config.json``."""

    input: str
    out: Path
    snr_db: float = -10.0
    snr_process: str = "constant"
    snr_std_db: float = 3.0  # random-walk spread around snr_db
    snr_bad_db: float = -15.0  # gilbert-elliott bad state (snr_db is the good state)
    snr_trace: str | None = None  # CSV with a snr_db column, for snr_process "trace"
    segment_s: float = 2.0
    width: int = 320
    height: int = 240
    max_seconds: float | None = None
    sender: SenderOptions = field(default_factory=SenderOptions)
    bandwidth_hz: float = 20e6
    ber_model: str = "mirage"
    overhead_ms: float = 0.0
    seed: int = 0
    queue_size: int = 2
    profile: str | None = None  # receiver profile TOML (identity, style, safety)
    keyframe_strength: float = 1.0
    generator: str = "offline"  # offline | diffusion
    diffusion_model: str | None = None  # folder or hub id for generator "diffusion"
    realtime: bool = False  # pace the source like a camera; the generation queue drops oldest
    generation_queue: int = 2
    damaged_keyframes: str = "best-effort"  # or last-good
    playout_delay_s: float = 0.5  # jitter buffer of the playback clock (realtime only)

    def __post_init__(self) -> None:
        low, high = SNR_RANGE_DB
        if not (math.isfinite(self.snr_db) and low <= self.snr_db <= high):
            raise InputError(f"--snr-db must be a number in [{low:g}, {high:g}], got {self.snr_db}")
        if not (math.isfinite(self.segment_s) and 0.1 <= self.segment_s <= 30):
            raise InputError(f"--segment-s must be in [0.1, 30] seconds, got {self.segment_s}")
        if not (math.isfinite(self.bandwidth_hz) and self.bandwidth_hz > 0):
            raise InputError(f"--bandwidth-hz must be positive, got {self.bandwidth_hz}")
        if not (math.isfinite(self.overhead_ms) and self.overhead_ms >= 0):
            raise InputError(f"--overhead-ms must be non-negative, got {self.overhead_ms}")
        if self.snr_process not in SNR_PROCESSES:
            raise InputError(
                f"--snr-process must be one of {', '.join(SNR_PROCESSES)}, got {self.snr_process}"
            )
        if self.snr_process == "trace" and not self.snr_trace:
            raise InputError("--snr-process trace needs --snr-trace PATH")
        if self.queue_size < 1:
            raise InputError(f"--queue-size must be at least 1, got {self.queue_size}")
        if self.generation_queue < 1:
            raise InputError(f"--generation-queue must be at least 1, got {self.generation_queue}")
        if not (math.isfinite(self.keyframe_strength) and 0 <= self.keyframe_strength <= 1):
            raise InputError(f"--keyframe-strength must be in [0, 1], got {self.keyframe_strength}")
        if not (math.isfinite(self.playout_delay_s) and 0 <= self.playout_delay_s <= 30):
            raise InputError(f"--playout-delay-s must be in [0, 30], got {self.playout_delay_s}")

    def to_json(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["out"] = str(self.out)
        return values


def make_snr_process(config: RunConfig) -> SnrProcess:
    """The per-segment SNR the run's flags describe."""
    try:
        if config.snr_process == "random-walk":
            return GaussMarkovSnr(config.snr_db, config.snr_std_db, seed=config.seed)
        if config.snr_process == "gilbert-elliott":
            return GilbertElliottSnr(config.snr_db, config.snr_bad_db, seed=config.seed)
        if config.snr_process == "trace":
            assert config.snr_trace is not None
            return TraceSnr.from_csv(Path(config.snr_trace))
    except (ValueError, OSError) as error:
        raise InputError(str(error)) from None
    return ConstantSnr(config.snr_db)


@dataclass(frozen=True)
class RunResult:
    report: dict[str, Any]
    report_path: Path


async def _traced(
    segments: AsyncIterator[VideoSegment], clock: PlaybackClock | None = None
) -> AsyncIterator[Envelope[VideoSegment]]:
    """Segments with their traces; with a clock, each is released when a camera would have
    finished capturing it (t0 + duration after the start)."""
    async for segment in segments:
        if clock is not None:
            await clock.wait_until(segment.t0 + segment.duration)
        trace = SegmentTrace(index=segment.index, source=segment)
        if clock is not None:
            trace.facts["captured_at_s"] = clock.now()
        yield Envelope(segment, trace)


def _segment_row(trace: SegmentTrace, config: RunConfig) -> dict[str, Any]:
    source = trace.source
    link: LinkReport | None = trace.facts.get("link")
    row: dict[str, Any] = {
        "index": trace.index,
        "t0_s": None if source is None else round(source.t0, 4),
        "duration_s": None if source is None else round(source.duration, 4),
        "frames": None if source is None else source.num_frames,
        "caption": trace.facts.get("caption"),
        "keyframe_indices": trace.facts.get("keyframe_indices"),
        "keyframe_skipped": trace.facts.get("keyframe_skipped"),
        "plan": trace.facts.get("plan"),
        "payload_bytes": trace.facts.get("payload_bytes"),
    }
    if link is not None:
        row |= {
            "snr_db": link.snr_db,
            "ber": link.ber,
            "bits_sent": link.bits_sent,
            "bits_exposed": link.bits_exposed,
            "channel_bits": link.channel_bits,
            "overhead_bits": link.overhead_bits,
            "tries": link.tries,
            "residual_block_error": link.residual_block_error,
            "delivered": link.delivered,
            "bit_errors": link.bit_errors,
            "damaged_symbols": [len(symbols) for symbols in link.damaged_symbols],
            "time_on_air_ms": link.time_on_air_s * 1000.0,
        }
    if source is not None:
        # Raw video goes uncoded, as in the paper's Table 1, at this segment's SNR.
        snr_db = config.snr_db if link is None else link.snr_db
        row["raw_time_on_air_ms"] = 1000.0 * time_on_air_s(
            source.raw_bytes * 8, config.bandwidth_hz, snr_db, config.overhead_ms / 1000.0
        )
    row |= {
        "prompt": trace.facts.get("prompt"),
        "playback": trace.facts.get("playback"),
        "keyframe_damaged": trace.facts.get("keyframe_damaged"),
        "psnr_db": trace.facts.get("psnr_db"),
        "receiver_notes": trace.facts.get("receiver_notes", []),
        "timings_ms": {name: round(ms, 2) for name, ms in trace.timings_ms.items()},
    }
    if "dropped" in trace.facts:
        row["dropped"] = trace.facts["dropped"]
    return row


def build_report(
    config: RunConfig, source: FileSource, result: PipelineResult, wall_s: float
) -> dict[str, Any]:
    rows = [
        _segment_row(trace, config) for trace in sorted(result.completed, key=lambda t: t.index)
    ]
    dropped = [_segment_row(trace, config) for trace in result.dropped]
    all_rows = rows + dropped
    video_s = sum(row["duration_s"] or 0.0 for row in all_rows)
    raw_bytes = sum(t.source.raw_bytes for t in result.completed + result.dropped if t.source)
    payload_bytes = sum((row["payload_bytes"] or {}).get("total", 0) for row in all_rows)
    air_ms = sum(row.get("time_on_air_ms", 0.0) for row in all_rows)
    raw_air_ms = sum(row.get("raw_time_on_air_ms", 0.0) for row in all_rows)
    pixels = sum(
        t.source.num_frames * t.source.width * t.source.height
        for t in result.completed + result.dropped
        if t.source
    )
    psnrs = [row["psnr_db"] for row in rows if row["psnr_db"] is not None]
    totals = {
        "segments": len(all_rows),
        "segments_played": len(rows),
        "segments_dropped": len(dropped),
        "video_s": round(video_s, 4),
        "wall_s": round(wall_s, 3),
        "real_time_factor": round(wall_s / video_s, 4) if video_s else None,
        "raw_bytes": raw_bytes,
        "payload_bytes": payload_bytes,
        "data_speedup": round(raw_bytes / payload_bytes, 1) if payload_bytes else None,
        "bpp": payload_bytes * 8 / pixels if pixels else None,
        "time_on_air_ms": air_ms,
        "raw_time_on_air_ms": raw_air_ms,
        "latency_speedup": round(raw_air_ms / air_ms, 1) if air_ms else None,
        "bit_errors": sum(row.get("bit_errors", 0) for row in all_rows),
        "channel_bits": sum(row.get("channel_bits", 0) for row in all_rows),
        "mean_psnr_db": round(sum(psnrs) / len(psnrs), 3) if psnrs else None,
        "max_queue_depth": result.max_queue_depth,
        "generation_queue_depth_max": result.queue_depths[-2] if result.queue_depths else None,
        "segments_skipped": sum(
            1 for row in dropped if str(row.get("dropped", "")).startswith("skipped")
        ),
    }
    playback = [row["playback"] for row in rows if row.get("playback")]
    if playback:
        g2g = sorted(item["glass_to_glass_s"] for item in playback)
        totals |= {
            "glass_to_glass_p50_s": g2g[len(g2g) // 2],
            "glass_to_glass_max_s": g2g[-1],
            "segments_late": sum(1 for item in playback if item["late_s"] > 0),
        }
    return {
        "config": config.to_json(),
        "input": {
            "path": str(source.path),
            "source_size": list(source.source_size),
            "fps": source.fps,
        },
        "segments": rows,
        "dropped": dropped,
        "totals": totals,
    }


async def run_file(
    config: RunConfig,
    on_segment: Callable[[SegmentTrace], None] | None = None,
    on_generated: Callable[[GeneratedSegment, SegmentTrace], None] | None = None,
) -> RunResult:
    """Run the whole chain on ``config.input`` and write the results into ``config.out``."""
    path = resolve_input(config.input)
    source = FileSource(path, SourceConfig(config.width, config.height, config.max_seconds))
    try:
        channel = AwgnBitChannel(config.bandwidth_hz, config.ber_model, config.overhead_ms / 1000.0)
    except ValueError as error:
        raise InputError(str(error)) from None
    feedback = FeedbackInbox()
    sender = build_sender(
        config.sender,
        feedback,
        LinkModel(
            bandwidth_hz=channel.bandwidth_hz,
            ber_model=channel.ber_model,
            per_try_overhead_s=channel.per_payload_overhead_s,
            max_tries=channel.max_tries,
        ),
        initial_snr_db=config.snr_db,
    )
    link = SimulatedLinkStage(channel, make_snr_process(config), seed=config.seed)
    profile = load_profile(Path(config.profile)) if config.profile else ReceiverProfile()
    decode = DecodeStage(
        width=config.width,
        height=config.height,
        feedback=feedback,
        damaged_keyframes=config.damaged_keyframes,
    )
    generate = GenerateStage(
        build_generator(config.generator, config.diffusion_model),
        profile,
        width=config.width,
        height=config.height,
        keyframe_strength=config.keyframe_strength,
        seed=config.seed,
    )
    stages: list[Stage] = [sender, link, decode, generate]
    generation_queue = BoundedQueue(
        config.generation_queue,
        DropPolicy.DROP_OLDEST if config.realtime else DropPolicy.BLOCK,
        drop_reason="skipped: generation fell behind and a newer segment was waiting",
    )
    config.out.mkdir(parents=True, exist_ok=True)
    clock = PlaybackClock(config.playout_delay_s) if config.realtime else None
    sink = _NotifyingSink(FileSink(config.out), on_segment, clock, on_generated)
    start = time.perf_counter()
    result = await run_pipeline(
        _traced(source.segments(config.segment_s), clock),
        stages,
        sink,
        queue_size=config.queue_size,
        inboxes={stages.index(generate): generation_queue},
    )
    wall_s = time.perf_counter() - start
    report = build_report(config, source, result, wall_s)
    (config.out / "config.json").write_text(json.dumps(config.to_json(), indent=2) + "\n")
    report_path = config.out / "report.json"
    report_path.write_text(json.dumps(finite_json(report), indent=2, allow_nan=False) + "\n")
    return RunResult(report=report, report_path=report_path)


def finite_json(value: Any) -> Any:
    """``value`` with dataclasses as dicts and non-finite floats as None (strict JSON)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return finite_json(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, enum.Enum):
        return value.value
    return value


@dataclass
class _NotifyingSink:
    """Wraps a sink to play each segment on the clock (when there is one) and to tell the
    caller (the CLI's progress line) when a segment is played."""

    inner: FileSink
    on_segment: Callable[[SegmentTrace], None] | None
    clock: PlaybackClock | None = None
    on_generated: Callable[[GeneratedSegment, SegmentTrace], None] | None = None

    async def consume(self, item: Any, trace: SegmentTrace) -> None:
        if self.clock is not None:
            segment = trace.source
            assert segment is not None
            trace.facts["playback"] = await self.clock.play(segment.t0, segment.duration)
        await self.inner.consume(item, trace)
        if self.on_generated is not None:
            self.on_generated(item, trace)
        if self.on_segment is not None:
            self.on_segment(trace)

    async def close(self) -> None:
        await self.inner.close()
