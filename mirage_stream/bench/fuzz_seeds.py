"""The real inputs ``bench fuzz`` starts from: payloads (with and without keyframes, and with
the caller's reference picture and face track), live messages and an offer."""

from __future__ import annotations

from typing import Any


def payload_seeds() -> list[bytes]:
    from mirage_stream.types import EncodedKeyframe, Region, SceneFacts, SemanticPayload
    from mirage_stream.wire import encode_payload

    whole = EncodedKeyframe("vq", "K1024@128x96", (12, 16), bytes(range(240)), frame_index=10)
    face = EncodedKeyframe(
        "vq",
        "K1024@128x96",
        (12, 16),
        bytes(240),
        frame_index=10,
        region=Region(0.3, 0.2, 0.4, 0.5),
    )
    seeds = []
    for keyframes, protected in (((), False), ((whole,), False), ((whole, face), True)):
        payload = SemanticPayload(
            segment_index=3,
            t0=6.0,
            duration=2.0,
            fps=25.0,
            width=320,
            height=240,
            num_frames=50,
            caption="One person is in view. The person talks.",
            facts=SceneFacts(),
            keyframes=keyframes,
            keyframe_fec_parity=8,
            keyframes_protected=protected,
        )
        seeds.append(encode_payload(payload))
    seeds.append(encode_payload(_with_portrait(payload)))
    return seeds


# A 32x32 grey picture as SVT-AV1 codes it at CRF 50 (codecs.still.encode_av1_still): written
# out, since a chunk runs under an address-space cap that SVT-AV1's encoder does not fit.
_GREY_AV1_STILL = bytes.fromhex("12000a0a0000000227fe357c8020320e1000bd8049220808001001aee380")


def _with_portrait(payload: Any) -> Any:
    """``payload`` carrying the whole of a small reference picture and a face track."""
    from dataclasses import replace

    from mirage_stream.portrait.reference import ReferencePicture, split_reference
    from mirage_stream.portrait.shape import FaceSample, HeadPose, shipped_shape_model
    from mirage_stream.portrait.track import FaceTrack, encode_face_track

    face = FaceSample(HeadPose(0.0, 0.1, 0.0, 0.15, 0.5, 0.45), (0.0,) * 16)
    chunk = split_reference(ReferencePicture(2, "av1", face, _GREY_AV1_STILL), 4096)[0]
    track = encode_face_track(FaceTrack(2, 0, 2, (face, None, face)), shipped_shape_model())
    return replace(payload, reference=chunk, face_track=track)


def message_seeds() -> list[bytes]:
    from mirage_stream.live.messages import (
        FeedbackMessage,
        KeyframeChunk,
        SegmentMessage,
        encode_message,
    )

    segment = SegmentMessage(
        index=4,
        protected=bytes(300),
        spans=((10, 200),),
        chunks=1,
        captured_at=1e9,
        snr_db=-10.0,
        ber=0.114,
        time_on_air_s=0.017,
        bit_errors=12,
        delivered=True,
        sender_stage_ms=(("caption", 12.5),),
    )
    return [
        encode_message(segment),
        encode_message(KeyframeChunk(4, 0, 1, bytes(200))),
        encode_message(FeedbackMessage(4, -9.5, True, False)),
    ]


OFFER_SDP = (
    "v=0\r\no=- 3912 3912 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "a=msid-semantic:WMS *\r\nm=application 9 DTLS/SCTP 5000\r\nc=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\na=sctpmap:5000 webrtc-datachannel 65535\r\na=max-message-size:65536\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 "
    + ":".join(["AB"] * 32)
    + "\r\na=setup:actpass\r\n"
)
