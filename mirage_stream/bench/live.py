"""``bench live``: N concurrent live calls on loopback through the real WebRTC path.

One receiver server and N senders run in this process (2 cores shared by all): each sender
sends --seconds of --input paced at real time over its own peer connection. Reported: glass to
glass (last frame of a segment captured -> first frame of its generated version due on screen)
p50 and p95 over every segment of every call, segments sent / played / lost, captions lost
(sent minus decoded with an intact CRC), CPU per call
(process CPU seconds per second of video per call: 1.0 is a whole core) and whether the calls
were held in real time (every segment played, g2g p95 within segment length + 0.5 s).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from channel_sim import ConstantSnr
from mirage_stream.live.receiver_server import ReceiverServerConfig, serve
from mirage_stream.live.sender_client import LiveSenderConfig, UplinkConfig, run_live_sender


@dataclass(frozen=True)
class LiveBenchConfig:
    calls: int = 1
    input: str = "sample:carphone"
    seconds: float = 12.0
    segment_s: float = 2.0
    snr_db: float = -10.0


async def _bench(config: LiveBenchConfig) -> dict[str, Any]:
    server, runner, port = await serve(ReceiverServerConfig(port=0, token="bench"))
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    try:
        senders = [
            run_live_sender(
                LiveSenderConfig(
                    UplinkConfig(f"http://127.0.0.1:{port}", "bench"),
                    ConstantSnr(config.snr_db),
                    input=config.input,
                    loop=True,
                    total_seconds=config.seconds,
                    segment_s=config.segment_s,
                    seed=call,
                )
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
        await runner.cleanup()
    calls = server.ended
    g2g = [value for stats in calls for value in stats.glass_to_glass_s]
    sent = sum(c["segments_sent"] for c in counts)
    played = sum(stats.segments_played for stats in calls)
    p95 = float(np.percentile(g2g, 95)) if g2g else None
    return {
        "calls": config.calls,
        "input": config.input,
        "seconds_per_call": config.seconds,
        "segment_s": config.segment_s,
        "snr_db": config.snr_db,
        "g2g_p50_s": round(float(np.percentile(g2g, 50)), 3) if g2g else None,
        "g2g_p95_s": round(p95, 3) if p95 is not None else None,
        "segments_sent": sent,
        "segments_played": played,
        "segments_lost": sum(stats.segments_lost for stats in calls),
        "segments_skipped": sum(stats.segments_skipped for stats in calls),
        # Captions travel on the reliable channel: one is lost when its segment's protected
        # part failed every try on the link, or arrived with its CRC broken.
        "captions_lost": sent - sum(stats.captions_intact for stats in calls),
        "cpu_per_call": round(cpu_s / (config.seconds * config.calls), 3),
        "wall_s": round(wall_s, 2),
        "held_real_time": played == sent and p95 is not None and p95 <= config.segment_s + 0.5,
    }


def bench_live(config: LiveBenchConfig) -> dict[str, Any]:
    return asyncio.run(_bench(config))
