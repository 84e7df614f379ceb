"""``bench faults``: each fault provoked for real, with how long the system took to recover (or
to stop with a one-line error) and what was lost. Target: every row within 2 s, no hang.

A row: ``fault``, ``outcome`` (what a person sees), ``handled`` (the system went on, or
stopped cleanly with a one-line error), ``recovered`` (handled within 2 s), ``seconds`` (fault ->
recovery or the error), ``lost``.
"""

from __future__ import annotations

import asyncio
import fractions
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mirage_stream.errors import MirageError
from mirage_stream.link.config import ChannelConfig, TraceOptions
from mirage_stream.live.sender_client import LiveSenderConfig, run_live_sender
from mirage_stream.live.server import ReceiverServerConfig, serve
from mirage_stream.live.uplink import UplinkConfig
from mirage_stream.sources.config import InputConfig

LIMIT_S = 2.0
_TOKEN = "faults"


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> float | None:
    """Seconds until ``condition`` holds (checked every 10 ms), None if it never did."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if condition():
            return time.perf_counter() - start
        await asyncio.sleep(0.01)
    return None


@dataclass(frozen=True)
class FaultOutcome:
    """One fault injected, and what the system did."""

    fault: str
    outcome: str
    handled: bool  # went on, or stopped with a one-line error (at whatever speed) ...
    # ... and within LIMIT_S, the target: a figure of the machine as much as of the code.
    recovered: bool
    seconds: float | None
    lost: int | str


@dataclass(frozen=True)
class FaultsBenchResult:
    """``bench faults --json``."""

    faults: list[FaultOutcome]
    recovered: int
    total: int
    hangs: int  # every scenario is bounded by its own timeout: reaching the end means none hung
    wall_s: float


def _row(fault: str, outcome: str, seconds: float | None, lost: int | str = 0) -> FaultOutcome:
    return FaultOutcome(
        fault=fault,
        outcome=outcome,
        handled=seconds is not None,
        recovered=seconds is not None and seconds <= LIMIT_S,
        seconds=None if seconds is None else round(seconds, 3),
        lost=lost,
    )


def _sender(port: int, seconds: float = 60.0) -> LiveSenderConfig:
    return LiveSenderConfig(
        UplinkConfig(f"http://127.0.0.1:{port}", _TOKEN, reconnect_s=0.2),
        InputConfig(input="sample:carphone", segment_s=1.0, loop=True),
        total_seconds=seconds,
    )


async def peer_vanishes() -> FaultOutcome:
    """The sender disappears mid-segment: the receiver ends the call and serves the next."""
    server, runner, port = await serve(ReceiverServerConfig(port=0, token=_TOKEN))
    try:
        sender = asyncio.create_task(run_live_sender(_sender(port)))
        await _until(lambda: any(c.stats.segments_played for c in server.calls.values()), 20)
        received = sum(c.stats.segments_received for c in server.calls.values())
        await asyncio.sleep(0.5)  # mid-segment: the next one is being captured
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        vanished = time.perf_counter()
        ended = await _until(lambda: not server.calls and bool(server.ended))
        seconds = None if ended is None else time.perf_counter() - vanished
        return _row(
            "sender vanishes mid-segment",
            "receiver ended the call, played what it had, kept serving",
            seconds,
            lost=f"the segment being captured ({received} received before)",
        )
    finally:
        await runner.cleanup()


async def receiver_restarted() -> FaultOutcome:
    """The receiver stops and starts again on its port: the sender reconnects and goes on."""
    server, runner, port = await serve(ReceiverServerConfig(port=0, token=_TOKEN))
    sender = asyncio.create_task(run_live_sender(_sender(port)))
    try:
        await _until(lambda: any(c.stats.segments_received for c in server.calls.values()), 20)
        await runner.cleanup()
        server, runner, _ = await serve(ReceiverServerConfig(port=port, token=_TOKEN))
        back = await _until(lambda: bool(server.calls), 10)  # the sender's new offer
        return _row(
            "receiver restarted",
            "sender reconnected (it retries when its next segment is ready); segments ready "
            "while no receiver listened were dropped and counted",
            back,
            lost="segments captured while no receiver listened",
        )
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await runner.cleanup()


class _Broken:
    """A generator that raises, as a model running out of memory would."""

    name = "broken"
    adapts_rate = False
    draws_people = True  # a model, as the one that runs out of memory

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("generator failed (provoked)")

    def warm_up(self, config: Any) -> None:
        return None


async def generator_raises() -> FaultOutcome:
    server, runner, port = await serve(ReceiverServerConfig(port=0, token=_TOKEN))
    server.generator = _Broken()
    sender = asyncio.create_task(run_live_sender(_sender(port, seconds=4)))
    try:
        arrived = await _until(
            lambda: (
                any(c.stats.segments_received for c in server.calls.values())
                or any(s.state == "failed" for s in server.ended)
            ),
            20,
        )
        start = time.perf_counter()
        failed = await _until(lambda: any(s.state == "failed" for s in server.ended), 10)
        seconds = None if failed is None or arrived is None else time.perf_counter() - start
        error = next((s.error for s in server.ended if s.state == "failed"), None)
        return _row(
            "generator raises",
            f"call shown as failed ({error}); server serves on",
            seconds,
            "that call",
        )
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await runner.cleanup()


def _bad_trace(folder: Path) -> Path:
    path = folder / "snr.csv"
    path.write_text("snr_db\n-10\nnan\n\n5\n")
    return path


async def _stops_with_error(fault: str, action: Callable[[], Awaitable[Any]]) -> FaultOutcome:
    start = time.perf_counter()
    try:
        await action()
    except MirageError as error:
        message = str(error).splitlines()[0]
        return _row(fault, f"stopped: {message}", time.perf_counter() - start)
    return _row(fault, "went on without complaint", None)


async def snr_trace_nan(folder: Path) -> FaultOutcome:
    channel = ChannelConfig(
        snr_process="trace", snr_process_options=TraceOptions(str(_bad_trace(folder)))
    )

    async def start() -> None:
        channel.snr()

    return await _stops_with_error("NaN in an SNR trace", start)


async def output_read_only(folder: Path) -> FaultOutcome:
    """An output folder that cannot be written: made read-only, or, for root (whom permissions
    do not stop), one on /sys, which no process may write."""
    from mirage_stream.run import RunConfig, run_file

    out = folder / "read-only"
    out.mkdir()
    out.chmod(0o500)
    if os.geteuid() == 0:
        out = Path("/sys/mirage-stream-out")
    config = RunConfig.for_input("sample:carphone", out)
    try:
        return await _stops_with_error("output folder read-only", lambda: run_file(config))
    finally:
        (folder / "read-only").chmod(0o700)


async def output_disk_full(folder: Path) -> FaultOutcome:
    """Writes into /dev/full (every write fails with ENOSPC) through a link in the folder."""
    from mirage_stream.run import RunConfig, run_file

    out = folder / "full"
    out.mkdir()
    if not Path("/dev/full").exists():
        return _row("disk full", "not provoked: no /dev/full here", None, "-")
    os.symlink("/dev/full", out / "generated.mp4")
    config = RunConfig.for_input("sample:carphone", out)
    return await _stops_with_error("disk full while writing", lambda: run_file(config))


def _remux_to_mkv(source: Path, target: Path) -> None:
    """The same video in Matroska, whose index is not needed to read it: a file cut short is
    still readable up to the cut (an mp4 keeps its index at the end, and cut loses it)."""
    import av

    with av.open(str(source)) as reader, av.open(str(target), "w", format="matroska") as writer:
        stream = reader.streams.video[0]
        out = writer.add_stream_from_template(stream)
        for packet in reader.demux(stream):
            if packet.dts is None:
                continue
            packet.stream = out
            writer.mux(packet)


async def truncated_input(folder: Path) -> FaultOutcome:
    """A file cut in the middle: the frames before the cut are used."""
    from mirage_stream.run import RunConfig, run_file
    from mirage_stream.sources.samples import resolve_input

    whole = folder / "whole.mkv"
    _remux_to_mkv(resolve_input("sample:bikes"), whole)
    cut = folder / "cut.mkv"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    start = time.perf_counter()
    try:
        report = (await run_file(RunConfig.for_input(str(cut), folder / "cut-out"))).report
    except MirageError as error:
        return _row("truncated input file", f"stopped: {error}", time.perf_counter() - start)
    return _row(
        "truncated input file",
        f"a warning, then a run on the {report.totals.video_s:.1f} s decoded before the cut "
        "(of 10 s)",
        0.0,
        lost="everything after the cut",
    )


async def camera_stops() -> FaultOutcome:
    """A camera track that stops delivering frames (the connection stays up)."""
    from aiortc import MediaStreamTrack
    from av import VideoFrame

    from mirage_stream.sources.track_source import (
        FRAME_TIMEOUT_S,
        STOPPED,
        TrackSegments,
        TrackSegmentsConfig,
    )

    class Stalling(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self.sent = 0
            self.froze_at = 0.0

        async def recv(self) -> VideoFrame:
            if self.sent >= 30:
                self.froze_at = self.froze_at or time.perf_counter()
                await asyncio.sleep(3600)  # the camera froze
            frame = VideoFrame.from_ndarray(np.zeros((240, 320, 3), np.uint8), format="rgb24")
            frame.pts, frame.time_base = self.sent * 3600, fractions.Fraction(1, 90_000)
            self.sent += 1
            await asyncio.sleep(0.04)
            return frame

    # One segment length from the start (no short first segment): the camera stops inside it.
    stream = TrackSegments(TrackSegmentsConfig(segment_s=2.0, first_segment_s=2.0))
    camera = Stalling()
    stream.attach(camera)
    reader = stream.envelopes()
    first = await asyncio.wait_for(anext(reader), 10)  # the partial segment, sent at the stop
    stopped = await _until(lambda: stream.state == STOPPED, 5)
    seconds = None if stopped is None else time.perf_counter() - camera.froze_at
    await reader.aclose()  # type: ignore[attr-defined]
    return _row(
        "camera stops",
        f"the {len(first.item.frames)} frames before the stop were sent; the sender says "
        f"'{STOPPED.split(':')[0]}' after {FRAME_TIMEOUT_S} s without frames",
        seconds,
        lost="nothing that was captured",
    )


async def _all() -> list[FaultOutcome]:
    folder = Path(tempfile.mkdtemp(prefix="mirage-faults-"))
    try:
        return [
            await peer_vanishes(),
            await receiver_restarted(),
            await generator_raises(),
            await snr_trace_nan(folder),
            await output_read_only(folder),
            await output_disk_full(folder),
            await truncated_input(folder),
            await camera_stops(),
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_faults() -> FaultsBenchResult:
    start = time.perf_counter()
    rows = asyncio.run(_all())
    return FaultsBenchResult(
        faults=rows,
        recovered=sum(r.recovered for r in rows),
        total=len(rows),
        hangs=0,
        wall_s=round(time.perf_counter() - start, 1),
    )
