"""The motion track: landmarks found at the sender, carried in the hints, followed by the
receiver's warp, and left out (never a crash) when damaged."""

from __future__ import annotations

import numpy as np
import pytest

from mirage_stream.codecs.distortion_model import load_quality
from mirage_stream.motion_track import MotionTrack, PointKind, TrackedPoint
from mirage_stream.receiver.landmark_warp import follow_track
from mirage_stream.sender.airtime_adapter import AirtimeRateAdapter, LinkModel
from mirage_stream.sender.hands import Palm
from mirage_stream.sender.motion_track import FACE_LANDMARKS, LandmarkTracker, _hand_points
from mirage_stream.timing import KeyframeTiming
from mirage_stream.types import FactConfidence, SceneFacts
from mirage_stream.wire.facts import pack_facts, unpack_facts
from mirage_stream.wire.track_bits import GRID, pack_track, unpack_track


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _track() -> MotionTrack:
    face = TrackedPoint(
        PointKind.FACE, 0.1, ((0.5, 0.4), (0.52, 0.41), None, (0.56, 0.43), (0.9, 0.1))
    )
    hand = TrackedPoint(PointKind.HAND, 0.05, (None, (0.2, 0.8), (0.7, 0.3), None, (0.25, 0.8)))
    return MotionTrack((0, 12, 24, 36, 49), (face, hand))


def test_a_track_travels_within_a_grid_step_and_a_far_jump_is_caught_up_not_lost():
    sent = _track()
    received = unpack_track(list(sent.sample_frames), pack_track(sent))
    assert received is not None and received.sample_frames == sent.sample_frames
    for before, after in zip(sent.points, received.points, strict=True):
        assert after.kind is before.kind and after.reach == pytest.approx(before.reach, abs=1 / 64)
        for p, q in zip(before.positions[:4], after.positions[:4], strict=True):
            assert (p is None) == (q is None)
            if p and q:
                assert np.allclose(p, q, atol=0.5 / GRID + 1e-9)
    # The face's last step (0.56 -> 0.9) is more than one 6-bit step can say: it arrives
    # clamped, short of the truth, but the closed loop keeps every earlier position exact.
    assert received.points[0].positions[4] is not None
    assert received.points[0].positions[4][0] == pytest.approx(0.56 + 31 / GRID, abs=1 / GRID)
    # A hand travels whole at every sighting, so its jump arrives as it was.
    assert received.points[1].positions[4] == pytest.approx((0.25, 0.8), abs=0.5 / GRID)
    # Six face landmarks and two hands over six samples: a few hundred bits.
    six = MotionTrack(
        tuple(range(0, 60, 10)),
        tuple(TrackedPoint(PointKind.FACE, 0.1, ((0.5, 0.5),) * 6) for _ in FACE_LANDMARKS)
        + tuple(TrackedPoint(PointKind.HAND, 0.05, ((0.3, 0.6),) * 6) for _ in range(2)),
    )
    assert 8 * len(pack_track(six)) <= 800


def test_damaged_or_truncated_track_bits_make_no_track_or_a_valid_one_never_an_error():
    data = pack_track(_track())
    rng = np.random.default_rng(0)
    assert unpack_track([0, 12, 24, 36, 49], data[: len(data) // 2]) is None
    for _ in range(300):
        noisy = bytes(rng.integers(0, 256, size=rng.integers(0, 40), dtype=np.uint8))
        track = unpack_track([0, 12, 24, 36, 49], noisy)
        assert track is None or all(
            0 <= c <= 1 for p in track.points for pos in p.positions if pos for c in pos
        )


def test_the_hints_carry_the_track_and_keep_walking_and_confidence_beside_timing():
    facts = SceneFacts(
        people=1,
        walking="left",
        confidence=FactConfidence(people=0.9, walking=0.7),
        keyframe_timing=(KeyframeTiming(0, 40, (0.0,) * 7),),
        motion_track=_track(),
    )
    back = unpack_facts(pack_facts(facts), _require)
    assert back.walking == "left" and back.confidence.walking == pytest.approx(0.7)
    assert back.motion_track is not None and len(back.motion_track.points) == 2
    no_timing = unpack_facts(pack_facts(SceneFacts(motion_track=_track())), _require)
    assert no_timing.motion_track is not None and no_timing.keyframe_timing == ()
    broken = pack_facts(facts)
    broken[18] = [[5, 3], b"\x00"]  # sample frames that do not increase
    kept = unpack_facts(broken, _require)
    assert kept.motion_track is None and kept.walking == "left"
    assert unpack_facts(pack_facts(SceneFacts()), _require).motion_track is None


def test_a_position_between_samples_is_interpolated_and_a_missed_sample_says_unknown():
    track = _track()
    face, hand = track.points
    assert track.position(face, 6) == pytest.approx((0.51, 0.405))
    assert track.position(face, 26) is None  # sample 24, the nearest, missed it
    assert track.position(face, 33) == pytest.approx((0.56, 0.43))  # held from sample 36
    assert track.position(hand, 5) is None  # sample 0, the nearest, missed it
    assert track.position(hand, 18) == pytest.approx((0.45, 0.55))


def test_the_warp_moves_a_held_keyframe_with_its_landmark_and_nothing_else():
    height, width, count = 48, 64, 10
    keyframe = np.full((height, width, 3), 60, np.uint8)
    keyframe[20:28, 20:28] = 220  # a bright square centred at (24, 24)
    frames = np.stack([keyframe] * count)
    frames[9] = 0  # a frame the generator morphed: not a held keyframe, left alone
    point = TrackedPoint(
        PointKind.FACE, 0.12, ((24 / width, 24 / height), (34 / width, 24 / height))
    )
    track = MotionTrack((0, 8), (point,))
    changed = follow_track(frames, [(0, keyframe)], track)
    assert changed == 8  # frames 1..8; frame 0 is the keyframe at its own time
    assert np.array_equal(frames[0], keyframe) and np.all(frames[9] == 0)
    # The square followed its landmark 10 px right (stretched: the move is longer than the
    # landmark's reach of 7.7 px, so the picture behind it follows less far).
    assert keyframe[24, 34, 0] < 100 < frames[8, 24, 34, 0]
    assert np.nonzero(frames[8, 24, :, 0] > 140)[0].mean() >= 27
    assert np.array_equal(frames[8, :, 55:], keyframe[:, 55:])  # far away: untouched
    # Between two keyframes the pictures say where things went: no warp there.
    between = np.stack([keyframe] * count)
    assert follow_track(between, [(0, keyframe), (9, keyframe)], track) == 0


def test_the_sender_tracks_the_face_of_a_real_person(carphone_frames):
    track = LandmarkTracker().track(carphone_frames, [0, 10, 20, 29], [[], [], [], []])
    assert track is not None
    faces = [p for p in track.points if p.kind is PointKind.FACE]
    assert len(faces) == len(FACE_LANDMARKS)
    assert all(p.seen >= 3 for p in faces)
    nose, chin = faces[0], faces[1]
    for a, b in zip(nose.positions, chin.positions, strict=True):
        if a and b:
            assert b[1] > a[1]  # the chin is below the nose


def test_palms_keep_their_identity_across_samples():
    left, right = Palm(0.9, 0.2, 0.6, 0.08), Palm(0.9, 0.8, 0.6, 0.08)
    moved_left = Palm(0.9, 0.25, 0.55, 0.08)
    points = _hand_points([[left, right], [right, moved_left], [], [left]])
    assert len(points) == 2
    first, second = points
    assert first.positions[1] == (0.25, 0.55) and second.positions[1] == (0.8, 0.6)
    assert first.positions[2] is None and first.positions[3] == (0.2, 0.6)


def test_the_rate_adapter_leaves_the_track_out_when_the_budget_has_no_room():
    roomy = AirtimeRateAdapter(load_quality(), budget_s=0.05, link=LinkModel(), initial_snr_db=10)
    assert roomy.plan().motion_track
    tight = AirtimeRateAdapter(load_quality(), budget_s=1e-4, link=LinkModel(), initial_snr_db=-10)
    assert not tight.plan().motion_track


def test_the_track_comparison_shows_the_frame_the_track_changed_most_and_sums_each_side():
    from mirage_stream.bench.picture import PictureRow, _Shown, _summary, _track_line

    sources = np.zeros((5, 4, 4, 3), np.uint8)
    without = np.zeros((5, 4, 4, 3), np.uint8)
    with_track = without.copy()
    with_track[3] = 90  # the track moved the picture in frame 3 only
    line = _track_line(
        "real:asl-help",
        -10.0,
        _Shown(sources=sources, frames=without),
        _Shown(sources=sources, frames=with_track),
    )
    assert line[0][0] == "asl-help: source, frame 3"
    assert np.array_equal(line[2][1], with_track[3])
    rows = [
        PictureRow(
            *("real:asl-help", -10.0, 30.0, 29.0, gain, 0.0, 1.0, 800.0, 4.0, 4.0, 8.0, 1.0, 0, 2),
            motion_track=track,
        )
        for track, gain in ((False, 0.1), (True, 0.4), (False, -0.2), (True, 0.2))
    ]
    summary = _summary(rows)
    assert summary["-10 without track"].runs_below_hold == 1
    assert summary["-10 with track"].mean_above_hold_db == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("settings", "tracked"),
    [
        ({"portrait": False}, True),
        ({"portrait": False, "motion_track": False}, False),
        ({"portrait": False, "face_policy": "blur"}, False),
        ({}, False),  # the face track of the portrait stands in for it
    ],
)
def test_the_sender_sends_a_track_without_the_portrait_and_none_when_asked_or_hidden(
    carphone_frames, settings, tracked
):
    from mirage_stream.pipeline import SegmentTrace
    from mirage_stream.sender.config import SenderConfig
    from mirage_stream.sender.factory import build_sender
    from mirage_stream.types import VideoSegment
    from mirage_stream.wire.payload import decode_payload, encode_payload

    sender = build_sender(SenderConfig(**settings))
    segment = VideoSegment(index=0, frames=carphone_frames, fps=25.0, t0=0.0)
    payload = sender.describe(segment, SegmentTrace(0))
    assert payload is not None
    track = decode_payload(encode_payload(payload)).payload.facts.motion_track
    assert (track is not None) == tracked
    if track is not None:
        assert any(p.kind is PointKind.FACE for p in track.points)
