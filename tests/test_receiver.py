import dataclasses

import numpy as np
import pytest

from mirage_stream.codecs import ThumbnailCodec
from mirage_stream.compose import build_receiver_chain
from mirage_stream.link import Delivery
from mirage_stream.metrics.fidelity import held_keyframes
from mirage_stream.metrics.ghosting import ghosting
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


def test_transition_slides_from_the_previous_frame_when_the_view_moved():
    big = textured_image(240, 400, seed=5)
    previous, keyframe = big[:, :320], big[:, 12:332]  # the camera moved 12 px between them
    config = GeneratorConfig(num_frames=8, fps=25.0, width=320, height=240)
    frames = KeyframeMotionGenerator(transition_frames=4).generate(
        _request([(0, keyframe)], config=config, previous=previous)
    )
    error_to_previous = [np.abs(f.astype(float) - previous).mean() for f in frames[:4]]
    assert error_to_previous[0] < error_to_previous[3]  # it starts where the last segment ended
    assert np.array_equal(frames[4], keyframe)


def test_transition_from_a_different_picture_cuts_instead_of_fading():
    config = GeneratorConfig(num_frames=8, fps=25.0, width=64, height=48)
    previous = np.zeros((48, 64, 3), dtype=np.uint8)
    keyframe = np.full((48, 64, 3), 200, dtype=np.uint8)
    frames = KeyframeMotionGenerator(transition_frames=4).generate(
        _request([(0, keyframe)], config=config, previous=previous)
    )
    # No flow explains black turning grey: the new segment starts at once (a cut), neither
    # holding the picture its keyframe contradicts nor fading through a mix of the two.
    assert all(np.array_equal(frame, keyframe) for frame in frames)


def test_two_keyframes_that_disagree_are_cut_between_never_blended():
    start, end = textured_image(seed=1), textured_image(seed=2)
    config = GeneratorConfig(num_frames=9, fps=25.0, width=320, height=240)
    frames = KeyframeMotionGenerator().generate(_request([(0, start), (8, end)], config=config))
    ghosts, looked_at = ghosting(frames, [(0, start), (8, end)])
    assert looked_at > 0 and ghosts == 0
    # A cut at the midpoint is exactly the hold-the-nearest-keyframe baseline.
    assert np.array_equal(frames, held_keyframes([(0, start), (8, end)], 9))


def test_ghosting_counts_a_cross_fade_and_not_a_hold():
    start, end = textured_image(seed=1), textured_image(seed=2)
    keyframes = [(0, start), (10, end)]
    weights = [t / 10 for t in range(11)]
    fade = np.stack(
        [np.round((1 - w) * start.astype(float) + w * end).astype(np.uint8) for w in weights]
    )
    ghosts, looked_at = ghosting(fade, keyframes)
    # Frames 3..7 of the 9 in between mix more than a quarter of each keyframe; 1, 2, 8, 9 less.
    assert looked_at > 0 and ghosts / looked_at == pytest.approx(5 / 9, abs=0.03)
    held_ghosts, held_looked_at = ghosting(held_keyframes(keyframes, 11), keyframes)
    assert held_ghosts == 0 and held_looked_at == looked_at


def test_the_subject_slides_only_when_asked_and_never_on_a_keyframe():
    image = textured_image()
    facts = SceneFacts(subject_dx=3.0, subject_share=0.2, subject_x=0.5, subject_y=0.5)
    request = _request([(2, image)], facts)
    plain = KeyframeMotionGenerator().generate(request)
    slid = KeyframeMotionGenerator(slide_subject=True).generate(request)
    assert all(np.array_equal(frame, image) for frame in plain)  # the default holds
    assert np.array_equal(slid[2], image) and not np.array_equal(slid[9], image)


def test_the_hold_baseline_shows_the_nearest_keyframe_the_earlier_on_a_tie():
    first, second = textured_image(seed=1), textured_image(seed=2)
    held = held_keyframes([(6, second), (2, first)], 8)
    assert [np.array_equal(frame, first) for frame in held] == [True] * 5 + [False] * 3


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


def test_keyframe_timing_says_when_the_change_happens_and_the_morph_follows_it():
    from mirage_stream.sender.keyframe_timing import keyframe_timing
    from mirage_stream.timing import KeyframeTiming

    start, end = textured_image(seed=1), textured_image(seed=2)
    # The picture stays as the first keyframe until frame 12 of 16, then turns into the second.
    source = [start] * 12 + [end] * 5
    (timing,) = keyframe_timing(source, [0, 16])
    assert (timing.start, timing.end) == (0, 16)
    assert timing.at(8) == 0.0 and timing.at(14) == 1.0
    config = GeneratorConfig(num_frames=17, fps=25.0, width=320, height=240)
    facts = SceneFacts(keyframe_timing=(timing,))
    frames = KeyframeMotionGenerator().generate(_request([(0, start), (16, end)], facts, config))
    assert all(np.array_equal(f, s) for f, s in zip(frames, source, strict=True))
    # Without the timing the cut falls at the midpoint, 4 frames early.
    untimed = KeyframeMotionGenerator().generate(_request([(0, start), (16, end)], None, config))
    assert np.array_equal(untimed[9], end)
    assert KeyframeTiming(0, 16, (0.5,) * 7).at(0) == 0.0


def test_keyframe_timing_crosses_the_wire_and_a_peer_without_it_still_decodes():
    from mirage_stream.errors import PayloadError
    from mirage_stream.timing import KeyframeTiming
    from mirage_stream.wire.facts import pack_facts, unpack_facts

    def require(condition, message):
        if not condition:
            raise PayloadError(message)

    timing = KeyframeTiming(3, 40, tuple(k / 15 for k in (0, 1, 2, 8, 13, 15, 15)))
    facts = SceneFacts(keyframe_timing=(timing,))
    assert unpack_facts(pack_facts(facts), require).keyframe_timing == (timing,)
    assert len(pack_facts(SceneFacts())) == 17  # nothing to time: the version-4 array
    damaged = pack_facts(facts)
    damaged[17][0][2][0] = 99
    with pytest.raises(PayloadError):
        unpack_facts(damaged, require)
