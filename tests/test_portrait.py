"""The person in a call: face shape model, face track bits, reference chunks, the sender's
portrait stage, reenactment at the receiver, and what privacy keeps from crossing."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_stream.portrait.parts import EncodedFaceTrack, ReferenceChunk
from mirage_stream.portrait.reference import (
    ReferenceAssembler,
    ReferencePicture,
    reference_bytes,
    split_reference,
)
from mirage_stream.portrait.shape import HeadPose, shipped_shape_model, similarity
from mirage_stream.portrait.track import (
    SAMPLE_BITS,
    FaceTrack,
    decode_face_track,
    encode_face_track,
    track_parameters,
)
from mirage_stream.sources.file_source import fit_frame
from mirage_stream.types import VideoSegment

ROOT = Path(__file__).resolve().parent.parent
# A test clip of the portrait set: a man talking to the camera (footage/portrait/).
TALKING = ROOT / "footage" / "portrait" / "opentalker-video-retalking" / "face-2.mp4"
OTHER_PERSON = ROOT / "footage" / "portrait" / "opentalker-video-retalking" / "face-4.mp4"


def _frames(path: Path, count: int, start: int = 0) -> np.ndarray:
    with av.open(str(path)) as container:
        frames = [
            fit_frame(frame.to_ndarray(format="rgb24"), 320, 240)
            for i, frame in zip(range(start + count), container.decode(video=0), strict=False)
            if i >= start
        ]
    return np.stack(frames)


@pytest.fixture(scope="module")
def talking() -> np.ndarray:
    return _frames(TALKING, 50)


@pytest.fixture(scope="module")
def meshes(talking):
    from mirage_stream.sender.face_mesh import FaceFollower

    follower, found, previous = FaceFollower(), [], None
    for frame in talking:
        previous = follower.next(frame, previous)
        assert previous is not None, "the face mesh loses the talking man"
        found.append(previous)
    return found


def test_similarity_recovers_a_known_rotation_scale_and_shift():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50, 3)).astype(np.float32)
    pose = HeadPose(0.2, -0.3, 0.1, 1.0, 0.0, 0.0)
    moved = (2.5 * points @ pose.rotation().T + [10, -4, 3]).astype(np.float32)
    scale, rotation, shift = similarity(points, moved)
    assert scale == pytest.approx(2.5, rel=1e-5)
    assert np.allclose(rotation, pose.rotation(), atol=1e-5)
    assert np.allclose(shift, [10, -4, 3], atol=1e-4)


def test_the_shape_model_explains_a_real_face_within_a_pixel(meshes):
    model = shipped_shape_model()
    for mesh in meshes[::10]:
        sample = model.fit(mesh.points3d, 320, 240)
        rebuilt = model.posed(sample, 320, 240)[:, :2]
        error = np.linalg.norm(rebuilt - mesh.points, axis=1).mean()
        assert error < 1.0, f"mean landmark error {error:.2f} px"
        assert abs(sample.pose.yaw) < math.radians(30)  # he faces the camera


def _track(model, meshes, step=2, missing=()):
    samples = tuple(
        None if i in missing else model.fit(meshes[f].points3d, 320, 240)
        for i, f in enumerate(range(0, len(meshes), step))
    )
    return FaceTrack(7, 0, step, samples)


def test_the_track_round_trips_within_its_quantisation(meshes):
    model = shipped_shape_model()
    track = _track(model, meshes, missing={3})
    encoded = encode_face_track(track, model)
    assert SAMPLE_BITS == 112
    assert len(encoded.data) == math.ceil(SAMPLE_BITS * len(track.samples) / 8)
    decoded = decode_face_track(encoded, model)
    assert decoded is not None and decoded.reference_id == 7 and decoded.samples[3] is None
    for sent, got in zip(track.samples, decoded.samples, strict=True):
        if sent is None:
            continue
        a = model.posed(sent, 320, 240)[:, :2]
        b = model.posed(got, 320, 240)[:, :2]
        eye = np.linalg.norm(a[33] - a[263])
        # The bits' budget costs about a hundredth of the eye distance (docs/portrait.md).
        assert np.linalg.norm(a - b, axis=1).mean() / eye < 0.03


def test_a_flipped_bit_changes_one_sample_only(meshes):
    model = shipped_shape_model()
    encoded = encode_face_track(_track(model, meshes), model)
    clean = decode_face_track(encoded, model)
    damaged = bytearray(encoded.data)
    damaged[(5 * SAMPLE_BITS + 40) // 8] ^= 0x10  # inside sample 5
    hit = decode_face_track(replace(encoded, data=bytes(damaged)), model)
    assert clean is not None and hit is not None
    changed = [i for i, (a, b) in enumerate(zip(clean.samples, hit.samples, strict=True)) if a != b]
    assert changed == [5]
    # The receiver's median over three samples takes the damaged value out again.
    values, _ = track_parameters(hit, 50)
    reference, _ = track_parameters(clean, 50)
    assert np.abs(values[10] - reference[10]).max() < np.abs(values - reference).max() + 1e-9
    assert np.allclose(values[10], reference[10], atol=0.05)


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(0, 300),
    step=st.integers(0, 5),
    data=st.binary(max_size=600),
    reference_id=st.integers(-2, 300),
)
def test_any_track_bits_decode_or_are_left_out(count, step, data, reference_id):
    model = shipped_shape_model()
    encoded = EncodedFaceTrack(reference_id, 0, step, count, data)
    track = decode_face_track(encoded, model)
    if track is not None:
        values, known = track_parameters(track, 50)
        assert values.shape[0] == 50 and known.shape == (50,)


def test_frames_nearest_a_missing_sample_have_no_face(meshes):
    model = shipped_shape_model()
    track = _track(model, meshes, missing={10, 11, 12})
    _, known = track_parameters(track, 50)
    assert not known[22] and not known[24] and known[0] and known[30]


@pytest.fixture(scope="module")
def reference_picture(talking, meshes):
    from mirage_stream.codecs.still import av1_still_within

    still, _ = av1_still_within(talking[0], 3000)
    model = shipped_shape_model()
    return ReferencePicture(3, "av1", model.fit(meshes[0].points3d, 320, 240), still)


def test_a_reference_arrives_in_chunks_in_any_order(reference_picture):
    chunks = split_reference(reference_picture, 700)
    assert len(chunks) == math.ceil(len(reference_bytes(reference_picture)) / 700) > 2
    assembler = ReferenceAssembler()
    for chunk in reversed(chunks):
        assert assembler.held is None
        assert assembler.add(chunk) is None
    assert assembler.held is not None
    held = assembler.held.picture
    assert (held.reference_id, held.still) == (3, reference_picture.still)
    assert held.face.pose.yaw == pytest.approx(reference_picture.face.pose.yaw, rel=1e-6)
    assert held.face.expression == pytest.approx(reference_picture.face.expression, rel=1e-6)
    assert assembler.held.image.shape == (240, 320, 3)


def test_a_broken_reference_leaves_the_one_held(reference_picture):
    assembler = ReferenceAssembler()
    for chunk in split_reference(reference_picture, 4096):
        assembler.add(chunk)
    held = assembler.held
    newer = replace(reference_picture, reference_id=4, still=b"\x00" * 50)
    notes = [assembler.add(chunk) for chunk in split_reference(newer, 4096)]
    assert any(notes) and assembler.held is held  # never a wrong face, never a crash
    # A chunk that disagrees with the others on their count is left out.
    parts = split_reference(replace(reference_picture, reference_id=5), 900)
    assembler.add(parts[0])
    assert assembler.add(replace(parts[1], count=parts[1].count + 1)) is not None


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(
        st.tuples(st.integers(0, 3), st.integers(-1, 5), st.integers(0, 5), st.binary(max_size=80)),
        max_size=8,
    )
)
def test_any_chunks_never_crash_the_assembler(chunks):
    assembler = ReferenceAssembler()
    for reference_id, index, count, data in chunks:
        assembler.add(ReferenceChunk(reference_id, index, count, data))
    assert assembler.held is None  # random bytes never make a picture


def test_the_wire_carries_both_parts_and_drops_a_damaged_chunk_alone(reference_picture, meshes):
    from mirage_stream.types import SceneFacts, SemanticPayload
    from mirage_stream.wire.payload import decode_payload, encode_payload_image

    model = shipped_shape_model()
    chunk = split_reference(reference_picture, 4096)[0]
    track = encode_face_track(_track(model, meshes), model)
    payload = SemanticPayload(0, 0.0, 2.0, 25.0, 320, 240, 50, "A man talks.", SceneFacts(), ())
    image = encode_payload_image(replace(payload, reference=chunk, face_track=track))
    assert image.part_bytes["reference"] > len(chunk.data)
    assert image.part_bytes["face_track"] > len(track.data)
    received = decode_payload(image.data)
    assert received.payload.reference == chunk and received.payload.face_track == track
    assert received.reference_ok and received.face_track_ok
    # A flipped byte inside the chunk's bytes: its CRC fails, the chunk is left out, the rest
    # decodes.
    at = image.data.find(chunk.data[100:140])
    damaged = bytearray(image.data)
    damaged[at + 5] ^= 0xFF
    received = decode_payload(bytes(damaged))
    assert received.payload.reference is None and not received.reference_ok
    assert received.payload.face_track == track and received.caption_ok


def test_the_sender_sends_a_reference_once_and_again_after_a_cut(talking):
    from mirage_stream.sender.portrait import PortraitSender

    sender = PortraitSender()
    first = sender.describe(VideoSegment(0, talking, 25.0, 0.0))
    assert first.new_reference and first.reference is not None
    assert first.reference.count == 1 and 1000 < len(first.reference.data) < 4096
    assert first.track is not None and len(first.track.samples) == 25
    assert all(s is not None for s in first.track.samples)
    assert first.encoded_track is not None and len(first.encoded_track.data) == 350
    again = sender.describe(VideoSegment(1, _frames(TALKING, 50, start=50), 25.0, 2.0))
    assert not again.new_reference and again.reference is None
    assert again.track is not None and again.track.reference_id == first.track.reference_id
    # Another person after a cut: a new reference, and the track is for it.
    cut = np.concatenate([talking[:20], _frames(OTHER_PERSON, 30)])
    after = sender.describe(VideoSegment(2, cut, 25.0, 4.0), cut_frames=(20,))
    assert after.new_reference and after.reference is not None
    assert after.track is not None and after.track.reference_id == after.reference.reference_id
    assert after.reference.reference_id != first.track.reference_id


def test_nothing_of_the_face_crosses_under_privacy_or_hidden_faces(talking):
    from mirage_stream.pipeline import SegmentTrace
    from mirage_stream.sender.config import SenderConfig
    from mirage_stream.sender.factory import build_sender

    segment = VideoSegment(0, talking, 25.0, 0.0)
    shown = build_sender(SenderConfig()).describe(segment, SegmentTrace(0))
    assert shown is not None and shown.reference is not None and shown.face_track is not None
    for config in (
        SenderConfig(privacy=True),
        SenderConfig(face_policy="blur"),
        SenderConfig(face_policy="mask"),
        SenderConfig(portrait=False),
    ):
        payload = build_sender(config).describe(segment, SegmentTrace(0))
        assert payload is not None
        assert payload.reference is None and payload.face_track is None, config


def _mouth_gap(frame) -> float:
    from mirage_stream.sender.face_mesh import FaceFollower

    mesh = FaceFollower().find(frame)
    assert mesh is not None
    points = mesh.points
    return float(np.linalg.norm(points[13] - points[14]) / np.linalg.norm(points[33] - points[263]))


def test_the_reenacted_face_opens_its_mouth_as_the_source_did(talking, meshes):
    from mirage_stream.portrait.reference import HeldReference
    from mirage_stream.receiver.reenact import reenact, rig_reference

    model = shipped_shape_model()
    gaps = [np.linalg.norm(m.points[13] - m.points[14]) for m in meshes]
    closed, wide = int(np.argmin(gaps)), int(np.argmax(gaps))
    picture = ReferencePicture(0, "av1", model.fit(meshes[closed].points3d, 320, 240), b"")
    rig = rig_reference(HeldReference(picture, talking[closed]), model, 320, 240)
    track = FaceTrack(0, 0, 1, (model.fit(meshes[wide].points3d, 320, 240),))
    moved = reenact(rig, track, 1, model)
    assert moved.known[0]
    source_gap, reference_gap = _mouth_gap(talking[wide]), _mouth_gap(talking[closed])
    received_gap = _mouth_gap(moved.frames[0])
    assert source_gap > reference_gap + 0.05  # the clip has an open and a closed mouth
    assert abs(received_gap - source_gap) < abs(reference_gap - source_gap) / 2
    # Far from the head the scene stays where it was (within the map's half-pixel rounding at
    # the frame's edge): nothing bends.
    corner = (slice(0, 30), slice(0, 30))
    still = np.abs(moved.frames[0][corner].astype(int) - talking[closed][corner]).mean()
    assert still < 1.0


def test_an_anonymising_receiver_shows_no_reenacted_face(talking):
    import asyncio

    from mirage_stream.link.simulated import Delivery
    from mirage_stream.pipeline import SegmentTrace
    from mirage_stream.receiver.generator_backends import build_generator
    from mirage_stream.receiver.portrait import PortraitComposer, PortraitReceiver
    from mirage_stream.receiver.profile import IdentityMode, ReceiverProfile
    from mirage_stream.receiver.receiver import DecodeStage, GenerateStage
    from mirage_stream.registry import NoOptions
    from mirage_stream.sender.config import SenderConfig
    from mirage_stream.sender.factory import build_sender
    from mirage_stream.types import LinkReport
    from mirage_stream.wire.payload import encode_payload

    segment = VideoSegment(0, talking, 25.0, 0.0)
    payload = build_sender(SenderConfig()).describe(segment, SegmentTrace(0))
    assert payload is not None
    delivery = Delivery(encode_payload(payload), LinkReport(-10.0, 0.0, 0, 0, 0, 0.0))
    outputs = {}
    for mode in (IdentityMode.KEEP, IdentityMode.ANONYMISE):
        decode = DecodeStage(portrait=PortraitReceiver())
        decoded = decode.decode(delivery, SegmentTrace(0))
        assert decoded is not None and decoded.face is not None
        generate = GenerateStage(
            build_generator("offline", NoOptions()),
            ReceiverProfile(identity=mode),
            composer=PortraitComposer(),
        )
        outputs[mode] = asyncio.run(generate.process(decoded, SegmentTrace(0))).frames
    plain = GenerateStage(
        build_generator("offline", NoOptions()), ReceiverProfile(IdentityMode.ANONYMISE)
    )
    decoded = DecodeStage().decode(delivery, SegmentTrace(0))
    assert decoded is not None and decoded.face is None  # a receiver without the portrait
    expected = asyncio.run(plain.process(decoded, SegmentTrace(0))).frames
    assert np.array_equal(outputs[IdentityMode.ANONYMISE], expected)
    assert not np.array_equal(outputs[IdentityMode.KEEP], expected)


def test_a_missing_chunk_or_a_track_for_another_reference_gives_todays_picture(
    reference_picture, meshes
):
    from mirage_stream.receiver.portrait import PortraitReceiver

    model = shipped_shape_model()
    chunks = split_reference(reference_picture, 1000)
    track = encode_face_track(replace(_track(model, meshes), reference_id=3), model)
    receiver, notes = PortraitReceiver(), []
    # Every chunk but the last: nothing held yet, so the track is not used.
    for chunk in chunks[:-1]:
        assert receiver.take(chunk, track, notes) is None
    assert any("not held yet" in note for note in notes)
    face = receiver.take(chunks[-1], track, notes)
    assert face is not None and face.reference.picture.reference_id == 3
    # A track made for the next reference (a new person, still arriving) is not used with
    # this one; a truncated track is left out.
    assert receiver.take(None, replace(track, reference_id=4), notes) is None
    assert receiver.take(None, replace(track, data=track.data[:-20]), notes) is None
    assert receiver.take(None, track, notes) is not None


@pytest.mark.slow
def test_bench_portrait_finds_the_same_person_where_the_paper_payload_does_not():
    pytest.importorskip("dlib", reason="the bench extra (dlib-bin) is not installed")
    from mirage_stream.bench.portrait import PortraitBenchConfig, bench_portrait
    from mirage_stream.run import RunConfig
    from mirage_stream.sources.config import InputConfig

    run = RunConfig(input=InputConfig(input="sample:carphone", max_seconds=2.0), out=Path("x"))
    config = PortraitBenchConfig(inputs=("portrait:retalking-2",), baselines=False, run=run)
    result = bench_portrait(config).to_json()
    clip = result["clips"][0]
    assert clip["segments"] == 1 and clip["frames"] == 50
    assert clip["reference_bytes_per_segment"] > 1000 and clip["face_track_bytes_per_segment"] > 300
    now, before = clip["schemes"]["mirage"], clip["schemes"]["mirage-no-portrait"]
    assert now["frames"] == before["frames"] == 10
    assert now["found_share"] == 1.0 and now["same_person_share"] >= 0.9
    assert now["mean_distance"] < before["mean_distance"]
    assert now["landmark_error"] < before["landmark_error"]
    assert set(result["totals"]) == {"mirage", "mirage-no-portrait"}


def test_the_portrait_set_is_the_recorded_footage_split_by_source():
    import hashlib
    import json

    data = json.loads((ROOT / "footage" / "portrait" / "portrait_set.json").read_text())
    splits: dict[str, set[str]] = {}
    for clip in data["clips"]:
        assert clip["source"] in data["sources"] and clip["split"] in ("tune", "test")
        digest = hashlib.sha256((ROOT / clip["path"]).read_bytes()).hexdigest()
        assert digest == clip["sha256"], clip["name"]
        splits.setdefault(clip["source"], set()).add(clip["split"])
    assert all(len(halves) == 1 for halves in splits.values())  # no source in both halves


def test_no_portrait_for_a_face_seen_in_a_few_frames_only():
    """The mesh's own presence score calls a patch of bikes' street a face for a fifth of the
    first segment: not a caller, so nothing is sent."""
    from mirage_stream.sender.portrait import PortraitSender
    from mirage_stream.sources import FileSource, resolve_input
    from mirage_stream.sources.config import InputConfig

    source = FileSource(resolve_input("sample:bikes"), InputConfig(input="sample:bikes").frames())
    try:
        segment = next(source.iter_segments(2.0))
    finally:
        source.close()
    # Searching every sampled frame (no gap after a miss) shows the false find this rule is for.
    sender = PortraitSender(search_gap_s=0.0)
    frames = list(range(0, segment.num_frames, sender.sample_step(segment.fps)))
    found = [m for m in sender._follow(segment, frames, {}, ()) if m is not None]
    assert 0 < len(found) < len(frames) / 2
    for searching in (PortraitSender(search_gap_s=0.0), PortraitSender()):
        part = searching.describe(segment)
        assert part.reference is None and part.track is None and part.encoded_track is None


def test_a_search_that_finds_no_face_waits_before_the_next():
    """A search is a cascade over the whole frame: after one that finds nothing the follower is
    asked again only SEARCH_GAP_S later (of video), unless the analysis found a face there."""
    from mirage_stream.sender.detectors import Box
    from mirage_stream.sender.portrait import SEARCH_GAP_S, PortraitSender

    class NoFace:
        def __init__(self) -> None:
            self.calls: list[int] = []

        def next(self, frame, previous, known=()):
            self.calls.append(int(frame[0, 0, 0]))
            return None

        def follow(self, frame, previous):
            return None

    fps, count = 25.0, 50
    frames = np.stack([np.full((8, 8, 3), i, np.uint8) for i in range(count)])
    segment = VideoSegment(0, frames, fps, 0.0)
    follower = NoFace()
    sender = PortraitSender(follower=follower)  # type: ignore[arg-type]
    sampled = list(range(0, count, sender.sample_step(fps)))
    sender._follow(segment, sampled, {20: ()}, ())
    gaps = np.diff(follower.calls) / fps
    assert follower.calls[0] == 0 and len(follower.calls) < len(sampled) / 3
    assert all(gap >= SEARCH_GAP_S for gap in gaps)
    follower.calls.clear()
    sender._follow(segment, sampled, {22: (Box(1, 1, 4, 4),)}, ())
    assert 22 in follower.calls  # a face the analysis found starts the follower at once
