"""Live calls: data-channel messages, signaling rules, a whole call on loopback, and the two
apps as real processes."""

import asyncio
import contextlib
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiortc import RTCPeerConnection
from hypothesis import given, settings
from hypothesis import strategies as st
from pyee.asyncio import AsyncIOEventEmitter

from mirage_stream.compose import build_receiver_chain
from mirage_stream.errors import PayloadError
from mirage_stream.link.config import ChannelConfig
from mirage_stream.live.call import LiveCall
from mirage_stream.live.messages import (
    CHUNK_BYTES,
    FeedbackMessage,
    KeyframeChunk,
    SegmentMessage,
    decode_message,
    encode_message,
    join_payload,
    split_payload,
)
from mirage_stream.live.reassembly import MAX_PENDING_SEGMENTS
from mirage_stream.live.sender_client import LiveSenderConfig, run_live_sender
from mirage_stream.live.server import ReceiverServerConfig, serve
from mirage_stream.live.uplink import MAX_BUFFERED_BYTES, Uplink, UplinkConfig
from mirage_stream.live.video import FrameFeed
from mirage_stream.pipeline import Envelope, SegmentTrace
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.sources.config import InputConfig

ROOT = Path(__file__).resolve().parents[1]


def test_messages_round_trip():
    segment = SegmentMessage(
        3, b"abc", ((1, 4), (9, 2)), 1, 12.5, -10.0, 0.11, 0.002, 7, True, (("caption", 2.5),)
    )
    chunk = KeyframeChunk(3, 0, 2, b"\x00\xff")
    feedback = FeedbackMessage(3, -9.5, True, False)
    for message in (segment, chunk, feedback):
        assert decode_message(encode_message(message)) == message


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_messages_raise_payload_error_only(data):
    with contextlib.suppress(PayloadError):
        decode_message(data)


@pytest.mark.parametrize("lengths", [[], [256], [256, 256], [40_000]])
def test_split_and_join_restore_the_payload(lengths):
    rng = np.random.default_rng(0)
    parts, spans, offset = [], [], 0
    for length in lengths:
        head = rng.integers(0, 256, 30, dtype=np.uint8).tobytes()
        parts.append(head)
        offset += len(head)
        spans.append((offset, length))
        parts.append(rng.integers(0, 256, length, dtype=np.uint8).tobytes())
        offset += length
    parts.append(b"tail")
    data = b"".join(parts)
    protected, chunks = split_payload(data, tuple(spans))
    assert all(len(chunk) <= CHUNK_BYTES for chunk in chunks)
    assert join_payload(protected, tuple(spans), list(chunks)) == data
    if chunks:  # a lost chunk leaves zeros where its symbols were, the rest intact
        damaged = join_payload(protected, tuple(spans), [None, *chunks[1:]])
        assert len(damaged) == len(data) and damaged != data


def test_frame_feed_plays_on_its_clock_and_bounds_its_backlog():
    now = [0.0]  # the feed's clock, held still between the pushes
    feed = FrameFeed(8, 6, max_seconds=1.0, clock=lambda: now[0])
    frames = np.stack([np.full((6, 8, 3), value, np.uint8) for value in range(50)])
    assert feed.push(frames[:10], 100.0) == 0.0
    ahead = feed.push(frames[10:20], 100.0)
    assert ahead == pytest.approx(0.1)
    for start in range(0, 40, 8):  # five 0.8 s segments at once: far over the 1 s bound
        feed.push(frames[start : start + 8], 10.0)
    assert feed.frames_dropped > 0 and feed.queued_s == pytest.approx(1.0)
    assert feed.next_marked()[0][0, 0, 0] == 30  # the newest segment's frames, oldest dropped


def test_a_call_survives_garbage_and_chunks_without_a_segment():
    async def scenario():
        call = LiveCall(1, RTCPeerConnection(), ReceiverConfig())
        for junk in (b"\x00garbage", b"\x93\x01\x02", "text", b"\xff" * 70_000):
            call.on_message(junk)  # logged and dropped
        for index in range(100):  # a peer that never sends the segments these belong to
            call.on_message(encode_message(KeyframeChunk(index, 0, 2, b"x")))
        await call.pc.close()
        return call

    call = asyncio.run(scenario())
    assert call.reassembly.waiting_for_chunks == MAX_PENDING_SEGMENTS
    assert call.stats.segments_received == 0


def test_a_call_shows_generation_behind_after_a_skip():
    async def scenario():
        call = LiveCall(1, RTCPeerConnection(), ReceiverConfig())
        call._chain = build_receiver_chain(ReceiverConfig(), live=True)  # as the call builds it
        queue = call._chain.generation_queue
        await queue.put(Envelope(None, SegmentTrace(index=0)))
        call.refresh()
        calm = (call.stats.behind, call.stats.segments_skipped)
        for index in (1, 2):  # the third segment while two wait: the oldest is skipped
            await queue.put(Envelope(None, SegmentTrace(index=index)))
        call.refresh()
        await queue.get()
        await queue.get()
        call.refresh()  # the queue has drained, but the skip is recent
        await call.pc.close()
        return calm, call.stats

    calm, stats = asyncio.run(scenario())
    assert calm == (False, 0)
    assert stats.behind and stats.segments_skipped == 1
    assert stats.generation_queue_depth == 0 and stats.generation_queue_max == 2


class _FullChannel(AsyncIOEventEmitter):
    """Just what pacing reads of a data channel: a send buffer that starts full."""

    def __init__(self):
        super().__init__()
        self.bufferedAmount = 4 * MAX_BUFFERED_BYTES
        self.readyState = "open"


@pytest.mark.parametrize("outcome", ["drains", "stays full", "closes"])
def test_keyframe_pacing_waits_for_room_in_the_send_buffer(outcome):
    async def scenario():
        channel = _FullChannel()
        # A timeout no test outlives unless the waiter is woken by the channel's event; only
        # the buffer that stays full is left to it (a short one).
        timeout_s = 0.05 if outcome == "stays full" else 3600.0
        waiter = asyncio.create_task(Uplink._paced(channel, timeout_s=timeout_s))
        while not waiter.done() and not channel.listeners("bufferedamountlow"):
            await asyncio.sleep(0)  # until it listens
        waiting = not waiter.done()
        if outcome == "drains":
            channel.bufferedAmount = MAX_BUFFERED_BYTES // 2
            channel.emit("bufferedamountlow")
        elif outcome == "closes":
            channel.readyState = "closed"
            channel.emit("close")
        room = await asyncio.wait_for(waiter, 60)
        return waiting, room, channel.listeners("bufferedamountlow")

    waiting, room, listeners = asyncio.run(scenario())
    assert waiting  # a full buffer makes it wait
    assert room is (outcome == "drains") and listeners == []


async def _post(url, body, token=None, raw=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        data = raw if raw is not None else json.dumps(body)
        async with session.post(url, data=data, headers=headers) as reply:
            return reply.status, await reply.text()


def test_signaling_refuses_wrong_tokens_and_malformed_bodies():
    async def scenario():
        server, runner, port = await serve(ReceiverServerConfig(port=0, token="right"))
        base = f"http://127.0.0.1:{port}"
        try:
            offer = {"sdp": "v=0", "type": "offer"}
            assert (await _post(f"{base}/offer", offer))[0] == 401
            assert (await _post(f"{base}/offer", offer, token="wrong"))[0] == 401
            assert (await _post(f"{base}/watch", offer, token="wrong"))[0] == 401
            assert server.peer_connections_created == 0
            assert (await _post(f"{base}/offer", None, "right", raw=b"{not json"))[0] == 400
            assert (await _post(f"{base}/offer", {"sdp": 5, "type": "offer"}, "right"))[0] == 400
            assert (await _post(f"{base}/offer", {"sdp": "x", "type": "answer"}, "right"))[0] == 400
            huge = {"sdp": "a" * 70_000, "type": "offer"}
            assert (await _post(f"{base}/offer", huge, "right"))[0] in (400, 413)
            shown = {"mark": 0, "shown_at": 1.0}
            assert (await _post(f"{base}/shown", shown, token="wrong"))[0] == 401
            assert (await _post(f"{base}/shown", {"mark": "x"}, "right"))[0] == 400
            async with aiohttp.ClientSession() as session:
                for route in ("stats", "keyframe.jpg"):
                    async with session.get(f"{base}/{route}") as reply:
                        assert reply.status == 401
                async with session.get(
                    f"{base}/keyframe.jpg", headers={"Authorization": "Bearer right"}
                ) as reply:
                    assert reply.status == 404  # no call, no keyframe yet
                async with session.get(f"{base}/") as reply:
                    assert reply.status == 200 and "mirage_stream" in await reply.text()
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


async def _until(condition, timeout_s: float = 90.0) -> None:
    """Until ``condition()`` holds: a hang guard, generous so that a busy machine passes too."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def test_a_live_call_on_loopback_loses_nothing_it_sends():
    async def scenario():
        server, runner, port = await serve(ReceiverServerConfig(port=0, token="t"))
        try:
            config = LiveSenderConfig(
                UplinkConfig(f"http://127.0.0.1:{port}", "t"),
                InputConfig(input="sample:carphone", segment_s=1.0),
                channel=ChannelConfig(snr_db=-10.0),
            )
            counts = await run_live_sender(config)
            await _until(lambda: bool(server.ended) and server.ended[-1].state == "ended")
            return counts, server.ended[-1]
        finally:
            await runner.cleanup()

    counts, stats = asyncio.run(scenario())
    # Every segment is accounted for: sent, or shed by a sender behind real time (a busy
    # machine); nothing sent is lost.
    sent = counts["segments_sent"]
    assert sent + counts["segments_dropped"] == 4 and sent >= 1
    assert counts["segments_unsent"] == 0
    assert stats.captions_intact == sent  # no caption lost at -10 dB
    assert stats.segments_played == sent - stats.segments_skipped >= 1
    assert stats.segments_lost == 0
    # What the call cost, by stage, from each stage's own thread clock: the sender's detectors,
    # encode and channel; the receiver's decode and the face rebuilt. Shown in /stats.
    assert {"capture", "objects", "faces", "encode", "link"} <= set(counts["cpu_ms"])
    assert {"decode", "reenact", "generate"} <= set(stats.cpu_ms)
    assert all(ms >= 0 for ms in [*counts["cpu_ms"].values(), *stats.cpu_ms.values()])
    cost = stats.as_json()["cost"]
    # Shed on either end: the sender's skips (a busy machine) and the receiver's.
    offered = stats.segments_received + stats.sender_shed_skipped
    shed = stats.sender_shed_skipped + stats.segments_skipped
    assert cost["cpu_cores"] > 0 and cost["shed_share"] == pytest.approx(shed / offered, abs=1e-3)
    # The caller's face, rebuilt from the reference picture sent with the first segment, in
    # every segment played (carphone's driver is in view throughout).
    assert stats.segments_reenacted == stats.segments_played
    assert stats.first_reenacted_at is not None
    # Glass to glass is measured for every segment played (its target, segment length + 0.5 s,
    # is a speed figure: `mirage-stream bench live` reports it).
    assert len(stats.glass_to_glass_s) == stats.segments_played
    # The path the call took: host candidates on both ends (no STUN or TURN server named).
    assert stats.connection is not None and stats.connection["candidate_type"] == "host"
    assert stats.connection["remote_candidate"].startswith("host 127.0.0.1:") or (
        stats.connection["remote_candidate"].startswith("host ")
    )


@pytest.mark.slow
def test_the_sender_reconnects_when_the_receiver_restarts():
    async def scenario():
        first, runner, port = await serve(ReceiverServerConfig(port=0, token="t"))
        sender = asyncio.create_task(
            run_live_sender(
                LiveSenderConfig(
                    UplinkConfig(f"http://127.0.0.1:{port}", "t", reconnect_s=0.5),
                    InputConfig(input="sample:carphone", segment_s=1.0, loop=True),
                    channel=ChannelConfig(snr_db=-10.0),
                    total_seconds=9,
                )
            )
        )
        await _until(  # the call is under way
            lambda: (
                bool(first.calls) and next(iter(first.calls.values())).stats.segments_played >= 2
            )
        )
        await runner.cleanup()  # the receiver goes away mid-call ...
        await asyncio.sleep(1.0)
        second, runner, _ = await serve(ReceiverServerConfig(port=port, token="t"))  # ... and back
        try:
            counts = await asyncio.wait_for(sender, 120)
            await _until(lambda: bool(second.ended))
        finally:
            await runner.cleanup()
        return counts, first.ended, second.ended

    counts, before, after = asyncio.run(scenario())
    assert counts["reconnects"] == 2  # the first connection and one after the restart
    # Every segment accounted for: sent, unsent while no receiver listened, or dropped by a
    # sender that fell behind (a busy machine).
    assert counts["segments_sent"] + counts["segments_unsent"] + counts["segments_dropped"] == 9
    assert before[0].segments_played >= 2
    assert after and after[0].segments_played >= 1  # the call went on with the new receiver
    assert after[0].segments_played == counts["segments_sent"] - before[0].segments_received


def _start_receiver(tmp_path, *extra):
    """receiver_app.py on a free port; its output goes to a file (a pipe nobody reads would
    fill up and block it)."""
    token_file, log = tmp_path / "token", tmp_path / "receiver.log"
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "receiver_app.py"),
            "--port",
            "0",
            "--token-file",
            str(token_file),
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        cwd=ROOT,
    )
    _STARTED.append(process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"listening on (\S+)\n", log.read_text())
        if match and token_file.exists():
            return process, f"http://{match.group(1)}", token_file
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"receiver did not start: {log.read_text()}")


def _stats(url, token):
    async def fetch():
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{url}/stats", headers={"Authorization": f"Bearer {token}"}) as reply,
        ):
            return reply.status, await reply.json()

    return asyncio.run(fetch())


def _stats_when(url, token, condition, timeout=60.0):
    """Poll /stats until ``condition(stats)`` holds; the stats then, or a failure with the last
    ones seen."""
    deadline = time.monotonic() + timeout
    while True:
        status, stats = _stats(url, token)
        if status == 200 and condition(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"/stats never met the condition: {stats}")
        time.sleep(0.1)


def _played(stats):
    """Segments played per call number, ended calls and live ones."""
    return {c["call"]: c["segments_played"] for c in stats["ended_calls"] + stats["calls"]}


def _sender(url, token_file, *extra):
    """sender_app.py with its output in files next to the token (read by ``_finished``)."""
    out, err = token_file.with_suffix(".out"), token_file.with_suffix(".err")
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "sender_app.py"),
            "--receiver",
            url,
            "--token-file",
            str(token_file),
            "--input",
            "sample:carphone",
            "--segment-s",
            "1",
            *extra,
        ],
        stdout=out.open("w"),
        stderr=err.open("w"),
        cwd=ROOT,
    )
    _STARTED.append(process)
    return process


def _finished(process, token_file, timeout=120):
    process.wait(timeout=timeout)
    out = token_file.with_suffix(".out").read_text()
    err = token_file.with_suffix(".err").read_text()
    return out, err


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_process_left_behind():
    """Whatever a test started is killed when it ends, pass or fail (no hung CI)."""
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.slow
def test_two_processes_a_killed_sender_and_a_new_call(tmp_path):
    receiver, url, token_file = _start_receiver(tmp_path)
    token = token_file.read_text().strip()
    try:
        first = _sender(url, token_file, "--max-seconds", "3")
        out, err = _finished(first, token_file)
        assert first.returncode == 0, err
        # Every segment is accounted for: sent, or shed by a sender behind real time (on a busy
        # machine the first, which pays the detectors' start-up, may be).
        counts = json.loads(out.strip().splitlines()[-1])
        assert counts["segments_sent"] + counts["segments_dropped"] == 3
        assert counts["segments_sent"] >= 1
        stats = _stats_when(url, token, lambda s: bool(s["ended_calls"]))
        (call,) = stats["ended_calls"]
        assert call["captions_intact"] == counts["segments_sent"] and call["segments_lost"] == 0
        # The receiver plays what it did not have to skip for lateness.
        assert call["segments_played"] == counts["segments_sent"] - call["segments_skipped"] >= 1
        assert call["g2g_max_s"] is not None  # measured (its bound is `bench live`'s)

        # A sender killed mid-call leaves the receiver serving.
        second = _sender(url, token_file, "--loop")
        _stats_when(url, token, lambda s: _played(s).get(2, 0) >= 2)
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=30)
        status, stats = _stats(url, token)
        assert status == 200 and receiver.poll() is None

        # And a new call succeeds.
        third = _sender(url, token_file, "--max-seconds", "2")
        out, err = _finished(third, token_file)
        assert third.returncode == 0, err
        sent = json.loads(out.strip().splitlines()[-1])["segments_sent"]
        stats = _stats_when(url, token, lambda s: any(c["call"] == 3 for c in s["ended_calls"]))
        (new_call,) = [c for c in stats["ended_calls"] if c["call"] == 3]
        assert new_call["segments_played"] == sent - new_call["segments_skipped"] >= 1
        assert _played(stats)[1] == call["segments_played"]  # call 2 was the killed one
    finally:
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(timeout=30)
    assert receiver.returncode == 0


def test_sender_app_with_a_wrong_token_fails_clearly(tmp_path):
    receiver, url, _ = _start_receiver(tmp_path)
    try:
        wrong = tmp_path / "wrong"
        wrong.write_text("not-the-token\n")
        sender = _sender(url, wrong, "--max-seconds", "1")
        _, err = _finished(sender, wrong)
        assert sender.returncode == 2 and "401" in err
    finally:
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(timeout=30)


_FRAME_SIGNATURE = """() => {
  const video = document.getElementById('video');
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 48;
  const context = canvas.getContext('2d');
  context.drawImage(video, 0, 0, 64, 48);
  const pixels = context.getImageData(0, 0, 64, 48).data;
  let signature = 0;
  for (let i = 0; i < pixels.length; i += 4) signature += pixels[i] * (i % 97);
  return signature;
}"""

_SEGMENTS_PLAYED = """() => Number([...document.querySelectorAll('#stats tr')].find(
  (row) => row.cells[0].textContent === 'segments played')?.cells[1].textContent ?? 0)"""


def _played_on_page(stats_text: str) -> int:
    return int(re.search(r"segments played\s+(\d+)", stats_text).group(1))


# The page shows a waiting picture before the first segment: wait for the call itself.
_FIRST_SEGMENT_PLAYED = """() => [...document.querySelectorAll('#stats tr')].some(
  (row) => row.cells[0].textContent === 'segments played' && Number(row.cells[1].textContent) >= 1
)"""


@pytest.mark.slow
def test_headless_browser_sees_frames_change_and_stats_update():
    playwright = pytest.importorskip("playwright.async_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium installed (.ci/run installs Debian's)")

    async def scenario():
        _, runner, port = await serve(ReceiverServerConfig(port=0, token="t"))
        sender = asyncio.create_task(
            run_live_sender(
                LiveSenderConfig(
                    UplinkConfig(f"http://127.0.0.1:{port}", "t"),
                    InputConfig(input="sample:carphone", segment_s=1.0, loop=True),
                    total_seconds=600,  # stopped below once the page has shown what it must
                )
            )
        )
        try:
            async with playwright.async_playwright() as driver:
                browser = await driver.chromium.launch(
                    executable_path=chromium,
                    args=["--no-sandbox", "--disable-features=WebRtcHideLocalIpsWithMdns"],
                )
                page = await browser.new_page()
                await page.goto(f"http://127.0.0.1:{port}/#token=t")
                await page.wait_for_function(
                    "document.getElementById('video').currentTime > 0.5", timeout=60_000
                )
                await page.wait_for_function(_FIRST_SEGMENT_PLAYED, timeout=60_000)
                first_signature = await page.evaluate(_FRAME_SIGNATURE)
                first_stats = await page.inner_text("#stats")
                # Events, not a schedule: wait (a hang guard, not a speed bound) until the
                # picture changes and the stats count another segment.
                await page.wait_for_function(
                    f"(first) => ({_FRAME_SIGNATURE})() !== first",
                    arg=first_signature,
                    timeout=120_000,
                )
                await page.wait_for_function(
                    f"(before) => ({_SEGMENTS_PLAYED})() > before",
                    arg=_played_on_page(first_stats),
                    timeout=120_000,
                )
                state = await page.inner_text("#state")
                await browser.close()
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            await runner.cleanup()
        return first_stats, state

    first_stats, state = asyncio.run(scenario())
    assert state.startswith("live")
    assert _played_on_page(first_stats) >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--camera", "/dev/no-such-camera"], "no device at /dev/no-such-camera"),
        (["--input", "no-such-file.mp4"], "does not exist"),
        (["--input", "sample:carphone", "--segment-s", "0"], "--segment-s must be in [0.1, 30]"),
        (["--input", "sample:carphone", "--camera", "/dev/video0"], "exactly one of"),
        ([], "exactly one of"),
    ],
)
def test_sender_app_rejects_bad_sources_before_connecting(args, message, capsys):
    import sender_app

    # Port 9 has no receiver: these must fail on the arguments, never reach the network.
    code = sender_app.main(["--receiver", "http://127.0.0.1:9", "--token", "x", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "not reachable" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "--port must be in 0..65535"),
        (["--width", "33"], "--width must be even"),
        (["--generation-queue", "0"], "--generation-queue must be at least 1"),
        (["--profile", "no-such-profile.toml"], "cannot read"),
        (["--host", "256.1.1.1", "--allow-remote", "--port", "0"], "cannot listen on 256.1.1.1"),
        (["--host", "0.0.0.0", "--port", "0"], "add --allow-remote to mean it"),
    ],
)
def test_receiver_app_rejects_bad_flags(args, message, capsys):
    import receiver_app

    code = receiver_app.main(args)
    assert code == 2 and message in capsys.readouterr().err


# --- one chain for files and calls ------------------------------------------------------------


def _flags(argv_prefix):
    """The long options a command's parser accepts."""
    from mirage_stream.cli import build_parser

    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[argv_prefix]
    return {flag for action in sub._actions for flag in action.option_strings if flag[:2] == "--"}


def test_the_apps_take_every_receiver_and_channel_option_of_run():
    run, send, receive = _flags("run"), _flags("send"), _flags("receive")
    receiver_side = {
        "--profile",
        "--generator",
        "--diffusion-model",
        "--keyframe-strength",
        "--steps",
        "--guidance",
        "--damaged-keyframes",
        "--generation-queue",
        "--width",
        "--height",
        "--seed",
    }
    channel_side = {
        "--snr-db",
        "--snr-process",
        "--snr-std-db",
        "--snr-bad-db",
        "--snr-trace",
        "--bandwidth-hz",
        "--ber-model",
        "--overhead-ms",
    }
    sender_side = {"--captioner", "--codec", "--granularity", "--latency-budget-ms", "--faces"}
    assert receiver_side <= run and receiver_side <= receive
    assert (channel_side | sender_side) <= run and (channel_side | sender_side) <= send


@pytest.mark.parametrize("process", ["constant", "random-walk", "gilbert-elliott", "trace"])
def test_sender_app_builds_every_snr_process(process, tmp_path):
    from mirage_stream.cli import build_parser

    trace = tmp_path / "snr.csv"
    trace.write_text("snr_db\n-3\n4\n")
    argv = ["send", "--token", "t", "--input", "sample:carphone", "--snr-process", process]
    argv += ["--snr-db", "2", "--seed", "3"]
    own = {"random-walk": ["--snr-std-db", "1.5"], "gilbert-elliott": ["--snr-bad-db", "-12"]}
    argv += own.get(process, ["--snr-trace", str(trace)] if process == "trace" else [])
    snr = ChannelConfig.from_args(build_parser().parse_args(argv)).snr()
    values = [snr.snr_db(index) for index in range(200)]
    if process == "constant":
        assert set(values) == {2.0}
    elif process == "trace":
        assert values[:2] == [-3.0, 4.0]
    elif process == "gilbert-elliott":
        assert set(values) == {2.0, -12.0}
    else:
        assert len(set(values)) > 100 and abs(float(np.mean(values)) - 2.0) < 1.5


def test_a_failing_call_is_shown_as_failed_and_the_server_serves_the_next():
    class Broken:
        name = "broken"
        adapts_rate = False
        draws_people = True  # a model: every segment reaches it

        def generate(self, request):
            raise RuntimeError("generator out of memory")

        def warm_up(self, config):
            return None

    async def call(port):
        config = LiveSenderConfig(
            UplinkConfig(f"http://127.0.0.1:{port}", "t"),
            InputConfig(input="sample:carphone", segment_s=1.0, max_seconds=2.0),
        )
        return await run_live_sender(config)

    async def until_ended(server, count):
        await _until(lambda: len(server.ended) >= count)

    async def scenario():
        server, runner, port = await serve(ReceiverServerConfig(port=0, token="t"))
        working = server.generator
        try:
            server.generator = Broken()
            await call(port)  # its calls fail; it reconnects and tries again
            await until_ended(server, 1)
            async with (
                aiohttp.ClientSession() as session,
                session.get(
                    f"http://127.0.0.1:{port}/stats", headers={"Authorization": "Bearer t"}
                ) as reply,
            ):
                shown = await reply.json()
            server.generator = working
            failed = len(server.ended)
            await call(port)
            await until_ended(server, failed + 1)
            return shown, server.ended
        finally:
            await runner.cleanup()

    shown, ended = asyncio.run(scenario())
    *failed, last = ended
    assert failed and all(c.state == "failed" for c in failed)
    assert all(c.error == "RuntimeError: generator out of memory" for c in failed)
    assert shown["state"] == "call failed: RuntimeError: generator out of memory"
    # The working generator plays the new call (of its two segments, one may be shed when a
    # busy machine makes the sender late).
    assert last.state == "ended" and last.segments_played >= 1


@pytest.mark.slow
def test_a_call_between_the_apps_with_the_tiny_diffusion_pipeline(tmp_path, tiny_ltx):
    receiver, url, token_file = _start_receiver(
        tmp_path,
        *("--generator", "diffusion", "--diffusion-model", str(tiny_ltx)),
        *("--steps", "2", "--guidance", "1", "--width", "64", "--height", "48"),
        *("--keyframe-strength", "0.5", "--damaged-keyframes", "last-good"),
    )
    token = token_file.read_text().strip()
    try:
        sender = _sender(
            url,
            token_file,
            *("--max-seconds", "2", "--snr-process", "gilbert-elliott", "--snr-bad-db", "-12"),
        )
        out, err = _finished(sender, token_file)
        assert sender.returncode == 0, err
        counts = json.loads(out.strip().splitlines()[-1])
        assert counts["segments_sent"] + counts["segments_dropped"] == 2  # some shed when late
        assert counts["segments_sent"] >= 1
        stats = _stats_when(url, token, lambda s: bool(s["ended_calls"]), timeout=120)
        (call,) = stats["ended_calls"]
        assert call["state"] == "ended", call
        assert call["segments_played"] == counts["segments_sent"] - call["segments_skipped"] >= 1
        assert call["last"]["snr_db"] in (-10.0, -12.0)  # the Gilbert-Elliott states
        assert "generate" in call["last"]["stage_ms"]
        # The rate adapter watched each segment's cost and says what it chose.
        assert call["generation_setting"] and call["last"]["generation_setting"]
        assert call["generation_s_per_s"] > 0 and call["generation_changes"] >= 0
        # A video model draws the people itself (from the rebuilt reference): no overlay.
        assert call["segments_reenacted"] == 0
    finally:
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(timeout=30)
    assert receiver.returncode == 0
