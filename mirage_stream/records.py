"""What each stage says about a segment: one small typed record per stage, attached to the trace.

The pipeline carries records without knowing them (``SegmentTrace.attach`` / ``record``); the
report, the progress line, the live stats and the pages read the records they need. A record a
stage did not attach reads as None: "this stage did not say".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from mirage_stream.pipeline import SegmentTrace
from mirage_stream.types import FacesFound, FrameArray, LinkReport, SegmentPlan, VideoSegment


@dataclass(frozen=True)
class SourceRecord:
    """The segment as captured, for evaluation and the pages; it never crosses the link."""

    segment: VideoSegment

    def without_pixels(self) -> SourceRecord:
        return SourceRecord(self.segment.without_pixels())


@dataclass(frozen=True)
class SenderRecord:
    """What the sender decided: the caption, which frames went as keyframes, the plan."""

    caption: str
    keyframe_indices: tuple[int, ...] = ()
    keyframe_skipped: str | None = None  # why no keyframe was sent
    plan: SegmentPlan | None = None
    shed: str = ""  # "light": sent with less work, the sender running behind (load_shed.py)
    shed_skipped: int = 0  # segments the sender has dropped for lateness so far


@dataclass(frozen=True)
class LinkRecord:
    """The segment's trip over the simulated channel."""

    report: LinkReport
    payload_bytes: dict[str, int] = field(default_factory=dict)  # per wire part, and "total"


@dataclass(frozen=True)
class ArrivalRecord:
    """Live receiver: what arrived from the far end besides the payload."""

    sender_stage_ms: dict[str, float] = field(default_factory=dict)  # the far end's timings
    chunks_missing: int = 0  # keyframe chunks that never arrived


@dataclass(frozen=True)
class DecodeRecord:
    """What the receiver's decode found."""

    keyframe_damaged: bool
    notes: tuple[str, ...] = ()
    caption_received: str | None = None  # the caption as received, when its CRC held
    # (frame index, image at output size) as decoded: the pages show the newest, the
    # evaluation holds them as its baseline.
    keyframes: tuple[tuple[int, FrameArray], ...] = ()

    @property
    def keyframe_image(self) -> FrameArray | None:
        """The newest keyframe as decoded, when there was one."""
        return self.keyframes[-1][1] if self.keyframes else None

    def without_pixels(self) -> DecodeRecord:
        return DecodeRecord(self.keyframe_damaged, self.notes, self.caption_received)


@dataclass(frozen=True)
class GenerationRecord:
    """What the receiver asked the generator for."""

    prompt: str
    prompt_removed: tuple[str, ...] = ()
    setting: str | None = None  # live: the rate adapter's choice for this segment
    reenacted: bool = False  # the caller's face rebuilt from their reference and face track


@dataclass(frozen=True)
class EvaluationRecord:
    """The generated segment against its source, when the source is known."""

    psnr_db: float
    faces_found: FacesFound | None = None  # when the source shows a face
    # The same frames as the nearest decoded keyframe held (metrics.fidelity.held_keyframes).
    hold_psnr_db: float | None = None
    # Double-image pixels over the pixels where two keyframes disagree (metrics.ghosting).
    ghost_pixels: int = 0
    ghost_looked_at: int = 0

    @property
    def ghosting(self) -> float | None:
        return self.ghost_pixels / self.ghost_looked_at if self.ghost_looked_at else None


def source_trace(segment: VideoSegment, captured_at: float | None = None) -> SegmentTrace:
    """A new trace for a segment a source produced, stamped with its capture time (wall clock
    of its last frame, the start of glass-to-glass latency; now when not given)."""
    trace = SegmentTrace(
        segment.index, captured_at=time.time() if captured_at is None else captured_at
    )
    trace.attach(SourceRecord(segment))
    return trace


def source_of(trace: SegmentTrace) -> VideoSegment | None:
    """The source segment of a trace, when its source recorded one."""
    record = trace.record(SourceRecord)
    return None if record is None else record.segment


def caption_of(trace: SegmentTrace) -> str | None:
    """The segment's caption: as the sender wrote it, else as the receiver got it (live)."""
    sent = trace.record(SenderRecord)
    if sent is not None:
        return sent.caption
    decoded = trace.record(DecodeRecord)
    return None if decoded is None else decoded.caption_received
