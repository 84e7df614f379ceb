import dataclasses

import numpy as np
import pytest

from mirage_stream.codecs import ThumbnailCodec
from mirage_stream.compose import build_receiver_chain
from mirage_stream.link import Delivery
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.receiver import (
    GenerationRequest,
    GeneratorConfig,
    KeyframeMotionGenerator,
    ReceiverProfile,
    build_prompt,
)
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.sender.flow import camera_motion, measure_flow
from mirage_stream.types import LinkReport, MotionHints, SceneFacts, SemanticPayload
from mirage_stream.wire import encode_payload, encode_payload_image
from tests.conftest import textured_image


def _request(keyframes, facts=None, config=None, previous=None, profile=None):
    config = config or GeneratorConfig(num_frames=10, fps=25.0, width=320, height=240)
    facts = facts or SceneFacts()
    profile = profile or ReceiverProfile()
    return GenerationRequest(
        keyframes=tuple(keyframes),
        facts=facts,
        prompt=build_prompt("A test.", profile),
        config=config,
        profile=profile,
        previous=previous,
    )


def test_generated_motion_matches_the_hint():
    facts = SceneFacts(motion=MotionHints(dx=2.0, dy=-1.0))
    frames = KeyframeMotionGenerator().generate(_request([(0, textured_image())], facts))
    assert frames.shape == (10, 240, 320, 3)
    motion = camera_motion(measure_flow(frames))
    assert motion.dx == pytest.approx(2.0, abs=0.3)
    assert motion.dy == pytest.approx(-1.0, abs=0.3)


def test_a_camera_the_caption_calls_still_is_held_still():
    from mirage_stream.sender import CaptionSettings
    from mirage_stream.sender.captioner import describe

    image = textured_image()
    drift = SceneFacts(motion=MotionHints(dx=0.2, dy=0.1, zoom=0.001))
    pan = SceneFacts(motion=MotionHints(dx=0.4))
    held = KeyframeMotionGenerator().generate(_request([(0, image)], drift))
    moved = KeyframeMotionGenerator().generate(_request([(0, image)], pan))
    assert all(np.array_equal(frame, image) for frame in held)
    assert not np.array_equal(moved[-1], image)
    # The generator and the caption agree on what counts as a still camera.
    assert "camera is almost still" in describe(drift, CaptionSettings())
    assert "camera pans" in describe(pan, CaptionSettings())


def test_the_keyframe_stands_at_its_own_time():
    image = textured_image()
    facts = SceneFacts(motion=MotionHints(dx=2.0))
    frames = KeyframeMotionGenerator().generate(_request([(6, image)], facts))
    assert np.array_equal(frames[6], image)
    assert not np.array_equal(frames[0], image)  # earlier frames are moved back in time


def test_two_keyframes_are_bridged_by_a_flow_guided_morph():
    big = textured_image(240, 400, seed=3)
    start, end = big[:, :320], big[:, 20:340]  # the view moved 20 px to the right
    config = GeneratorConfig(num_frames=9, fps=25.0, width=320, height=240)
    frames = KeyframeMotionGenerator().generate(_request([(0, start), (8, end)], config=config))
    assert np.array_equal(frames[0], start) and np.array_equal(frames[8], end)
    middle = frames[4].astype(np.float64)
    halfway = big[:, 10:330].astype(np.float64)
    crossfade = (start.astype(np.float64) + end) / 2
    # Content slides halfway rather than fading: closer to the true middle view than a fade.
    assert np.abs(middle - halfway).mean() < 0.25 * np.abs(crossfade - halfway).mean()


def test_transition_starts_near_the_previous_frame():
    config = GeneratorConfig(num_frames=8, fps=25.0, width=64, height=48)
    previous = np.zeros((48, 64, 3), dtype=np.uint8)
    keyframe = np.full((48, 64, 3), 200, dtype=np.uint8)
    frames = KeyframeMotionGenerator(transition_frames=4).generate(
        _request([(0, keyframe)], config=config, previous=previous)
    )
    means = frames.reshape(8, -1).mean(axis=1)
    assert means[0] < means[2] < means[4] == pytest.approx(200, abs=1)


def test_offline_generator_is_deterministic_and_sized():
    config = GeneratorConfig(num_frames=5, fps=12.0, width=96, height=64)
    request = _request([(2, textured_image())], config=config)
    first = KeyframeMotionGenerator().generate(request)
    assert first.shape == (5, 64, 96, 3)
    assert np.array_equal(first, KeyframeMotionGenerator().generate(request))


@pytest.mark.parametrize(
    "changes",
    [
        {"num_frames": 0},
        {"fps": 0.0},
        {"width": 1},
        {"keyframe_strength": 1.5},
        {"steps": 0},
        {"guidance": float("nan")},
    ],
)
def test_generator_config_is_validated(changes):
    values = {"num_frames": 4, "fps": 25.0, "width": 64, "height": 48} | changes
    with pytest.raises(ValueError):
        GeneratorConfig(**values)


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


def _with_a_damaged_keyframe(payload):
    """The payload's bytes with the first byte of its first keyframe's symbols flipped."""
    image = encode_payload_image(payload)
    offset, _ = image.exposed_spans[0]
    damaged = bytearray(image.data)
    damaged[offset] ^= 0xFF
    return damaged


def _render(chain, delivery, trace):
    """Decode and generate one delivery, with no queue in between."""
    decoded = chain.decode.decode(delivery, trace)
    return None if decoded is None else chain.generate.render(decoded, trace)


def _receiver(width=320, height=240):
    return build_receiver_chain(ReceiverConfig(width=width, height=height))


def test_receiver_flags_damage_and_reuses_last_keyframe_when_unusable():
    receiver = _receiver(64, 48)
    first = _render(receiver, _delivery(_payload()), SegmentTrace(index=0))
    assert first is not None and not first.keyframe_damaged

    damaged = _with_a_damaged_keyframe(_payload())
    second = _render(receiver, _delivery(_payload(), bytes(damaged)), SegmentTrace(index=1))
    assert second is not None and second.keyframe_damaged
    assert any("damaged" in note for note in second.notes)

    unknown = dataclasses.replace(_payload().keyframes[0], codec="future-codec")
    third_payload = dataclasses.replace(_payload(), keyframes=(unknown,))
    third = _render(receiver, _delivery(third_payload), SegmentTrace(index=2))
    assert third is not None and any("reusing" in note for note in third.notes)


def test_receiver_drops_garbage_with_a_reason():
    trace = SegmentTrace(index=0)
    result = _render(_receiver(), _delivery(_payload(), b"junk"), trace)
    assert result is None
    assert trace.dropped.startswith("payload rejected")


def test_payload_lost_on_the_link_is_dropped_with_a_reason():
    trace = SegmentTrace(index=4)
    lost = Delivery(
        data=None, report=LinkReport(-25.0, 0.2, 0, 0, 0, 0.0, delivered=False, tries=8)
    )
    assert _render(_receiver(), lost, trace) is None
    assert trace.dropped == "payload lost on the link after 8 tries"


def test_last_good_policy_generates_from_the_last_intact_keyframe():
    from mirage_stream.receiver import DecodeStage

    decoder = DecodeStage(width=64, height=48, damaged_keyframes="last-good")
    first = decoder.decode(_delivery(_payload()), SegmentTrace(index=0))
    assert first is not None and not first.keyframe_damaged
    damaged = _with_a_damaged_keyframe(_payload())
    second = decoder.decode(_delivery(_payload(), bytes(damaged)), SegmentTrace(index=1))
    assert second is not None and second.keyframe_damaged
    assert np.array_equal(second.keyframes[0][1], first.keyframes[0][1])
    assert any("last intact keyframe" in note for note in second.notes)


def test_unknown_damage_policy_is_rejected():
    from mirage_stream.errors import InputError

    with pytest.raises(InputError, match="--damaged-keyframes"):
        ReceiverConfig(damaged_keyframes="ignore")
