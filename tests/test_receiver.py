import dataclasses

import numpy as np
import pytest

from mirage_stream.codecs import ThumbnailCodec
from mirage_stream.link import Delivery
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.receiver import GeneratorConfig, KeyframeMotionGenerator, ReceiverStage
from mirage_stream.sender.measure import measure_motion
from mirage_stream.types import LinkReport, MotionHints, SceneFacts, SemanticPayload
from mirage_stream.wire import encode_payload, encode_payload_image
from tests.conftest import textured_image


def test_generated_motion_matches_the_hint():
    config = GeneratorConfig(num_frames=10, fps=25.0, width=320, height=240)
    frames = KeyframeMotionGenerator().generate(
        textured_image(), MotionHints(dx=2.0, dy=-1.0), config
    )
    assert frames.shape == (10, 240, 320, 3)
    motion = measure_motion(frames)
    assert motion.dx == pytest.approx(2.0, abs=0.3)
    assert motion.dy == pytest.approx(-1.0, abs=0.3)


def test_crossfade_starts_near_the_previous_frame():
    config = GeneratorConfig(num_frames=8, fps=25.0, width=64, height=48)
    previous = np.zeros((48, 64, 3), dtype=np.uint8)
    keyframe = np.full((48, 64, 3), 200, dtype=np.uint8)
    frames = KeyframeMotionGenerator(crossfade_frames=4).generate(
        keyframe, MotionHints(), config, previous
    )
    means = frames.reshape(8, -1).mean(axis=1)
    assert means[0] < means[2] < means[4] == pytest.approx(200, abs=1)


def test_generator_config_is_validated():
    with pytest.raises(ValueError):
        GeneratorConfig(num_frames=0, fps=25.0, width=64, height=48)
    with pytest.raises(ValueError):
        GeneratorConfig(num_frames=1, fps=0.0, width=64, height=48)


def _delivery(payload: SemanticPayload, data: bytes | None = None) -> Delivery:
    report = LinkReport(-10.0, 0.1, 0, 0, 0, 0.0)
    return Delivery(data=encode_payload(payload) if data is None else data, report=report)


def _payload(num_frames: int = 5) -> SemanticPayload:
    return SemanticPayload(
        segment_index=0,
        t0=0.0,
        duration=0.2,
        fps=25.0,
        width=320,
        height=240,
        num_frames=num_frames,
        caption="A test.",
        facts=SceneFacts(),
        keyframes=(ThumbnailCodec().encode(textured_image()),),
    )


def test_receiver_flags_damage_and_reuses_last_keyframe_when_unusable():
    receiver = ReceiverStage(KeyframeMotionGenerator(), width=64, height=48)
    first = receiver.render(_delivery(_payload()), SegmentTrace(index=0))
    assert first is not None and not first.keyframe_damaged

    image = encode_payload_image(_payload())
    offset, _ = image.exposed_spans[0]
    damaged = bytearray(image.data)
    damaged[offset] ^= 0xFF
    second = receiver.render(_delivery(_payload(), bytes(damaged)), SegmentTrace(index=1))
    assert second is not None and second.keyframe_damaged
    assert any("damaged" in note for note in second.notes)

    unknown = dataclasses.replace(_payload().keyframes[0], codec="future-codec")
    third_payload = dataclasses.replace(_payload(), keyframes=(unknown,))
    third = receiver.render(_delivery(third_payload), SegmentTrace(index=2))
    assert third is not None and any("reusing" in note for note in third.notes)


def test_receiver_drops_garbage_with_a_reason():
    trace = SegmentTrace(index=0)
    result = ReceiverStage(KeyframeMotionGenerator()).render(_delivery(_payload(), b"junk"), trace)
    assert result is None
    assert trace.facts["dropped"].startswith("payload rejected")


def test_payload_lost_on_the_link_is_dropped_with_a_reason():
    trace = SegmentTrace(index=4)
    lost = Delivery(
        data=None, report=LinkReport(-25.0, 0.2, 0, 0, 0, 0.0, delivered=False, tries=8)
    )
    assert ReceiverStage(KeyframeMotionGenerator()).render(lost, trace) is None
    assert trace.facts["dropped"] == "payload lost on the link after 8 tries"
