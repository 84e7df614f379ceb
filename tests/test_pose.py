"""Bodies from MoveNet MultiPose: the shipped model on real footage from outside the project,
the decoding of its output, posture from keypoints, and how bodies join the object detector's
people (a lower bound when only bodies show someone)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mirage_stream.bench.real_footage import footage_frames, load_real_set
from mirage_stream.sender.objects import Detection
from mirage_stream.sender.people_count import people_from_detections
from mirage_stream.sender.pose import (
    MIN_PERSON_SCORE,
    POSE_DETECTORS,
    MoveNetMultiPose,
    NoPoseDetector,
    Pose,
    bodies_worth_finding,
    input_size,
    pose_frames,
    poses_from_output,
    posture,
    seated,
)
from mirage_stream.sender.sightings import follow, merge_people


def _working_frame(name: str, index: int) -> np.ndarray:
    clip = next(clip for clip in load_real_set() if clip.name == name)
    frame = next(f for i, f in enumerate(footage_frames(clip)) if i == index)
    return cv2.resize(frame, (320, 240), interpolation=cv2.INTER_AREA)


def test_the_shipped_model_finds_bodies_the_object_detector_misses_and_none_in_an_empty_room():
    detector = MoveNetMultiPose()
    # Two heads and shoulders against a wall, three people side by side: the SSD finds none of
    # them; the third of the three scores just under the threshold in most frames.
    assert len(detector.detect(_working_frame("two-heads", 20))) == 2
    assert len(detector.detect(_working_frame("corridor-three", 30))) in (2, 3)
    assert detector.detect(_working_frame("one-by-one-empty", 10)) == []
    standing = detector.detect(_working_frame("one-by-one-2", 30))
    assert [posture(p) for p in standing] == ["standing"]
    assert all(p.score >= MIN_PERSON_SCORE for p in standing)


def test_input_keeps_the_frames_shape_in_multiples_of_32():
    assert input_size(320, 240) == (256, 192, 0.8)
    assert input_size(240, 320) == (192, 256, 0.8)
    assert input_size(1920, 1080)[:2] == (256, 160)  # 144 rounded up


def test_output_decoding_undoes_the_padding():
    row = np.zeros(56, np.float32)
    row[:51] = np.tile([0.3, 0.5, 0.9], 17)  # every keypoint at y 0.3, x 0.5 of the input
    row[51:56] = [0.1, 0.25, 0.6, 0.75, 0.8]  # box ymin, xmin, ymax, xmax; score
    weak = row.copy()
    weak[55] = MIN_PERSON_SCORE - 0.01
    # The frame fills the input's whole width and three quarters of its height.
    (pose,) = poses_from_output(np.stack([row, weak]), 1.0, 4 / 3)
    assert pose.keypoints[0] == pytest.approx((0.5, 0.4, 0.9), abs=1e-6)
    box = pose.box
    assert (box.x, box.y, box.width, box.height) == pytest.approx((0.25, 0.4 / 3, 0.5, 2 / 3))


def _pose(points: dict[int, tuple[float, float]], score: float = 0.9) -> Pose:
    keypoints = tuple((*points[i], score) if i in points else (0.0, 0.0, 0.0) for i in range(17))
    return Pose(0.6, Detection("person", 0.6, 0.3, 0.1, 0.3, 0.8), keypoints)


_UPPER = {5: (0.45, 0.2), 6: (0.55, 0.2), 11: (0.46, 0.45), 12: (0.54, 0.45)}


@pytest.mark.parametrize(
    ("legs", "expected"),
    [
        # Straight legs under the hips.
        ({13: (0.46, 0.65), 14: (0.54, 0.65), 15: (0.46, 0.85), 16: (0.54, 0.85)}, "standing"),
        # Thighs flat (seen from the side), shins down.
        ({13: (0.66, 0.47), 14: (0.72, 0.48), 15: (0.66, 0.68), 16: (0.72, 0.68)}, "sitting"),
        # Thighs pointing at the camera: short on screen above full shins.
        ({13: (0.46, 0.52), 14: (0.54, 0.52), 15: (0.46, 0.72), 16: (0.54, 0.72)}, "sitting"),
        # No knees in view (a table hides them): nothing to tell.
        ({}, ""),
    ],
)
def test_posture_from_the_legs(legs, expected):
    assert posture(_pose({**_UPPER, **legs})) == expected


def test_unsure_keypoints_are_not_legs():
    legs = {13: (0.46, 0.65), 14: (0.54, 0.65), 15: (0.46, 0.85), 16: (0.54, 0.85)}
    assert posture(_pose({**_UPPER, **legs}, score=0.3)) == ""


def test_everyone_must_sit_in_both_frames_for_a_sitting_claim():
    sitting = _pose(
        {**_UPPER, 13: (0.66, 0.47), 14: (0.72, 0.48), 15: (0.66, 0.68), 16: (0.72, 0.68)}
    )
    standing = _pose(
        {**_UPPER, 13: (0.46, 0.65), 14: (0.54, 0.65), 15: (0.46, 0.85), 16: (0.54, 0.85)}
    )
    assert seated([[sitting], [sitting]], people=1)
    assert not seated([[sitting]], people=1)  # one frame is not confirmation
    assert not seated([[sitting], [sitting, standing]], people=1)
    assert not seated([[sitting], [sitting]], people=2)


def _person(x: float, y: float, w: float, h: float) -> Detection:
    return Detection("person", 0.5, x, y, w, h)


def test_bodies_join_the_detectors_people():
    one = _person(0.1, 0.2, 0.2, 0.6)
    group = _person(0.3, 0.2, 0.6, 0.7)  # one box around two people side by side
    left, right = _person(0.32, 0.2, 0.25, 0.7), _person(0.62, 0.2, 0.25, 0.7)
    same = _person(0.11, 0.21, 0.2, 0.58)
    merged = merge_people([one, group], [same, left, right])
    assert merged == [one, left, right]  # the detector's box kept, the group split
    head = _person(0.15, 0.22, 0.1, 0.12)  # a body found around the head only: the same person
    assert merge_people([one], [head]) == [one]
    chair = Detection("chair", 0.5, 0.3, 0.5, 0.2, 0.3)
    assert merge_people([chair], [left]) == [chair, left]


def test_a_count_that_needs_bodies_is_a_lower_bound():
    detected = [(i, [_person(0.1, 0.1, 0.3, 0.8)]) for i in range(0, 60, 12)]
    extra = _person(0.6, 0.1, 0.3, 0.8)
    with_bodies = follow(detected, {12: [extra], 36: [extra]})
    assert with_bodies.confirmed("person") == 2 and with_bodies.rests_on_bodies()
    count = people_from_detections(0, with_bodies, 25.0, camera_still=True)
    assert (count.count, count.at_least) == (2, True)
    alone = follow(detected, {12: [], 36: []})
    assert not alone.rests_on_bodies()
    assert people_from_detections(0, alone, 25.0, camera_still=True).at_least is False


def test_the_model_runs_only_where_it_could_change_a_claim():
    def seen(*boxes_per_frame: list[Detection]):
        return follow([(12 * i, list(found)) for i, found in enumerate(boxes_per_frame)])

    signer = seen(*[[_person(0.3, 0.1, 0.4, 0.9)]] * 5)
    assert not bodies_worth_finding(signer, faces=1, fps=25.0)  # legs cut, one face, one person
    assert bodies_worth_finding(signer, faces=2, fps=25.0)  # someone missed or merged
    assert bodies_worth_finding(seen([], []), faces=1, fps=25.0)
    assert not bodies_worth_finding(seen([], []), faces=0, fps=25.0)  # nobody at all
    standing = seen(*[[_person(0.3, 0.1, 0.2, 0.7)]] * 5)
    assert bodies_worth_finding(standing, faces=0, fps=25.0)  # sits or stands: the legs tell
    walker = seen(*[[_person(0.1 + 0.15 * i, 0.1, 0.2, 0.7)] for i in range(5)])
    assert not bodies_worth_finding(walker, faces=0, fps=25.0)  # told as walking, not posture
    assert pose_frames([0, 10, 20, 30, 40, 50]) == [10, 40]


def test_pose_detectors_by_name():
    assert POSE_DETECTORS.names() == ["movenet-multipose", "none"]
    assert NoPoseDetector().detect(np.zeros((8, 8, 3), np.uint8)) == []
