import contextlib
import dataclasses

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mirage_stream.codecs import ThumbnailCodec
from mirage_stream.errors import PayloadError
from mirage_stream.types import EncodedKeyframe, FaceFact, MotionHints, SceneFacts, SemanticPayload
from mirage_stream.wire import (
    MAX_PAYLOAD_BYTES,
    decode_payload,
    encode_payload,
    encode_payload_image,
)
from tests.conftest import textured_image

CAPTION = (
    "One face is visible in the centre of the frame, close up. The view is almost still while "
    "something in the scene moves a little. The scene is moderately lit. Dominant colours: dark "
    "grey, grey, white."
)


def make_payload(caption: str = CAPTION, keyframes: int = 1) -> SemanticPayload:
    encoded = ThumbnailCodec().encode(textured_image(), frame_index=7)
    return SemanticPayload(
        segment_index=3,
        t0=6.006,
        duration=2.002,
        fps=30000 / 1001,
        width=320,
        height=240,
        num_frames=60,
        caption=caption,
        facts=SceneFacts(
            motion=MotionHints(dx=1.5, dy=-0.25, zoom=0.001, activity=0.8),
            camera_shake=0.5,
            subject_dx=-2.25,
            subject_share=0.125,
            moving_objects=2,
            people=1,
            faces=(FaceFact(0.25, 0.125, 0.375, 0.5),),
            talking=True,
            outdoors=True,
            brightness=0.5,
            cuts=(1.2,),
        ),
        keyframe_fec_parity=8,
        keyframes=(encoded,) * keyframes,
    )


def test_round_trip_is_exact():
    payload = make_payload()
    received = decode_payload(encode_payload(payload))
    assert received.payload == payload
    assert received.caption_ok and received.hints_ok and received.keyframes_ok == (True,)


def test_one_segment_one_keyframe_fits_in_one_kilobyte():
    image = encode_payload_image(make_payload())
    assert len(image.data) <= 1024
    assert sum(image.part_bytes.values()) == len(image.data)


def test_exposed_span_is_exactly_the_keyframe_symbols():
    payload = make_payload(keyframes=2)
    image = encode_payload_image(payload)
    assert len(image.exposed_spans) == 2
    for (offset, length), keyframe in zip(image.exposed_spans, payload.keyframes, strict=True):
        assert image.data[offset : offset + length] == keyframe.data


def test_damaged_keyframe_is_flagged_not_fatal():
    image = encode_payload_image(make_payload())
    offset, length = image.exposed_spans[0]
    damaged = bytearray(image.data)
    damaged[offset + length // 2] ^= 0x10
    received = decode_payload(bytes(damaged))
    assert received.keyframes_ok == (False,)
    assert received.caption_ok and received.hints_ok
    assert received.payload.caption == CAPTION


def test_encoder_refuses_what_the_decoder_would_reject():
    keyframe = dataclasses.replace(make_payload().keyframes[0], codec="\u00e9" * 20)  # 40 bytes
    with pytest.raises(PayloadError, match="over 32 bytes"):
        encode_payload(dataclasses.replace(make_payload(), keyframes=(keyframe,)))


def test_oversized_and_empty_rejected():
    with pytest.raises(PayloadError):
        decode_payload(b"")
    with pytest.raises(PayloadError):
        decode_payload(b"\x00" * (MAX_PAYLOAD_BYTES + 1))


def test_zip_bomb_caption_rejected():
    payload = make_payload(caption="a" * 200_000)
    with pytest.raises(PayloadError, match="caption longer"):
        decode_payload(encode_payload(payload))


def test_wrong_magic_and_version_rejected():
    good = msgpack.unpackb(encode_payload(make_payload()), raw=False)
    for index, value in ((0, b"XXXX"), (1, 99)):
        bad = list(good)
        bad[index] = value
        with pytest.raises(PayloadError):
            decode_payload(msgpack.packb(bad, use_bin_type=True))


def test_huge_segment_dimensions_rejected_before_any_allocation():
    payload = dataclasses.replace(make_payload(), width=4096, height=4096, num_frames=3600)
    with pytest.raises(PayloadError, match="too large"):
        decode_payload(encode_payload(payload))


text = st.text(max_size=300)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e6, max_value=1e6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    caption=text,
    index=st.integers(0, 2**40),
    frames=st.integers(0, 3600),
    hints=st.tuples(*[st.integers(-(10**6), 10**6)] * 4),
    flags=st.tuples(*[st.booleans()] * 4),
    data=st.binary(max_size=600),
    codec=st.text(alphabet=st.characters(codec="ascii"), max_size=32),
    grid=st.tuples(st.integers(1, 4096), st.integers(1, 4096)),
)
def test_property_round_trip(caption, index, frames, hints, flags, data, codec, grid):
    payload = SemanticPayload(
        segment_index=index,
        t0=1.5,
        duration=2.0,
        fps=25.0,
        width=320,
        height=240,
        num_frames=frames,
        caption=caption,
        facts=SceneFacts(
            motion=MotionHints(hints[0] / 100, hints[1] / 100, hints[2] / 1e5, abs(hints[3]) / 100),
            talking=flags[0],
            gesturing=flags[1],
            outdoors=flags[2],
            animation=flags[3],
        ),
        keyframes=(EncodedKeyframe(codec=codec, variant="v", grid=grid, data=data),),
    )
    assert decode_payload(encode_payload(payload)).payload == payload


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_property_random_bytes_raise_only_payload_error(blob):
    with contextlib.suppress(PayloadError):
        decode_payload(blob)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_property_bit_flipped_payload_decodes_or_raises_payload_error(data):
    wire = bytearray(encode_payload(make_payload()))
    flips = data.draw(st.lists(st.integers(0, len(wire) * 8 - 1), min_size=1, max_size=20))
    for bit in flips:
        wire[bit // 8] ^= 0x80 >> (bit % 8)
    with contextlib.suppress(PayloadError):
        decode_payload(bytes(wire))


def test_ten_thousand_random_and_bit_flipped_payloads_raise_only_payload_error():
    """The foundation issue's criterion, run deterministically: 5,000 random byte strings and
    5,000 real payloads with random bit flips (1 to 64 flips, anywhere, framing included)."""
    rng = np.random.default_rng(2026)
    wire = np.frombuffer(encode_payload(make_payload()), dtype=np.uint8)
    outcomes = {"payload_error": 0, "decoded": 0}
    for trial in range(10_000):
        if trial % 2:
            blob = rng.integers(0, 256, size=int(rng.integers(0, 1500)), dtype=np.uint8).tobytes()
        else:
            damaged = wire.copy()
            bits = rng.choice(wire.size * 8, size=int(rng.integers(1, 65)), replace=False)
            np.bitwise_xor.at(damaged, bits // 8, (0x80 >> (bits % 8)).astype(np.uint8))
            blob = damaged.tobytes()
        try:
            decode_payload(blob)
            outcomes["decoded"] += 1
        except PayloadError:
            outcomes["payload_error"] += 1
    assert sum(outcomes.values()) == 10_000
    assert outcomes["payload_error"] > 5_000  # every random blob and most damaged framings fail
