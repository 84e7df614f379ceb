"""``bench overload`` and ``bench soak``: the receiver held under load and over time.

The receiver server runs in this process and is watched from inside its own event loop: the
loop's lag (a 10 ms ticker's overshoot: the longest stall), resident memory, open file
descriptors and asyncio tasks, sampled every second. Senders run in worker processes (files
paced as cameras, ``pace`` times faster than real time for overload), so their CPU work does
not sit on the receiver's loop; each returns its counts. Every segment sent is accounted for at
the receiver as played, skipped (with its reason) or lost on the link; ``unaccounted`` is what
is left, and must be 0.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from mirage_stream.errors import InputError
from mirage_stream.link.config import ChannelConfig
from mirage_stream.live.sender_client import LiveSenderConfig, UplinkConfig, run_live_sender
from mirage_stream.live.server import ReceiverServerConfig, serve
from mirage_stream.sources.config import InputConfig

_TOKEN = "endurance"
_TICK_S = 0.01


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


@dataclass
class LoopWatch:
    """The receiver's loop from inside: stalls and resources over time."""

    stalls_s: list[float] = field(default_factory=list)
    samples: list[dict[str, float | int | None]] = field(default_factory=list)

    async def run(self, started: float) -> None:
        last_sample = 0.0
        while True:
            before = time.perf_counter()
            await asyncio.sleep(_TICK_S)
            self.stalls_s.append(time.perf_counter() - before - _TICK_S)
            now = time.perf_counter()
            if now - last_sample >= 1.0:
                last_sample = now
                self.samples.append(
                    {
                        "t_s": round(now - started, 1),
                        "rss_mb": round(_rss_mb(), 1),
                        "fds": _open_fds(),
                        "tasks": len(asyncio.all_tasks()),
                    }
                )


def _send(config: LiveSenderConfig) -> dict[str, Any]:
    """A worker process: one live sender until its seconds of video are sent."""
    import resource

    counts = asyncio.run(run_live_sender(config))
    return counts | {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


@dataclass(frozen=True)
class EnduranceConfig:
    minutes: float = 10.0
    calls: int = 1
    pace: float = 1.0  # the senders' speed against real time (overload: 10)
    input: str = "sample:carphone"
    channel: ChannelConfig = field(default_factory=lambda: ChannelConfig(snr_db=-10.0))
    warm_up_s: float = 30.0  # resources are compared from here on

    def __post_init__(self) -> None:
        if not 0.05 <= self.minutes <= 24 * 60:
            raise InputError(f"--minutes must be in [0.05, 1440], got {self.minutes}")
        if not 1 <= self.calls <= 16:
            raise InputError(f"--calls must be in [1, 16], got {self.calls}")
        if not 1 <= self.pace <= 100:
            raise InputError(f"--factor must be in [1, 100], got {self.pace}")


async def _endure(config: EnduranceConfig) -> dict[str, Any]:
    server, runner, port = await serve(ReceiverServerConfig(port=0, token=_TOKEN))
    watch = LoopWatch()
    started = time.perf_counter()
    watcher = asyncio.create_task(watch.run(started))
    seconds = config.minutes * 60
    senders = [
        LiveSenderConfig(
            UplinkConfig(f"http://127.0.0.1:{port}", _TOKEN),
            InputConfig(input=config.input, loop=True),
            channel=replace(config.channel, seed=call),
            total_seconds=seconds * config.pace,  # of video
            pace=config.pace,
        )
        for call in range(config.calls)
    ]
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    try:
        with concurrent.futures.ProcessPoolExecutor(config.calls, mp_context=context) as pool:
            counts = await asyncio.gather(
                *(loop.run_in_executor(pool, _send, sender) for sender in senders)
            )
        for _ in range(400):  # the last segments finish generating and the calls end
            if len(server.ended) >= config.calls:
                break
            await asyncio.sleep(0.05)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await runner.cleanup()
    return _summary(config, server.ended, counts, watch, time.perf_counter() - started)


def _summary(
    config: EnduranceConfig,
    calls: list[Any],
    counts: list[dict[str, Any]],
    watch: LoopWatch,
    wall_s: float,
) -> dict[str, Any]:
    after = [s for s in watch.samples if float(s["t_s"] or 0) >= config.warm_up_s]
    after = after or watch.samples
    first, last = after[0], after[-1]
    sent = sum(c["segments_sent"] for c in counts)
    played = sum(s.segments_played for s in calls)
    skipped = sum(s.segments_skipped for s in calls)
    lost = sum(s.segments_lost for s in calls)
    per_minute = max(1, round(60 / 2.0 / config.pace))  # 2 s segments
    first_g2g = [g for s in calls for g in s.glass_to_glass_s[:per_minute]]
    last_g2g = [g for s in calls for g in s.glass_to_glass_s[-per_minute:]]

    def p95(values: list[float]) -> float | None:
        return round(float(np.percentile(values, 95)), 3) if values else None

    rss_growth = float(last["rss_mb"] or 0) - float(first["rss_mb"] or 0)
    return {
        "minutes": config.minutes,
        "calls": config.calls,
        "factor": config.pace,
        "segments_sent": sent,
        "segments_played": played,
        "segments_skipped": skipped,
        "segments_lost": lost,
        "segments_unaccounted": sent - played - skipped - lost,
        # Captured but dropped by the sender itself (it fell behind its camera), with reason.
        "sender_dropped": sum(c["segments_dropped"] for c in counts),
        # Played, but behind: their first frames were dropped from the playout to catch up.
        "segments_cut_in_playout": sum(s.segments_cut_in_playout for s in calls),
        "rss_start_mb": first["rss_mb"],
        "rss_end_mb": last["rss_mb"],
        "rss_growth_mb": round(rss_growth, 1),
        "rss_growth_pct": round(100 * rss_growth / float(first["rss_mb"] or 1), 2),
        "fd_growth": (last["fds"] or 0) - (first["fds"] or 0),
        "tasks_growth": (last["tasks"] or 0) - (first["tasks"] or 0),
        "sender_peak_rss_mb": round(max(c["peak_rss_mb"] for c in counts), 1),
        "longest_stall_ms": round(1000 * max(watch.stalls_s, default=0.0), 1),
        "stall_p99_ms": round(1000 * float(np.percentile(watch.stalls_s, 99)), 1)
        if watch.stalls_s
        else None,
        "g2g_p95_first_minute_s": p95(first_g2g),
        "g2g_p95_last_minute_s": p95(last_g2g),
        "wall_s": round(wall_s, 1),
    }


def bench_endurance(config: EnduranceConfig) -> dict[str, Any]:
    return asyncio.run(_endure(config))
