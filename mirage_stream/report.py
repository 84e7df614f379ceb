"""What a run reports: one row per segment and the totals, as ``report.json``."""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channel_sim import time_on_air_s
from mirage_stream.pipeline import PipelineResult, SegmentTrace
from mirage_stream.records import (
    DecodeRecord,
    EvaluationRecord,
    GenerationRecord,
    LinkRecord,
    SenderRecord,
    caption_of,
    source_of,
)
from mirage_stream.types import PlaybackSlot

if TYPE_CHECKING:
    from mirage_stream.link.config import ChannelConfig
    from mirage_stream.sources.stream import SegmentStream


NOT_PRINTED = {"not_printed": True}  # field metadata: kept in the object, not in its JSON
# Field metadata: a field only some rows of a table have, left out of the JSON where None.
ONLY_WHEN_SET = {"only_when_set": True}


def finite_json(value: Any) -> Any:
    """``value`` with dataclasses as dicts, enums as values, paths as text and non-finite
    floats as None (strict JSON). A dataclass field declared with ``NOT_PRINTED`` metadata (a
    per-segment trace kept for a plot) is left out, one with ``ONLY_WHEN_SET`` where None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return finite_json(
            {
                f.name: getattr(value, f.name)
                for f in dataclasses.fields(value)
                if f.init
                and not f.metadata.get("not_printed")
                and not (f.metadata.get("only_when_set") and getattr(value, f.name) is None)
            }
        )
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass(frozen=True)
class RunTotals:
    segments: int
    segments_played: int
    segments_dropped: int
    segments_skipped: int  # dropped by the generation queue (live pace)
    video_s: float
    wall_s: float
    real_time_factor: float | None
    raw_bytes: int
    payload_bytes: int
    data_speedup: float | None
    bpp: float | None
    time_on_air_ms: float
    raw_time_on_air_ms: float
    latency_speedup: float | None
    bit_errors: int
    channel_bits: int
    mean_psnr_db: float | None
    # The same frames as the nearest decoded keyframe held, the same mean of segment PSNRs.
    hold_psnr_db: float | None
    # Double-image pixels over keyframe-disagreement pixels, pooled (metrics.ghosting).
    ghosting: float | None
    # Share of sampled generated frames with a face found, over segments whose source shows one.
    face_found_rate: float | None
    max_queue_depth: int
    generation_queue_depth_max: int
    glass_to_glass_p50_s: float | None = None  # with --realtime
    glass_to_glass_max_s: float | None = None
    segments_late: int | None = None


@dataclass(frozen=True)
class RunReport:
    config: dict[str, Any]
    input: dict[str, Any]
    segments: list[dict[str, Any]]
    dropped: list[dict[str, Any]]
    totals: RunTotals
    traces: list[SegmentTrace] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        values: dict[str, Any] = finite_json(
            {
                "config": self.config,
                "input": self.input,
                "segments": self.segments,
                "dropped": self.dropped,
                "totals": self.totals,
            }
        )
        return values


def segment_row(trace: SegmentTrace, channel: ChannelConfig) -> dict[str, Any]:
    source = source_of(trace)
    sent = trace.record(SenderRecord)
    carried = trace.record(LinkRecord)
    link = None if carried is None else carried.report
    decoded = trace.record(DecodeRecord)
    generated = trace.record(GenerationRecord)
    evaluated = trace.record(EvaluationRecord)
    row: dict[str, Any] = {
        "index": trace.index,
        "t0_s": None if source is None else round(source.t0, 4),
        "duration_s": None if source is None else round(source.duration, 4),
        "frames": None if source is None else source.num_frames,
        "caption": caption_of(trace),
        "keyframe_indices": [] if sent is None else list(sent.keyframe_indices),
        "keyframe_skipped": None if sent is None else sent.keyframe_skipped,
        "plan": None if sent is None else sent.plan,
        "payload_bytes": (carried.payload_bytes or None) if carried is not None else None,
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
        snr_db = channel.snr_db if link is None else link.snr_db
        row["raw_time_on_air_ms"] = 1000.0 * time_on_air_s(
            source.raw_bytes * 8, channel.bandwidth_hz, snr_db, channel.overhead_ms / 1000.0
        )
    row |= {
        "prompt": None if generated is None else generated.prompt,
        "playback": trace.record(PlaybackSlot),
        "keyframe_damaged": None if decoded is None else decoded.keyframe_damaged,
        "psnr_db": None if evaluated is None else evaluated.psnr_db,
        "hold_psnr_db": None if evaluated is None else evaluated.hold_psnr_db,
        "ghosting": None if evaluated is None else evaluated.ghosting,
        "faces_found": None if evaluated is None else evaluated.faces_found,
        "receiver_notes": [] if decoded is None else list(decoded.notes),
        "timings_ms": {name: round(ms, 2) for name, ms in trace.timings_ms.items()},
    }
    if trace.dropped is not None:
        row["dropped"] = trace.dropped
    return row


def _totals(
    rows: list[dict[str, Any]],
    dropped: list[dict[str, Any]],
    result: PipelineResult,
    wall_s: float,
    generation_queue_max: int,
) -> RunTotals:
    all_rows = rows + dropped
    traces = result.completed + result.dropped
    video_s = sum(row["duration_s"] or 0.0 for row in all_rows)
    sources = [s for s in map(source_of, traces) if s is not None]
    raw_bytes = sum(s.raw_bytes for s in sources)
    carried = [c for c in (t.record(LinkRecord) for t in traces) if c is not None]
    payload_bytes = sum(c.payload_bytes.get("total", 0) for c in carried)
    air_ms = sum(row.get("time_on_air_ms", 0.0) for row in all_rows)
    raw_air_ms = sum(row.get("raw_time_on_air_ms", 0.0) for row in all_rows)
    pixels = sum(s.num_frames * s.width * s.height for s in sources)
    evaluated = [e for e in (t.record(EvaluationRecord) for t in result.completed) if e is not None]
    psnrs = [e.psnr_db for e in evaluated]
    holds = [e.hold_psnr_db for e in evaluated if e.hold_psnr_db is not None]
    ghosts = sum(e.ghost_pixels for e in evaluated)
    looked_at = sum(e.ghost_looked_at for e in evaluated)
    faces = [e.faces_found for e in evaluated if e.faces_found is not None]
    slots = [t.record(PlaybackSlot) for t in result.completed]
    g2g = sorted(slot.glass_to_glass_s for slot in slots if slot is not None)
    return RunTotals(
        segments=len(all_rows),
        segments_played=len(rows),
        segments_dropped=len(dropped),
        segments_skipped=sum(1 for t in result.dropped if (t.dropped or "").startswith("skipped")),
        video_s=round(video_s, 4),
        wall_s=round(wall_s, 3),
        real_time_factor=round(wall_s / video_s, 4) if video_s else None,
        raw_bytes=raw_bytes,
        payload_bytes=payload_bytes,
        data_speedup=round(raw_bytes / payload_bytes, 1) if payload_bytes else None,
        bpp=payload_bytes * 8 / pixels if pixels else None,
        time_on_air_ms=air_ms,
        raw_time_on_air_ms=raw_air_ms,
        latency_speedup=round(raw_air_ms / air_ms, 1) if air_ms else None,
        bit_errors=sum(row.get("bit_errors", 0) for row in all_rows),
        channel_bits=sum(row.get("channel_bits", 0) for row in all_rows),
        mean_psnr_db=round(sum(psnrs) / len(psnrs), 3) if psnrs else None,
        hold_psnr_db=round(sum(holds) / len(holds), 3) if holds else None,
        ghosting=round(ghosts / looked_at, 4) if looked_at else None,
        face_found_rate=round(sum(f.found for f in faces) / sum(f.sampled for f in faces), 4)
        if faces
        else None,
        max_queue_depth=result.max_queue_depth,
        generation_queue_depth_max=generation_queue_max,
        glass_to_glass_p50_s=g2g[len(g2g) // 2] if g2g else None,
        glass_to_glass_max_s=g2g[-1] if g2g else None,
        segments_late=sum(1 for slot in slots if slot is not None and slot.late_s > 0)
        if g2g
        else None,
    )


def build_report(
    config: dict[str, Any],  # the run's settings, as saved in config.json
    channel: ChannelConfig,
    stream: SegmentStream,
    result: PipelineResult,
    wall_s: float,
    generation_queue_max: int,
) -> RunReport:
    completed = sorted(result.completed, key=lambda t: t.index)
    rows = [segment_row(trace, channel) for trace in completed]
    dropped = [segment_row(trace, channel) for trace in result.dropped]
    return RunReport(
        config=config,
        input={
            "path": str(stream.path),
            "source_size": list(stream.source_size),
            "fps": stream.fps,
        },
        segments=rows,
        dropped=dropped,
        totals=_totals(rows, dropped, result, wall_s, generation_queue_max),
        traces=completed,
    )
