"""``bench live``: N concurrent live calls on loopback through the real WebRTC path.

One receiver server and N senders run in this process (2 cores shared by all): each sender
sends --seconds of --input paced at real time over its own peer connection. Reported: glass to
glass (last frame of a segment captured -> first frame of its generated version due on screen)
p50 and p95 over every segment of every call, segments sent / played / lost, captions lost
(sent minus decoded with an intact CRC), CPU per call
(process CPU seconds per second of video per call: 1.0 is a whole core) and whether the calls
were held in real time (every segment played, g2g p95 within segment length + 0.5 s).
With ``profile``, the CPU per call by stage of both ends (``cost_profile.py``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mirage_stream.bench.cost_profile import CostProfile, cost_profile
from mirage_stream.errors import InputError
from mirage_stream.link.config import ChannelConfig
from mirage_stream.live.sender_client import LiveSenderConfig, run_live_sender
from mirage_stream.live.server import ReceiverServerConfig, serve
from mirage_stream.live.stats import CallStats
from mirage_stream.live.uplink import UplinkConfig
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.config import InputConfig


@dataclass(frozen=True)
class LiveBenchConfig:
    """N calls, each a live sender (any sender's components) into one receiver server."""

    calls: int = 1
    seconds: float = 12.0  # of video per call
    input: InputConfig = field(
        default_factory=lambda: InputConfig(input="sample:carphone", loop=True)
    )
    sender: SenderConfig = field(default_factory=SenderConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    receiver: ReceiverConfig = field(default_factory=ReceiverConfig)
    profile: bool = False  # CPU by stage of both ends (``cost_profile.py``)

    def __post_init__(self) -> None:
        if not 1 <= self.calls <= 16:
            raise InputError(f"--calls must be in [1, 16], got {self.calls}")


@dataclass(frozen=True)
class GenerationEnd:
    """A diffusion generator's rate adapter at the end of one call."""

    setting: str
    s_per_generated_s: float | None
    changes: int


@dataclass(frozen=True)
class LiveBenchResult:
    """``bench live --json``: glass-to-glass latency and losses of N calls into one receiver."""

    calls: int
    input: str | None
    seconds_per_call: float
    segment_s: float
    snr_db: float
    g2g_p50_s: float | None
    g2g_p95_s: float | None
    segments_sent: int
    segments_played: int
    segments_lost: int
    segments_skipped: int
    # Captions travel on the reliable channel: one is lost when its segment's protected part
    # failed every try on the link, or arrived with its CRC broken.
    captions_lost: int
    cpu_per_call: float
    wall_s: float
    held_real_time: bool
    # Diffusion generators only (null otherwise): each call's rate adapter at the end.
    generation: list[GenerationEnd] | None
    # Shedding (sender/load_shed.py): what the sources captured, what was dropped on purpose
    # (the senders' late and overflowing segments, the receiver's skipped ones), what went with
    # less work, and whether latency stayed bounded: g2g p95 within segment + 1.0 s for the
    # segments played, and every segment captured played, shed or lost on the link.
    segments_captured: int = 0
    segments_shed: int = 0
    shed_share: float | None = None
    segments_light: int = 0
    latency_bounded: bool = False
    # Each call's share of its captured segments shed (sender or receiver), lowest first:
    # whether the server shared its work fairly (no call starved while others played).
    shed_share_per_call: list[float] = field(default_factory=list)
    # --cpu-profile: CPU per call by stage of both ends, checked against the process's CPU.
    profile: CostProfile | None = None


async def _bench(config: LiveBenchConfig) -> LiveBenchResult:
    server, runner, port = await serve(
        ReceiverServerConfig(
            port=0, token="bench", receiver=config.receiver, max_calls=max(8, config.calls)
        )
    )
    # The senders share the server's workers, as the calls do: on 2 cores, one pool.
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    loop_start = time.thread_time()  # this coroutine runs on the event loop's thread
    try:
        senders = [
            run_live_sender(
                LiveSenderConfig(
                    UplinkConfig(f"http://127.0.0.1:{port}", "bench"),
                    replace(config.input, loop=True),
                    sender=config.sender,
                    channel=replace(config.channel, seed=config.channel.seed + call),
                    total_seconds=config.seconds,
                ),
                runner=server.work.party(("sender", call)),
            )
            for call in range(config.calls)
        ]
        counts = await asyncio.gather(*senders)
        for _ in range(200):  # let the last segments finish generating
            if len(server.ended) >= config.calls:
                break
            await asyncio.sleep(0.05)
    finally:
        cpu_s, wall_s = time.process_time() - cpu_start, time.perf_counter() - wall_start
        loop_cpu_s = time.thread_time() - loop_start
        await runner.cleanup()
    calls = server.ended
    g2g = [value for stats in calls for value in stats.glass_to_glass_s]
    sent = sum(c["segments_sent"] for c in counts)
    played = sum(stats.segments_played for stats in calls)
    p95 = float(np.percentile(g2g, 95)) if g2g else None
    segment_s = config.input.segment_s
    captured = sum(
        c["segments_sent"] + c["segments_unsent"] + c["segments_dropped"] for c in counts
    )
    skipped = sum(stats.segments_skipped for stats in calls)
    lost = sum(stats.segments_lost for stats in calls)
    shed = captured - sent + skipped
    accounted = played + shed + lost >= captured
    return LiveBenchResult(
        calls=config.calls,
        input=config.input.input,
        seconds_per_call=config.seconds,
        segment_s=config.input.segment_s,
        snr_db=config.channel.snr_db,
        g2g_p50_s=round(float(np.percentile(g2g, 50)), 3) if g2g else None,
        g2g_p95_s=round(p95, 3) if p95 is not None else None,
        segments_sent=sent,
        segments_played=played,
        segments_lost=lost,
        segments_skipped=skipped,
        captions_lost=sent - sum(stats.captions_intact for stats in calls),
        cpu_per_call=round(cpu_s / (config.seconds * config.calls), 3),
        wall_s=round(wall_s, 2),
        held_real_time=played == sent and p95 is not None and p95 <= segment_s + 0.5,
        generation=[
            GenerationEnd(
                stats.generation_setting, stats.generation_s_per_s, stats.generation_changes
            )
            for stats in calls
            if stats.generation_setting is not None
        ]
        or None,
        segments_captured=captured,
        segments_shed=shed,
        shed_share=round(shed / captured, 3) if captured else None,
        segments_light=sum(c["segments_light"] for c in counts),
        latency_bounded=accounted and p95 is not None and p95 <= segment_s + 1.0,
        shed_share_per_call=_shed_per_call(counts, calls),
        profile=cost_profile(
            [c["cpu_ms"] for c in counts],
            [stats.cpu_ms for stats in calls],
            loop_cpu_s,
            cpu_s,
            config.seconds * config.calls,
        )
        if config.profile
        else None,
    )


def _shed_per_call(counts: list[dict[str, Any]], calls: list[CallStats]) -> list[float]:
    """Per call, the share of the segments its sender captured that were not played (shed on
    either end; the link lost none in these runs, and a loss counts here too)."""
    played = {stats.call: stats.segments_played for stats in calls}
    shares = []
    for sent in counts:
        captured = sent["segments_sent"] + sent["segments_unsent"] + sent["segments_dropped"]
        if captured:
            shares.append(round(1.0 - played.get(sent["call"], 0) / captured, 3))
    return sorted(shares)


def bench_live(config: LiveBenchConfig) -> LiveBenchResult:
    return asyncio.run(_bench(config))
