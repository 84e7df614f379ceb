"""The picture the receiver has: keyframe protection chosen for the channel, a face detail
coded beside the whole frame, and both on the wire."""

import dataclasses

import numpy as np
import pytest

from channel_sim import AwgnBitChannel, ConstantSnr
from mirage_stream.codecs import make_codec
from mirage_stream.codecs.distortion_model import load_quality
from mirage_stream.compose import build_receiver_chain
from mirage_stream.errors import InputError, PayloadError
from mirage_stream.link import SimulatedLinkStage
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.receiver.regions import paste_region
from mirage_stream.records import SenderRecord
from mirage_stream.sender.airtime_adapter import LinkModel
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.detectors import Box, detect_faces
from mirage_stream.sender.factory import build_sender
from mirage_stream.sender.protection import ProtectionPolicy
from mirage_stream.sender.regions import face_region
from mirage_stream.sender.snr_tracker import SnrTracker
from mirage_stream.types import Region, VideoSegment
from mirage_stream.wire import decode_payload, encode_payload
from tests.test_wire import make_payload

# --- protection ---------------------------------------------------------------------------


def _policy(snr_db):
    tracker = SnrTracker(snr_db)
    tracker.observe(snr_db + 0.5)  # one report: the plan is this minus the 0.5 dB margin
    return ProtectionPolicy(load_quality(), LinkModel(), tracker)


def test_protection_follows_the_channel():
    choices = {snr: _policy(float(snr)).choose("vq:K256", 300, 256) for snr in range(-12, 20)}
    harsh, fair = choices[-10], choices[10]
    assert harsh.reliable and harsh.expected_loss_db == 0.0
    # At +10 dB (BER 8e-3) the damage model expects 0.4 dB of loss: no protection needed.
    assert not fair.reliable and fair.parity == 0 and 0 < fair.expected_loss_db <= 1.0
    # Below 0 dB only the reliable path keeps the keyframe; no choice loses more than 1 dB.
    assert all(choices[snr].reliable for snr in range(-12, 1))
    assert all(choice.expected_loss_db <= 1.0 for choice in choices.values())
    # Time on air falls as the SNR rises (the choice is the cheapest that is good enough).
    costs = [choices[snr].time_on_air_s for snr in range(-4, 20, 4)]
    assert costs == sorted(costs, reverse=True)
    # The policy budgets the retries of 99.5% of segments, so a plan can cost more than the
    # mean; at -10 dB and 20 MHz it stays within about 20 ms all the same.
    assert harsh.time_on_air_s < 0.025


def test_an_unmodelled_codec_is_protected_whenever_bits_would_flip():
    assert _policy(-10.0).choose("thumbnail", 300, 378).reliable
    assert not _policy(30.0).choose("thumbnail", 300, 378).reliable


def test_protected_keyframes_arrive_intact_at_minus_10_db():
    payload = dataclasses.replace(make_payload(), keyframe_fec_parity=0)
    link = SimulatedLinkStage(AwgnBitChannel(), ConstantSnr(-10.0), seed=1)
    exposed = link.transmit(payload, SegmentTrace(0))
    protected = link.transmit(
        dataclasses.replace(payload, keyframes_protected=True), SegmentTrace(1)
    )
    assert exposed.report.bit_errors > 0 and exposed.spans
    assert protected.report.bit_errors == 0 and protected.spans == ()
    assert protected.report.bits_exposed == 0
    assert protected.data is not None
    received = decode_payload(protected.data)
    assert received.keyframes_ok == (True,) and received.payload.keyframes_protected
    # The protection is paid in time on air.
    assert protected.report.time_on_air_s > exposed.report.time_on_air_s


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"keyframe_protection": "maybe"}, "--keyframe-protection"),
        ({"keyframe_fec_parity": 8}, "--keyframe-protection best-effort"),
    ],
)
def test_bad_protection_settings_are_refused(settings, message):
    with pytest.raises(InputError, match=message):
        SenderConfig(**settings)


# --- face detail ----------------------------------------------------------------------------


def test_face_region_is_a_square_grown_around_the_largest_face_inside_the_frame():
    region = face_region([Box(10, 20, 10, 10), Box(280, 200, 40, 36)], 320, 240)
    x0, y0, x1, y1 = region.pixels(320, 240)
    assert x1 - x0 == y1 - y0 == 68  # 40 px grown by 1.7
    assert x1 == 320 and y1 == 240  # moved inside the frame
    assert face_region([Box(0, 0, 8, 8)], 320, 240) is None  # too small to be worth it
    assert face_region([], 320, 240) is None


def test_paste_region_blends_the_detail_in_without_a_seam():
    base = np.zeros((240, 320, 3), np.uint8)
    region = Region(0.25, 0.25, 0.25, 1 / 3)
    x0, y0, x1, y1 = region.pixels(320, 240)
    detail = np.full((y1 - y0, x1 - x0, 3), 200, np.uint8)
    out = paste_region(base, detail, region)
    assert out[(y0 + y1) // 2, (x0 + x1) // 2, 0] == 200  # the middle is the detail
    assert out[y0, x0, 0] < 40  # the corner fades into the frame below
    assert out[:y0].max() == 0 and out[:, x1:].max() == 0  # nothing outside changes
    with pytest.raises(ValueError, match="does not fit"):
        paste_region(base, detail[:-1], region)


def test_region_round_trips_on_the_wire_and_garbage_regions_are_refused():
    payload = make_payload(keyframes=2)
    detail = dataclasses.replace(payload.keyframes[1], region=Region(0.25, 0.5, 0.25, 0.25))
    payload = dataclasses.replace(payload, keyframes=(payload.keyframes[0], detail))
    received = decode_payload(encode_payload(payload)).payload
    assert received.keyframes[1].region == Region(0.25, 0.5, 0.25, 0.25)
    assert received.keyframes[0].region is None
    with pytest.raises(ValueError, match="outside"):
        Region(0.9, 0.0, 0.2, 0.5)
    from mirage_stream.wire.payload import _region

    assert _region([512, 0, 512, 1024], "r") == Region(0.5, 0.0, 0.5, 1.0)  # to the edge
    for units in ([513, 0, 512, 10], [0, 0, 0, 10], [1, 2, 3], [-1, 0, 4, 4], ["a", 0, 1, 1]):
        with pytest.raises(PayloadError):
            _region(units, "r")


def test_the_sender_adds_the_face_and_the_receiver_lays_it_back(carphone_frames):
    segment = VideoSegment(0, np.stack(carphone_frames[:30]), 29.97, 0.0)
    with_detail = build_sender(SenderConfig(max_keyframes=1, face_detail=True), initial_snr_db=10.0)
    payload = with_detail.describe(segment, SegmentTrace(0))
    assert payload is not None and len(payload.keyframes) == 2
    whole, face = payload.keyframes
    assert whole.region is None and face.region is not None
    assert face.frame_index == whole.frame_index and face.data != whole.data
    one = {"max_keyframes": 1, "face_detail": True}
    blurred = build_sender(SenderConfig(**one, face_policy="blur")).describe(
        segment, SegmentTrace(0)
    )
    plain = build_sender(SenderConfig(max_keyframes=1)).describe(segment, SegmentTrace(0))
    assert len(blurred.keyframes) == len(plain.keyframes) == 1

    receiver = build_receiver_chain(ReceiverConfig())
    clean = dataclasses.replace(payload, keyframe_fec_parity=0, keyframes_protected=True)
    link = SimulatedLinkStage(AwgnBitChannel(), ConstantSnr(30.0))
    composed = receiver.decode.decode(link.transmit(clean, SegmentTrace(0)), SegmentTrace(0))
    without = receiver.decode.decode(
        link.transmit(dataclasses.replace(clean, keyframes=(whole,)), SegmentTrace(1)),
        SegmentTrace(1),
    )
    source = segment.frames[whole.frame_index]
    x0, y0, x1, y1 = face.region.pixels(320, 240)

    def face_error(decoded):
        image = decoded.keyframes[0][1]
        return float(np.mean((image[y0:y1, x0:x1].astype(float) - source[y0:y1, x0:x1]) ** 2))

    # The face is closer to the source with its detail, and the face detector finds it there.
    assert face_error(composed) < 0.7 * face_error(without)
    assert detect_faces(composed.keyframes[0][1], work_width=320)


def test_a_damaged_face_detail_is_left_out():
    payload = make_payload(keyframes=2)
    codec = make_codec("thumbnail")
    detail = dataclasses.replace(
        codec.encode(np.zeros((60, 60, 3), np.uint8), 7), region=Region(0.5, 0.5, 0.25, 0.25)
    )
    payload = dataclasses.replace(payload, keyframes=(payload.keyframes[0], detail))
    data = bytearray(encode_payload(payload))
    data[data.index(detail.data) + 3] ^= 0xFF
    from mirage_stream.link import Delivery
    from mirage_stream.types import LinkReport

    receiver = build_receiver_chain(ReceiverConfig())
    delivery = Delivery(bytes(data), LinkReport(10.0, 0.0, 0, 0, 0, 0.0))
    decoded = receiver.decode.decode(delivery, SegmentTrace(0))
    assert any("face detail damaged" in note for note in decoded.notes)
    assert not decoded.keyframe_damaged


def test_face_detection_is_safe_from_several_threads_at_once(carphone_frames):
    """The player checks faces while the sender analyses the next segment: OpenCV detectors
    shared between threads crashed the process; each thread now has its own."""
    from concurrent.futures import ThreadPoolExecutor

    def detect_all(_):
        return [len(detect_faces(frame, work_width=320)) for frame in carphone_frames[:20]]

    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(detect_all, range(8)))
    assert all(found == counts[0] for found in counts) and sum(counts[0]) > 0


def test_a_keyframe_whose_face_does_not_survive_coding_is_swapped_for_a_neighbour():
    from mirage_stream.sender.config import SenderConfig
    from mirage_stream.sender.detectors import detect_faces
    from mirage_stream.sender.factory import build_sender
    from mirage_stream.sources import FileSource, SourceConfig, sample_path

    source = FileSource(sample_path("carphone"), SourceConfig())
    try:
        segment = next(source.iter_segments(2.0))
    finally:
        source.close()
    sender = build_sender(SenderConfig(max_keyframes=1, keyframe_protection="best-effort"))
    first = sender.describe(segment, SegmentTrace(index=0))
    chosen = first.keyframes[0].frame_index
    assert detect_faces(segment.frames[chosen], work_width=segment.width)
    real = sender.codec("vq")

    class FaceLosingCodec:
        """The real codec, except that the chosen frame decodes to a flat grey picture."""

        name, variant = real.name, real.variant

        def encode(self, image, frame_index=0):
            return real.encode(image, frame_index)

        def decode(self, encoded, size, damaged=False):
            if encoded.frame_index == chosen:
                return np.full((size[1], size[0], 3), 128, np.uint8)
            return real.decode(encoded, size, damaged)

        def damaged_symbols(self, bit_offsets):
            return real.damaged_symbols(bit_offsets)

        def payload_bytes(self):
            return real.payload_bytes()

    sender = build_sender(SenderConfig(max_keyframes=1, keyframe_protection="best-effort"))
    sender._codecs["vq"] = FaceLosingCodec()
    trace = SegmentTrace(index=0)
    payload = sender.describe(segment, trace)
    (sent,) = payload.keyframes
    assert sent.frame_index != chosen and abs(sent.frame_index - chosen) <= 6
    assert trace.record(SenderRecord).keyframe_indices == (sent.frame_index,)
