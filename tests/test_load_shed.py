"""The sender's load shedding: lighter work when behind, a skip a whole segment behind, full
work again after segments on time; and the live sender never sheds in a file run."""

import time

import pytest

from mirage_stream.compose import build_sender_chain
from mirage_stream.link.config import ChannelConfig
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.records import SenderRecord
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.load_shed import LoadShedConfig, LoadShedder, Shed
from mirage_stream.sources.config import InputConfig
from mirage_stream.sources.file_source import FileSource
from mirage_stream.sources.samples import resolve_input


def test_lag_decides_light_skip_and_recovery():
    shedder = LoadShedder(
        LoadShedConfig(light_after=0.35, skip_after=1.0, recover_below=0.15, recover_segments=3)
    )
    assert shedder.decide(0.1, 2.0) is Shed.NONE
    assert shedder.decide(0.8, 2.0) is Shed.LIGHT  # 0.4 segments behind
    assert shedder.decide(2.5, 2.0) is Shed.SKIP  # newer video is waiting
    # Back on time: the third segment in a row on time gets full work; a late one (still under
    # the light threshold) restarts the count.
    assert [shedder.decide(0.1, 2.0) for _ in range(2)] == [Shed.LIGHT, Shed.LIGHT]
    assert shedder.decide(0.5, 2.0) is Shed.LIGHT
    assert [shedder.decide(0.1, 2.0) for _ in range(3)] == [Shed.LIGHT, Shed.LIGHT, Shed.NONE]
    assert shedder.decide(0.1, 2.0) is Shed.NONE
    assert shedder.counts.skipped == 1 and shedder.counts.light == 6


def test_the_expected_work_counts_and_shrinks_after_a_skip():
    shedder = LoadShedder(LoadShedConfig(light_after=0.5, skip_after=0.7, newest_weight=0.5))
    shedder.worked(1.6)  # the last segment took 0.8 of a segment's length
    assert shedder.decide(0.0, 2.0) is Shed.LIGHT  # too slow: lighter work first
    shedder.worked(1.6)  # ... and still as slow
    assert shedder.decide(0.0, 2.0) is Shed.SKIP  # on time, but the work alone is too late
    # The skip halves the work that follows: its estimate shrinks, so the next one goes.
    assert shedder.decide(0.0, 2.0) is Shed.LIGHT
    shedder.worked(0.4)
    assert shedder.decide(0.3, 2.0) is Shed.LIGHT  # (0.3 + 0.68) / 2 < 0.7: no skip


@pytest.fixture(scope="module")
def segment():
    source = FileSource(
        resolve_input("sample:carphone"), InputConfig(input="sample:carphone").frames()
    )
    try:
        return next(source.iter_segments(2.0))
    finally:
        source.close()


def _describe(sender, segment, captured_at):
    trace = SegmentTrace(segment.index, captured_at=captured_at)
    return sender.describe(segment, trace), trace


def test_a_live_sender_behind_real_time_lightens_then_skips_and_a_file_run_never(segment):
    # Without the portrait, whose face track stands in for the motion track.
    live = build_sender_chain(SenderConfig(portrait=False), ChannelConfig(), live=True).sender
    payload, trace = _describe(live, segment, time.time())  # on time: full work
    assert payload is not None and payload.facts.motion_track is not None
    assert trace.record(SenderRecord).shed == ""
    payload, trace = _describe(live, segment, time.time() - 1.3)  # over half a segment behind
    assert payload is not None and payload.caption
    assert payload.facts.motion_track is None  # the track is the first work to go
    assert trace.record(SenderRecord).shed == "light"
    payload, trace = _describe(live, segment, time.time() - 3.0)  # more than a segment
    assert payload is None and trace.dropped.startswith("shed: the sender ran")
    assert live.shedder is not None and live.shedder.counts.skipped == 1
    run = build_sender_chain(SenderConfig(portrait=False), ChannelConfig()).sender
    assert run.shedder is None
    payload, _ = _describe(run, segment, time.time() - 30.0)  # a file run waits, never sheds
    assert payload is not None and payload.facts.motion_track is not None
    off = build_sender_chain(SenderConfig(shed_load=False), ChannelConfig(), live=True).sender
    assert off.shedder is None


def test_a_lightened_live_sender_keeps_the_face_track(segment):
    """The face is what a call is about: shedding keeps the portrait's track."""
    live = build_sender_chain(SenderConfig(), ChannelConfig(), live=True).sender
    _describe(live, segment, time.time())
    payload, trace = _describe(live, segment, time.time() - 1.3)
    assert trace.record(SenderRecord).shed == "light"
    assert payload is not None and payload.face_track is not None


def test_the_receiver_skips_a_late_segment_but_never_the_first_nor_two_in_a_row():
    import asyncio

    from mirage_stream.link.simulated import Delivery
    from mirage_stream.receiver.generator_backends import build_generator
    from mirage_stream.receiver.receiver import DecodeStage, GenerateStage
    from mirage_stream.registry import NoOptions
    from mirage_stream.sender.factory import build_sender
    from mirage_stream.types import LinkReport
    from mirage_stream.wire.payload import encode_payload

    segment = next(FileSource(resolve_input("sample:carphone")).iter_segments(0.5))
    payload = build_sender(SenderConfig()).describe(segment, SegmentTrace(0))
    assert payload is not None
    delivery = Delivery(encode_payload(payload), LinkReport(-10.0, 0.0, 0, 0, 0, 0.0))
    decoded = DecodeStage().decode(delivery, SegmentTrace(0))
    assert decoded is not None
    generate = GenerateStage(build_generator("offline", NoOptions()), drop_late=True)
    ten_seconds_ago = time.time() - 10.0  # far past the segment's length + LATE_AFTER_S

    async def shown() -> list[bool]:
        return [
            await generate.process(decoded, SegmentTrace(i, captured_at=ten_seconds_ago))
            is not None
            for i in range(4)
        ]

    # The first picture of the call goes out however late (a late one beats a blank screen);
    # then every other late one is skipped, never two in a row.
    assert asyncio.run(shown()) == [True, False, True, False]
    assert generate.late_dropped == 2
