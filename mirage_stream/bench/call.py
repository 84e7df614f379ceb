"""``bench call``: the whole browser-to-browser path of a one-way call.

A headless chromium whose fake camera plays ``--input`` (converted to Y4M) opens the sender's
camera page; the page sends the camera over WebRTC to the sender (this process), which runs the
sender pipeline and channel_sim and sends each segment to the receiver (this process too); a
second browser context shows the receiver's playback page. Glass to glass is measured in the
receiver page: from the sender's capture of a segment's last frame (the camera frame arriving in
the sender process) to the moment the page shows that segment's first generated frame.
``first_frame_s``: the first camera frame arriving -> the first generated frame shown.
``cpu_per_call``: CPU seconds of the sender and receiver (this process) per second of wall
time; the browser's own CPU (camera capture, video encode and decode: what any video call costs
the browser) is reported apart as ``browser_cpu``.

``--two-way``: two call pages (``/call``), each in its own browser with the fake camera, each
side sending its camera to the other and playing the other's; both sides run in this process,
so ``cpu_per_call`` is then the whole two-way call's. Counts are summed over both directions,
latencies are the worse direction's, and ``directions`` has each.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import web

from mirage_stream.bench.browser import descendants_cpu_s, launch, write_fake_camera
from mirage_stream.errors import InputError
from mirage_stream.link.config import ChannelConfig
from mirage_stream.live.sender_page import SenderPage, SenderPageConfig, serve_sender_page
from mirage_stream.live.server import ReceiverServer, ReceiverServerConfig, serve
from mirage_stream.live.two_way import serve_call_side
from mirage_stream.live.uplink import UplinkConfig
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.track_source import TrackSegmentsConfig

_TOKEN = "bench-call"
_DRAIN_S = 4.0  # after the camera stops: segments in flight are still played


@dataclass(frozen=True)
class DirectionResult:
    """What one direction of a call did: a camera page's sender into a receiver."""

    segments_sent: int
    segments_played: int
    segments_lost: int
    segments_skipped: int
    segments_not_sent: int
    segments_measured_in_page: int
    g2g_p50_s: float | None  # measured in the playback page
    g2g_p95_s: float | None
    first_frame_s: float | None  # camera start -> the first generated frame shown
    # camera start -> the first frame rebuilt from the caller's reference due on screen
    first_reference_frame_s: float | None
    segments_reenacted: int
    payload_bytes_per_segment: float


@dataclass(frozen=True)
class CallBenchResult:
    """``bench call --json``. Counts are summed over the directions, latencies are the worse
    direction's; ``directions`` has each."""

    input: str
    camera_size: tuple[int, int]
    two_way: bool
    seconds: float
    segment_s: float
    snr_db: float
    segments_sent: int
    segments_played: int
    segments_lost: int
    segments_skipped: int
    segments_not_sent: int
    segments_measured_in_page: int
    g2g_p50_s: float | None
    g2g_p95_s: float | None
    first_frame_s: float | None
    first_reference_frame_s: float | None
    segments_reenacted: int
    cpu_per_call: float
    browser_cpu: float | None
    held_real_time: bool
    directions: list[DirectionResult]
    wall_s: float


def _worst(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return max(known) if known else None


@dataclass(frozen=True)
class CallBenchConfig:
    input: str = "sample:carphone"
    seconds: float = 20.0
    segments: TrackSegmentsConfig = field(default_factory=TrackSegmentsConfig)
    sender: SenderConfig = field(default_factory=SenderConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    receiver: ReceiverConfig = field(default_factory=ReceiverConfig)
    screenshot: Path | None = None  # both pages side by side, at the end
    two_way: bool = False  # two call pages, each camera to the other side

    def __post_init__(self) -> None:
        if not 4 <= self.seconds <= 3600:
            raise InputError(f"--seconds must be in [4, 3600], got {self.seconds}")


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def _direction(sender: SenderPage, receiver: ReceiverServer) -> DirectionResult:
    """What one direction of a call did: the camera page's sender into a receiver."""
    calls = receiver.ended
    page_g2g = [g for stats in calls for g in stats.page_g2g_s]
    shown = [s.page_first_shown_at for s in calls if s.page_first_shown_at is not None]
    started = sender.camera.camera_started_at
    reenacted = [s.first_reenacted_at for s in calls if s.first_reenacted_at is not None]
    played = sum(stats.segments_played for stats in calls)
    return DirectionResult(
        segments_sent=sender.status.segments_sent,
        segments_played=played,
        segments_lost=sum(stats.segments_lost for stats in calls),
        segments_skipped=sum(stats.segments_skipped for stats in calls),
        segments_not_sent=sender.status.segments_unsent,
        segments_measured_in_page=len(page_g2g),
        g2g_p50_s=_percentile(page_g2g, 50),
        g2g_p95_s=_percentile(page_g2g, 95),
        first_frame_s=round(min(shown) - started, 3) if shown and started else None,
        first_reference_frame_s=round(min(reenacted) - started, 3)
        if reenacted and started
        else None,
        segments_reenacted=sum(s.segments_reenacted for s in calls),
        payload_bytes_per_segment=round(sum(s.payload_bytes for s in calls) / max(1, played), 1),
    )


def free_ports(count: int) -> list[int]:
    """Ports free now (each side of a two-way call must know the other's before it starts)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


async def _one_way(
    config: CallBenchConfig, driver: Any, y4m: Path
) -> tuple[list[dict[str, Any]], list[web.AppRunner], list[Any]]:
    server, receiver_runner, port = await serve(
        ReceiverServerConfig(port=0, token=_TOKEN, receiver=config.receiver)
    )
    page_config = SenderPageConfig(
        token=_TOKEN,
        uplink=UplinkConfig(f"http://127.0.0.1:{port}", _TOKEN),
        segments=config.segments,
        sender=config.sender,
        channel=config.channel,
    )
    sender, sender_runner, sender_port = await serve_sender_page(page_config, port=0)
    # Two browsers, as two people would have.
    camera = await _page(await launch(driver, y4m), f"{sender_port}/send/")
    watcher = await _page(await launch(driver, None), f"{port}/")
    return (
        [{"sender": sender, "receiver": server}],
        [sender_runner, receiver_runner],
        [camera, watcher],
    )


async def _two_way(
    config: CallBenchConfig, driver: Any, y4m: Path
) -> tuple[list[dict[str, Any]], list[web.AppRunner], list[Any]]:
    ports = free_ports(2)
    sides = []
    for i, port in enumerate(ports):
        receiver = ReceiverServerConfig(port=port, token=f"side{i}", receiver=config.receiver)
        sender = SenderPageConfig(
            token=f"side{i}",
            uplink=UplinkConfig(f"http://127.0.0.1:{ports[1 - i]}", f"side{1 - i}"),
            segments=config.segments,
            sender=config.sender,
            channel=replace(config.channel, seed=config.channel.seed + i),
        )
        sides.append(await serve_call_side(receiver, sender))
    pages = [
        await _page(await launch(driver, y4m), f"{port}/call", token=f"side{i}")
        for i, port in enumerate(ports)
    ]
    # Direction i: side i's camera into the other side's receiver.
    directions = [{"sender": sides[i][1], "receiver": sides[1 - i][0]} for i in range(len(sides))]
    return directions, [side[2] for side in sides], pages


async def _page(browser: Any, path: str, token: str = _TOKEN) -> Any:
    # A call page shows both panels side by side; the one-way pages need half the width.
    width = 1100 if path.endswith("/call") else 800
    context = await browser.new_context(viewport={"width": width, "height": 940})
    page = await context.new_page()
    host, _, rest = path.partition("/")
    await page.goto(f"http://127.0.0.1:{host}/{rest}#token={token}")
    return page


async def _bench(config: CallBenchConfig, workdir: Path) -> CallBenchResult:
    from playwright.async_api import async_playwright

    y4m = workdir / "camera.y4m"
    camera_size = await asyncio.to_thread(write_fake_camera, config.input, y4m)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    runners: list[web.AppRunner] = []
    try:
        async with async_playwright() as driver:
            start = _two_way if config.two_way else _one_way
            directions, runners, pages = await start(config, driver, y4m)
            await asyncio.sleep(config.seconds)
            if config.screenshot is not None:
                await _screenshot(pages, config.screenshot)
            for page in pages:  # the cameras stop; what was sent is still played
                if config.two_way or page is pages[0]:
                    await page.close()
            await asyncio.sleep(_DRAIN_S)
            browser_cpu = descendants_cpu_s()
            for page in pages:
                await page.context.browser.close()
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
    finally:
        for runner in runners:
            await runner.cleanup()
    measured = [_direction(d["sender"], d["receiver"]) for d in directions]
    bound = config.segments.segment_s + 1.0
    held = all(
        d.segments_played >= d.segments_sent > 0
        and d.g2g_p95_s is not None
        and d.g2g_p95_s <= bound
        for d in measured
    )
    return CallBenchResult(
        input=config.input,
        camera_size=camera_size,
        two_way=config.two_way,
        seconds=config.seconds,
        segment_s=config.segments.segment_s,
        snr_db=config.channel.snr_db,
        segments_sent=sum(d.segments_sent for d in measured),
        segments_played=sum(d.segments_played for d in measured),
        segments_lost=sum(d.segments_lost for d in measured),
        segments_skipped=sum(d.segments_skipped for d in measured),
        segments_not_sent=sum(d.segments_not_sent for d in measured),
        segments_measured_in_page=sum(d.segments_measured_in_page for d in measured),
        g2g_p50_s=_worst([d.g2g_p50_s for d in measured]),
        g2g_p95_s=_worst([d.g2g_p95_s for d in measured]),
        first_frame_s=_worst([d.first_frame_s for d in measured]),
        first_reference_frame_s=_worst([d.first_reference_frame_s for d in measured]),
        segments_reenacted=sum(d.segments_reenacted for d in measured),
        cpu_per_call=round(cpu / wall, 3),
        browser_cpu=round(browser_cpu / wall, 3) if browser_cpu is not None else None,
        held_real_time=held,
        directions=measured,
        wall_s=round(wall, 1),
    )


async def _screenshot(pages: list[Any], path: Path) -> None:
    """The pages side by side in one picture (sender left, receiver right)."""
    import cv2

    shots = [await page.screenshot() for page in pages]
    images = [
        np.asarray(cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR), np.uint8)
        for shot in shots
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.concatenate(images, axis=1))


def bench_call(config: CallBenchConfig) -> CallBenchResult:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        raise InputError(
            'bench call drives a browser through playwright: pip install -e ".[browser]"'
        ) from None
    with tempfile.TemporaryDirectory(prefix="mirage-call-") as workdir:
        return asyncio.run(_bench(config, Path(workdir)))
