"""The browser camera path: segments cut from a live track, the segment marks the playback page
measures, native camera choice, the page states; and, in a real headless chromium with a fake
camera, a one-way call, a camera that stops and comes back, a denied camera, a two-way call."""

from __future__ import annotations

import asyncio
import fractions
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from mirage_stream.errors import InputError
from mirage_stream.live.stats import server_state
from mirage_stream.live.video import MARK_TICKS, SEGMENT_MARKS, FeedTrack, FrameFeed
from mirage_stream.sources.file_source import FileSource, camera_format
from mirage_stream.sources.track_source import (
    LIVE,
    STOPPED,
    TrackSegments,
    TrackSegmentsConfig,
)
from tests.virtual_time import run_in_virtual_time


class _Camera(MediaStreamTrack):
    """``count`` frames of ``size`` at ``fps`` (frame time from pts), then the track ends."""

    kind = "video"

    def __init__(self, count: int, fps: float, size: tuple[int, int] = (640, 480)) -> None:
        super().__init__()
        self.count, self.fps, self.size, self.sent = count, fps, size, 0

    async def recv(self) -> VideoFrame:
        if self.sent >= self.count:
            raise MediaStreamError
        width, height = self.size
        image = np.full((height, width, 3), self.sent % 256, np.uint8)
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = round(self.sent * 90_000 / self.fps)
        frame.time_base = fractions.Fraction(1, 90_000)
        self.sent += 1
        await asyncio.sleep(0)
        return frame


async def _take(stream: TrackSegments, count: int) -> list:
    taken = []
    async for envelope in stream.envelopes():
        taken.append(envelope)
        if len(taken) == count:
            break
    return taken


def test_track_segments_have_fixed_length_and_rate_whatever_the_camera_rate():
    stream = TrackSegments(
        TrackSegmentsConfig(width=320, height=240, segment_s=1.0, first_segment_s=1.0)
    )
    # 2.5 s of a 30 fps camera: two whole 25-frame segments and a partial one at the end.
    stream.attach(_Camera(count=75, fps=30.0))
    envelopes = asyncio.run(_take(stream, 3))
    segments = [envelope.item for envelope in envelopes]
    assert [len(s.frames) for s in segments[:2]] == [25, 25]
    assert 0 < len(segments[2].frames) < 25  # what there was when the camera stopped
    assert [s.index for s in segments] == [0, 1, 2]
    assert all(s.fps == 25.0 and s.frames.shape[1:] == (240, 320, 3) for s in segments)
    # Source frames (640x480) are kept for the people detectors, at their own size.
    assert len(segments[0].detail) == 4 and segments[0].detail[0].image.shape == (480, 640, 3)
    # Slot k shows the newest camera frame by k/25 s: camera frame round(k * 30 / 25).
    grey = [int(frame[0, 0, 0]) for frame in segments[1].frames]
    expected = [int(np.floor((25 + k) / 25 * 30 + 1e-9)) % 256 for k in range(25)]
    assert np.abs(np.array(grey) - np.array(expected)).max() <= 1
    assert stream.source_size == (640, 480)


def test_a_tracks_first_segment_is_short_so_a_picture_goes_out_sooner():
    stream = TrackSegments(TrackSegmentsConfig(segment_s=2.0))
    stream.attach(_Camera(count=100, fps=25.0))  # 4 s of camera
    segments = [envelope.item for envelope in asyncio.run(_take(stream, 2))]
    assert [len(s.frames) for s in segments] == [12, 50]  # half a second, then 2 s
    assert [s.t0 for s in segments] == [0.0, pytest.approx(12 / 25)]
    with pytest.raises(InputError, match="first segment"):
        TrackSegmentsConfig(segment_s=1.0, first_segment_s=1.5)


def test_a_new_track_resumes_the_stream_with_the_next_index():
    stream = TrackSegments(TrackSegmentsConfig(segment_s=0.4))
    stream.attach(_Camera(count=10, fps=25.0))  # one whole segment of 10 frames

    async def scenario():
        stream_iter = stream.envelopes()
        first = await anext(stream_iter)
        assert stream.state == LIVE
        stream.attach(_Camera(count=10, fps=25.0))  # the page reloaded
        second = await anext(stream_iter)
        assert stream.tracks_ended == 1
        return first.item, second.item

    first, second = asyncio.run(scenario())
    assert (first.index, second.index) == (0, 1)
    # The next segment starts where the first ended (it may have lost its last slot when the
    # track ended).
    assert second.t0 == pytest.approx(len(first.frames) / 25.0)


def test_feed_track_marks_segment_starts_and_the_page_report_finds_them():
    frames = np.zeros((3, 24, 32, 3), np.uint8)

    async def scenario():
        # On virtual time, so a busy machine cannot make the track skip a frame.
        feed = FrameFeed(32, 24, clock=asyncio.get_running_loop().time)
        track = FeedTrack(lambda: feed)
        stamps = []
        for index in (5, 6):
            feed.push(frames, 25.0, index=index, captured_at=100.0 + index)
            for _ in range(3):
                stamps.append((await track.recv()).pts)
        return feed, stamps

    (feed, stamps), _ = run_in_virtual_time(scenario())
    steps = np.diff([0, *stamps])
    offsets = [int(s) % 3600 for s in stamps]
    assert offsets[0] == MARK_TICKS * (1 + 5 % SEGMENT_MARKS)
    assert offsets[3] == MARK_TICKS * (1 + 6 % SEGMENT_MARKS)
    assert offsets[1] == offsets[2] == offsets[4] == offsets[5] == 0  # back on the grid
    assert steps[1:].sum() == stamps[-1] - stamps[0]
    start = feed.shown(6 % SEGMENT_MARKS, shown_at=feed.starts[-1].sent_at + 0.2)
    assert start is not None and start.index == 6 and start.captured_at == 106.0
    assert feed.shown(7, shown_at=1e12) is None


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("linux", "v4l2"), ("darwin", "avfoundation"), ("win32", "dshow")],
)
def test_native_camera_format_follows_the_platform(platform, expected):
    assert camera_format(platform) == expected


def test_native_camera_errors_name_the_device_or_the_way_out():
    with pytest.raises(InputError, match="no native camera input for platform 'plan9'"):
        camera_format("plan9")
    with pytest.raises(InputError, match="no device at /dev/video-missing"):
        FileSource.camera("/dev/video-missing", platform="linux")
    import av

    if "avfoundation" not in av.formats_available:
        with pytest.raises(InputError, match=r"no avfoundation input.*--camera browser"):
            FileSource.camera("FaceTime HD Camera", platform="darwin")


def _call(state: str, **extra) -> dict:
    return {"call": 1, "state": state, "behind": False, "error": None, "silent_s": 0.5, **extra}


def test_page_states_say_what_happened():
    assert server_state([], [_call("ended")]).startswith("call ended")
    assert server_state([_call("live")], []) == "live"
    assert "no video from the sender for 9 s" in server_state([_call("live", silent_s=9.0)], [])
    assert server_state([_call("live", behind=True)], []) == "live, generation behind"


# --- a real browser ---------------------------------------------------------------------


def _browser_or_skip():
    playwright = pytest.importorskip("playwright.async_api")
    if not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
        pytest.skip("no chromium installed (.ci/run installs Debian's)")
    return playwright


_TEXT = "(id) => document.getElementById(id).innerText"


async def _wait_for(predicate, timeout_s: float = 90.0, step_s: float = 0.5):
    """Until ``predicate`` holds: a hang guard, generous so a busy machine passes too."""
    for _ in range(int(timeout_s / step_s)):
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(step_s)
    raise AssertionError("timed out waiting")


@pytest.mark.slow
def test_browser_camera_call_survives_camera_stop_and_reload(tmp_path):
    playwright = _browser_or_skip()
    from mirage_stream.bench.browser import launch, write_fake_camera
    from mirage_stream.live.sender_page import SenderPageConfig, serve_sender_page
    from mirage_stream.live.server import ReceiverServerConfig, serve
    from mirage_stream.live.uplink import UplinkConfig

    y4m = tmp_path / "camera.y4m"
    write_fake_camera("sample:carphone", y4m, seconds=4)

    async def scenario():
        server, receiver_runner, port = await serve(ReceiverServerConfig(port=0, token="t"))
        page_config = SenderPageConfig(
            token="t",
            uplink=UplinkConfig(f"http://127.0.0.1:{port}", "t"),
            segments=TrackSegmentsConfig(segment_s=1.0),
        )
        sender, sender_runner, sender_port = await serve_sender_page(page_config, port=0)
        try:
            async with playwright.async_playwright() as driver:
                browser = await launch(driver, y4m)
                viewer = await launch(driver, None)
                watcher = await viewer.new_page()
                await watcher.goto(f"http://127.0.0.1:{port}/#token=t")
                camera = await browser.new_page()
                url = f"http://127.0.0.1:{sender_port}/send/#token=t"
                await camera.goto(url)

                async def played(at_least: int) -> bool:
                    return sum(c.stats.segments_played for c in server.calls.values()) >= at_least

                await _wait_for(lambda: played(3))
                sender_text = await camera.evaluate(_TEXT, "send-stats")
                receiver_text = await watcher.evaluate(_TEXT, "stats")
                # The camera stops (the track ends in the page): a clear state on both sides.
                await camera.evaluate(
                    "document.getElementById('preview').srcObject.getTracks()"
                    ".forEach((t) => { t.stop(); t.dispatchEvent(new Event('ended')); })"
                )
                stopped_page = await _wait_for(
                    lambda: _page_says(camera, "send-state", "camera stopped")
                )
                await _wait_for(lambda: _is(sender.camera, "state", STOPPED))
                before = sum(c.stats.segments_played for c in server.calls.values())
                await camera.reload()  # the camera comes back
                await _wait_for(lambda: played(before + 2))
                page_g2g = [g for c in server.calls.values() for g in c.stats.page_g2g_s]
                await browser.close()
                await viewer.close()
        finally:
            await sender_runner.cleanup()
            await receiver_runner.cleanup()
        return sender_text, receiver_text, stopped_page, page_g2g, sender.status

    sender_text, receiver_text, stopped_page, page_g2g, status = asyncio.run(scenario())
    assert re.search(r"caption\t\S[^\n]*\.", sender_text)  # the caption, on the sender page
    assert "bytes per segment" in sender_text and "time on air" in sender_text
    assert "caption (received)" in receiver_text and "prompt (personalised)" in receiver_text
    assert "camera stopped" in stopped_page
    assert page_g2g and all(g > 0 for g in page_g2g)  # measured in the page
    assert status.segments_sent >= 5 and status.segments_unsent == 0


async def _page_says(page, element: str, text: str) -> str | None:
    said = await page.evaluate(_TEXT, element)
    return said if text in said else None


async def _is(obj, attribute: str, value) -> bool:
    return getattr(obj, attribute) == value


@pytest.mark.slow
def test_camera_denied_gives_a_clear_state_and_the_sender_keeps_serving():
    playwright = _browser_or_skip()
    from mirage_stream.bench.browser import camera_args, find_chromium
    from mirage_stream.live.sender_page import SenderPageConfig, serve_sender_page
    from mirage_stream.live.uplink import UplinkConfig

    async def scenario():
        # No receiver at port 9 either: the page still works and says what is wrong.
        config = SenderPageConfig(token="t", uplink=UplinkConfig("http://127.0.0.1:9", "t"))
        _, runner, port = await serve_sender_page(config, port=0)
        try:
            async with playwright.async_playwright() as driver:
                # A camera there, but the person says no to the permission prompt.
                browser = await driver.chromium.launch(
                    executable_path=find_chromium(),
                    args=[*camera_args(None), "--use-fake-device-for-media-stream",
                          "--deny-permission-prompts"],
                )  # fmt: skip
                page = await browser.new_page()
                await page.goto(f"http://127.0.0.1:{port}/send/#token=t")
                said = await _wait_for(lambda: _page_says(page, "send-state", "not available"))
                status = await page.evaluate(
                    "async () => (await fetch('/send/status', {headers: "
                    "{Authorization: 'Bearer t'}})).status"
                )
                await browser.close()
        finally:
            await runner.cleanup()
        return said, status

    said, status = asyncio.run(scenario())
    assert "camera not available" in said
    assert status == 200


@pytest.mark.slow
def test_a_playback_page_with_a_wrong_token_keeps_saying_so():
    playwright = _browser_or_skip()
    from mirage_stream.bench.browser import find_chromium
    from mirage_stream.live.server import ReceiverServerConfig, serve

    async def scenario():
        _, runner, port = await serve(ReceiverServerConfig(port=0, token="right"))
        try:
            async with playwright.async_playwright() as driver:
                browser = await driver.chromium.launch(executable_path=find_chromium())
                page = await browser.new_page()
                await page.goto(f"http://127.0.0.1:{port}/#token=wrong")
                said = await _wait_for(lambda: _page_says(page, "state", "not allowed"))
                # Two more refused polls of /stats: the message must not turn into another.
                for _ in range(2):
                    async with page.expect_response(lambda r: r.url.endswith("/stats")):
                        pass
                later = await page.evaluate(_TEXT, "state")
                await browser.close()
        finally:
            await runner.cleanup()
        return said, later

    said, later = asyncio.run(scenario())
    assert said.startswith("not allowed: open the link the receiver printed")
    assert later == said


@pytest.mark.slow
def test_two_way_call_plays_each_side_the_other(tmp_path):
    playwright = _browser_or_skip()
    import subprocess
    import sys

    from mirage_stream.bench.browser import camera_args, find_chromium, write_fake_camera

    y4m = tmp_path / "camera.y4m"
    write_fake_camera("sample:carphone", y4m, seconds=4)
    from mirage_stream.bench.call import free_ports

    ports = free_ports(2)
    sides = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mirage_stream",
                "call",
                "--port",
                str(port),
                "--token",
                f"side{i}",
                "--peer",
                f"http://127.0.0.1:{ports[1 - i]}",
                "--peer-token",
                f"side{1 - i}",
                "--segment-s",
                "1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, port in enumerate(ports)
    ]

    async def scenario():
        async with playwright.async_playwright() as driver:
            browsers = [
                await driver.chromium.launch(executable_path=find_chromium(), args=camera_args(y4m))
                for _ in ports
            ]
            pages = [await b.new_page() for b in browsers]
            for i, (page, port) in enumerate(zip(pages, ports, strict=True)):
                await _wait_for(lambda p=port, side=sides[i]: _reachable(p, side))
                await page.goto(f"http://127.0.0.1:{port}/call#token=side{i}")

            async def both_played() -> bool:
                counts = [await _played(page) for page in pages]
                return all(count >= 3 for count in counts)

            await _wait_for(both_played, timeout_s=120)  # two calls, two browsers
            texts = [await page.evaluate(_TEXT, "send-stats") for page in pages]
            for b in browsers:
                await b.close()
        return texts

    try:
        texts = asyncio.run(scenario())
    finally:
        outputs = []
        for side in sides:
            side.terminate()
            try:
                outputs.append(side.communicate(timeout=60))
            except subprocess.TimeoutExpired:
                side.kill()  # never leave a process behind
                outputs.append(side.communicate())
    summaries = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert all(re.search(r"caption\t\S[^\n]*\.", text) for text in texts)
    assert all(s["segments_played"] >= 3 and s["sent"]["segments_sent"] >= 3 for s in summaries)


async def _reachable(port: int, process) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"call side exited: {process.stderr.read()}")
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


async def _played(page) -> int:
    text = await page.evaluate(_TEXT, "stats")
    for line in text.splitlines():
        if line.startswith("segments played"):
            return int(line.split()[-1])
    return 0


def test_fake_camera_is_a_y4m_chromium_reads(tmp_path):
    from mirage_stream.bench.browser import write_fake_camera

    path = tmp_path / "c.y4m"
    width, height = write_fake_camera("sample:carphone", path, seconds=0.2)
    header = path.read_bytes().split(b"\n", 1)[0].decode()
    assert header.startswith(f"YUV4MPEG2 W{width} H{height} F")
    frame_bytes = len(b"FRAME\n") + width * height * 3 // 2
    body = path.stat().st_size - len(header) - 1
    assert body > 0 and body % frame_bytes == 0
    with pytest.raises(InputError, match="does not exist"):
        write_fake_camera(str(Path(tmp_path) / "none.mp4"), path)


def test_camera_page_routes_need_the_token():
    import aiohttp

    from mirage_stream.live.sender_page import SenderPageConfig, serve_sender_page
    from mirage_stream.live.uplink import UplinkConfig

    async def scenario():
        config = SenderPageConfig(token="right", uplink=UplinkConfig("http://127.0.0.1:9", "x"))
        page, runner, port = await serve_sender_page(config, port=0)
        base = f"http://127.0.0.1:{port}/send"
        statuses = {}
        try:
            async with aiohttp.ClientSession() as session:
                for route in ("status", "keyframe.jpg"):
                    async with session.get(f"{base}/{route}") as reply:
                        statuses[route] = reply.status
                offer = {"sdp": "v=0", "type": "offer"}
                async with session.post(f"{base}/camera", json=offer) as reply:
                    statuses["camera"] = reply.status
                async with session.get(
                    f"{base}/status", headers={"Authorization": "Bearer right"}
                ) as reply:
                    status = await reply.json()
                async with session.get(f"{base}/") as reply:
                    statuses["page"] = reply.status
        finally:
            await runner.cleanup()
        return statuses, status, page

    statuses, status, page = asyncio.run(scenario())
    assert statuses == {"status": 401, "keyframe.jpg": 401, "camera": 401, "page": 200}
    assert status["camera"] == "waiting for the camera" and status["segments_sent"] == 0
    assert page._pc is None  # no peer connection for a refused offer


def test_a_feed_nobody_watches_keeps_only_what_is_still_to_show():
    # A receiver with no playback page open must not keep every frame it generated.
    now = [0.0]
    feed = FrameFeed(8, 6, clock=lambda: now[0])
    frames = np.zeros((50, 6, 8, 3), np.uint8)
    for index in range(6):
        feed.push(frames, 1000.0, index=index)  # 50 ms of video each: long shown by the next
        now[0] += 0.06
    assert len(feed._scheduled) <= 50
    assert [s.index for s in feed.starts] == [0, 1, 2, 3, 4]
