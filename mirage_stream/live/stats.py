"""What the playback page and ``GET /stats`` show for one call."""

from __future__ import annotations

import math
import time
from array import array
from dataclasses import asdict, dataclass, field
from typing import Any

SILENT_AFTER_S = 6.0  # a live call this long without a segment says so (camera stopped?)


@dataclass(frozen=True)
class SegmentShown:
    """The newest segment of a call as the playback page shows it."""

    segment: int
    snr_db: float
    ber: float
    payload_bytes: int
    time_on_air_ms: float
    glass_to_glass_s: float | None
    sender_stage_ms: dict[str, float]  # the far end's timings
    stage_ms: dict[str, float]  # this end's
    queued_s: float  # video waiting in the playout
    caption: str  # as received
    prompt: str  # after personalisation
    notes: tuple[str, ...]
    generation_setting: str | None
    chunks_missing: int  # keyframe chunks that never arrived

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["notes"] = list(self.notes)
        return values


@dataclass
class CallStats:
    call: int
    started_at: float = field(default_factory=time.time)
    state: str = "connecting"  # connecting, live, ending, ended, failed
    error: str | None = None  # why the call failed
    segments_received: int = 0
    segments_played: int = 0
    segments_lost: int = 0  # payload lost on the link (every try failed)
    segments_skipped: int = 0  # generation fell behind, or a payload was rejected
    keyframes_damaged: int = 0
    damaged_keyframes_decoded: int = 0  # of those, decoded to a picture all the same
    segments_cut_in_playout: int = 0  # played late: their first frames dropped to catch up
    # Work the sender shed when it ran behind real time (sender/load_shed.py), as it reported.
    sender_shed_light: int = 0  # segments sent with less work
    sender_shed_skipped: int = 0  # segments dropped before sending
    late_not_generated: int = 0  # of segments_skipped: arrived too late to play in time
    captions_intact: int = 0  # payloads decoded with the caption's CRC holding
    payload_bytes: int = 0
    raw_bytes: int = 0
    # Packed doubles, one per segment: 8 bytes each, so a call of a day holds a third of a MB.
    glass_to_glass_s: array[float] = field(default_factory=lambda: array("d"))
    last: SegmentShown | None = None  # the newest segment, as shown
    generation_queue_depth: int = 0  # now
    generation_queue_max: int = 0  # the deepest it has been
    behind: bool = False  # the generation queue is full, or skipped a segment lately
    last_received_at: float | None = None  # wall clock of the newest segment message
    # Measured in the playback page: the sender's capture -> the segment's first frame shown.
    page_g2g_s: array[float] = field(default_factory=lambda: array("d"))
    page_first_shown_at: float | None = None
    # The caller's face rebuilt from their reference picture (receiver/portrait.py).
    segments_reenacted: int = 0
    first_reenacted_at: float | None = None  # wall clock its first frame was due on screen
    # The generation rate adapter (live diffusion): its setting now, the newest segment's cost
    # in seconds per generated second, and how often it changed.
    generation_setting: str | None = None
    generation_s_per_s: float | None = None
    generation_changes: int = 0
    # The ICE path (``IcePath.as_json``): candidate type, both ends and the round trip.
    connection: dict[str, Any] | None = None
    # This end's CPU milliseconds by stage (``SegmentTrace.cpu_ms``), every segment so far.
    cpu_ms: dict[str, float] = field(default_factory=dict)
    ended_at: float | None = None

    def cost(self) -> dict[str, Any]:
        """What the call costs this server: cores (its stages' CPU seconds per second of call)
        by stage, and the share of its segments shed on either end (skipped before sending,
        or not generated)."""
        seconds = max(1e-3, (self.ended_at or time.time()) - self.started_at)
        offered = self.segments_received + self.sender_shed_skipped
        shed = self.sender_shed_skipped + self.segments_skipped
        return {
            "cpu_cores": round(sum(self.cpu_ms.values()) / 1000.0 / seconds, 3),
            "cpu_cores_by_stage": {
                name: round(ms / 1000.0 / seconds, 4) for name, ms in sorted(self.cpu_ms.items())
            },
            "shed_share": round(shed / offered, 3) if offered else None,
        }

    def as_json(self) -> dict[str, Any]:
        g2g = sorted(self.glass_to_glass_s)
        return {
            "call": self.call,
            "state": self.state,
            "error": self.error,
            "segments_received": self.segments_received,
            "segments_played": self.segments_played,
            "segments_reenacted": self.segments_reenacted,
            "first_reenacted_at": self.first_reenacted_at,
            "segments_lost": self.segments_lost,
            "segments_skipped": self.segments_skipped,
            "keyframes_damaged": self.keyframes_damaged,
            "damaged_keyframes_decoded": self.damaged_keyframes_decoded,
            "segments_cut_in_playout": self.segments_cut_in_playout,
            "shed": {
                "sender_light": self.sender_shed_light,
                "sender_skipped": self.sender_shed_skipped,
                "receiver_skipped": self.segments_skipped,
                "receiver_late": self.late_not_generated,
                "playout_cut": self.segments_cut_in_playout,
            },
            "captions_intact": self.captions_intact,
            "payload_bytes": self.payload_bytes,
            # Raw bytes count what was played: before the first segment there is no ratio.
            "data_speedup": round(self.raw_bytes / self.payload_bytes, 1)
            if self.payload_bytes and self.raw_bytes
            else None,
            "g2g_p50_s": g2g[len(g2g) // 2] if g2g else None,
            "g2g_p95_s": g2g[math.ceil(0.95 * len(g2g)) - 1] if g2g else None,  # nearest rank
            "g2g_max_s": g2g[-1] if g2g else None,
            "generation_queue_depth": self.generation_queue_depth,
            "generation_queue_max": self.generation_queue_max,
            "behind": self.behind,
            "silent_s": round(time.time() - self.last_received_at, 1)
            if self.last_received_at is not None
            else None,
            "page_g2g_s": self.page_g2g_s[-64:].tolist(),
            "generation_setting": self.generation_setting,
            "generation_s_per_s": self.generation_s_per_s,
            "generation_changes": self.generation_changes,
            "connection": self.connection,
            "cost": self.cost(),
            "last": {} if self.last is None else self.last.as_json(),
        }


def server_state(calls: list[dict[str, Any]], ended: list[dict[str, Any]]) -> str:
    """One line for the page: the newest call's trouble first, then whether anyone is live."""
    newest = max([*calls, *ended], key=lambda c: c["call"], default=None)
    if newest is not None and newest["state"] == "failed":
        return f"call failed: {newest['error']}"
    if newest is not None and newest["state"] == "ended" and not calls:
        return "call ended: the sender hung up or its connection dropped"
    live = [c for c in calls if c["state"] == "live"]
    if not live:
        return "waiting for a call"
    if any(c["behind"] for c in live):
        return "live, generation behind"
    silent = min(c["silent_s"] if c["silent_s"] is not None else 0.0 for c in live)
    if silent > SILENT_AFTER_S:
        return f"live, but no video from the sender for {silent:.0f} s"
    return "live"
