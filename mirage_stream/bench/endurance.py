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
from mirage_stream.live.sender_client import LiveSenderConfig, run_live_sender
from mirage_stream.live.server import ReceiverServerConfig, serve
from mirage_stream.live.uplink import UplinkConfig
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


_STALL_BIN_S = 0.0005  # the stall histogram's resolution
_STALL_BINS = 20_000  # up to 10 s; longer stalls fall in the last bin (the maximum is exact)


@dataclass
class LoopWatch:
    """The receiver's loop from inside: stalls and resources over time.

    Its own memory stays flat however long it watches: stalls go into a fixed histogram (plus
    the exact maximum) and resources are sampled once a second as tuples, so the bench does not
    add to the growth it measures."""

    longest_stall_s: float = 0.0
    longest_stall_at_s: float = 0.0  # when it ended, seconds since the start
    stall_counts: np.ndarray = field(default_factory=lambda: np.zeros(_STALL_BINS, np.int64))
    # (seconds since start, RSS MB, open fds, asyncio tasks)
    samples: list[tuple[float, float, int | None, int]] = field(default_factory=list)

    def add_stall(self, stall_s: float, at_s: float = 0.0) -> None:
        if stall_s > self.longest_stall_s:
            self.longest_stall_s, self.longest_stall_at_s = stall_s, at_s
        self.stall_counts[min(_STALL_BINS - 1, max(0, int(stall_s / _STALL_BIN_S)))] += 1

    def stall_percentile_s(self, q: float) -> float | None:
        """The upper edge of the bin holding the q-th percentile stall (within 0.5 ms)."""
        total = int(self.stall_counts.sum())
        if total == 0:
            return None
        rank = int(np.searchsorted(np.cumsum(self.stall_counts), q / 100 * total))
        return min(self.longest_stall_s, (rank + 1) * _STALL_BIN_S)

    async def run(self, started: float) -> None:
        last_sample = 0.0
        while True:
            before = time.perf_counter()
            await asyncio.sleep(_TICK_S)
            now = time.perf_counter()
            self.add_stall(now - before - _TICK_S, now - started)
            if now - last_sample >= 1.0:
                last_sample = now
                sample = (round(now - started, 1), round(_rss_mb(), 1), _open_fds())
                self.samples.append((*sample, len(asyncio.all_tasks())))


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


@dataclass(frozen=True)
class EnduranceResult:
    """``bench overload`` / ``bench soak --json``: every segment accounted for, memory, file
    descriptors and tasks at the start and the end, the event loop's stalls, and glass to
    glass in the first and the last minute."""

    minutes: float
    calls: int
    factor: float
    segments_sent: int
    segments_played: int
    segments_skipped: int
    segments_lost: int
    segments_unaccounted: int
    sender_dropped: int  # captured but dropped by the sender itself (behind its camera)
    segments_cut_in_playout: int  # played behind: first frames dropped to catch up
    rss_start_mb: float
    rss_end_mb: float
    rss_max_mb: float
    rss_growth_mb: float
    rss_growth_pct: float
    fd_growth: int
    tasks_growth: int
    sender_peak_rss_mb: float
    longest_stall_ms: float
    longest_stall_at_s: float
    stall_p99_ms: float | None
    g2g_p95_first_minute_s: float | None
    g2g_p95_last_minute_s: float | None
    wall_s: float


async def _endure(config: EnduranceConfig) -> EnduranceResult:
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
) -> EnduranceResult:
    # Memory as the median of a minute of one-second samples, at the start (after warm-up) and
    # at the end: one sample swings by tens of MB with the frames in flight at that instant,
    # which is not growth. Fds and tasks compare the first and last samples.
    after = [s for s in watch.samples if s[0] >= config.warm_up_s] or watch.samples
    window = [s for s in after if s[0] < after[0][0] + 60.0]
    tail = [s for s in after if s[0] > after[-1][0] - 60.0]
    rss_start = round(float(np.median([s[1] for s in window])), 1)
    rss_end = round(float(np.median([s[1] for s in tail])), 1)
    (_, _, fds_start, tasks_start), (_, _, fds_end, tasks_end) = after[0], after[-1]
    sent = sum(c["segments_sent"] for c in counts)
    played = sum(s.segments_played for s in calls)
    skipped = sum(s.segments_skipped for s in calls)
    lost = sum(s.segments_lost for s in calls)
    per_minute = max(1, round(60 / 2.0 / config.pace))  # 2 s segments
    first_g2g = [g for s in calls for g in s.glass_to_glass_s[:per_minute]]
    last_g2g = [g for s in calls for g in s.glass_to_glass_s[-per_minute:]]

    def p95(values: list[float]) -> float | None:
        return round(float(np.percentile(values, 95)), 3) if values else None

    rss_growth = rss_end - rss_start
    stall_p99 = watch.stall_percentile_s(99)
    return EnduranceResult(
        minutes=config.minutes,
        calls=config.calls,
        factor=config.pace,
        segments_sent=sent,
        segments_played=played,
        segments_skipped=skipped,
        segments_lost=lost,
        segments_unaccounted=sent - played - skipped - lost,
        # Captured but dropped by the sender itself (it fell behind its camera), with reason.
        sender_dropped=sum(c["segments_dropped"] for c in counts),
        # Played, but behind: their first frames were dropped from the playout to catch up.
        segments_cut_in_playout=sum(s.segments_cut_in_playout for s in calls),
        rss_start_mb=rss_start,
        rss_end_mb=rss_end,
        rss_max_mb=max(s[1] for s in after),
        rss_growth_mb=round(rss_growth, 1),
        rss_growth_pct=round(100 * rss_growth / (rss_start or 1), 2),
        fd_growth=(fds_end or 0) - (fds_start or 0),
        tasks_growth=tasks_end - tasks_start,
        sender_peak_rss_mb=round(max(c["peak_rss_mb"] for c in counts), 1),
        longest_stall_ms=round(1000 * watch.longest_stall_s, 1),
        longest_stall_at_s=round(watch.longest_stall_at_s, 1),
        stall_p99_ms=round(1000 * stall_p99, 1) if stall_p99 is not None else None,
        g2g_p95_first_minute_s=p95(first_g2g),
        g2g_p95_last_minute_s=p95(last_g2g),
        wall_s=round(wall_s, 1),
    )


def bench_endurance(config: EnduranceConfig) -> EnduranceResult:
    return asyncio.run(_endure(config))
