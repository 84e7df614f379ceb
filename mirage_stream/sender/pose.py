"""People's bodies from MoveNet MultiPose (``models/README.md``: source, licence, checksum): up
to six people a frame, each with 17 keypoints and how sure the model is of each, under LiteRT.

The poses are evidence twice: a body the object detector missed (two heads against a wall, three
people side by side whose boxes merge) is a person in view, and the legs tell sitting from
standing. Only keypoints the model is sure of count: for someone cut by the frame's edge the
model still guesses legs, with low scores.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.registry import Registry
from mirage_stream.sender.objects import Detection
from mirage_stream.sender.shipped_model import ShippedModel
from mirage_stream.sender.sightings import Sightings, people_stay
from mirage_stream.types import FrameArray

MODEL_FILE = "movenet_multipose_fp16.tflite"
MODEL_SHA256 = "998fa9473b80f28e9012703af3e618f59616c9faabee51260fb4f9cb2967f2d0"
# The model's published input is 256 on the longer side; the graph takes any multiple of 32, so
# a 4:3 frame runs at 256x192 instead of being padded to a square (a quarter less work).
_LONG_SIDE = 256
_STRIDE = 32
# Chosen on the tune sources of the real-footage set at the working size: the people there the
# object detector misses score 0.43-0.55, false bodies (a bottle on a belt) up to 0.36;
# keypoints of legs hidden behind tables score up to 0.43, legs in view 0.5-0.86.
MIN_PERSON_SCORE = 0.4
MIN_KEYPOINT_SCORE = 0.45  # a keypoint surer than this is in view

# COCO keypoint order, as MoveNet gives it.
SHOULDERS = (5, 6)
HIPS = (11, 12)
KNEES = (13, 14)
ANKLES = (15, 16)


@dataclass(frozen=True)
class Pose:
    """One body: the model's score, its box and 17 keypoints (x, y as fractions of the frame,
    score), in COCO order."""

    score: float
    box: Detection
    keypoints: tuple[tuple[float, float, float], ...]

    def seen(self, index: int) -> tuple[float, float] | None:
        x, y, score = self.keypoints[index]
        return (x, y) if score >= MIN_KEYPOINT_SCORE else None


class PoseDetector(Protocol):
    @property
    def name(self) -> str: ...

    def detect(self, frame: FrameArray) -> list[Pose]: ...


class NoPoseDetector:
    """Finds no bodies: no posture claim rests on it."""

    name = "none"

    def detect(self, frame: FrameArray) -> list[Pose]:
        return []


def input_size(width: int, height: int) -> tuple[int, int, float]:
    """(input width, input height, scale): the frame scaled so its longer side is 256, padded
    up to multiples of 32."""
    scale = _LONG_SIDE / max(width, height)

    def padded(side: int) -> int:
        return max(_STRIDE, math.ceil(side * scale / _STRIDE) * _STRIDE)

    return padded(width), padded(height), scale


def poses_from_output(output: npt.NDArray[np.float32], sx: float, sy: float) -> list[Pose]:
    """MoveNet MultiPose's output (6 rows: 17 x (y, x, score), then the box's ymin, xmin,
    ymax, xmax and the person's score, all fractions of the input) -> poses in fractions of the
    frame, which fills ``1 / sx`` of the input's width and ``1 / sy`` of its height from the
    top left corner."""
    poses = []
    for row in output:
        score = float(row[55])
        if score < MIN_PERSON_SCORE:
            continue
        points = row[:51].reshape(17, 3)
        keypoints = tuple((float(x) * sx, float(y) * sy, float(s)) for y, x, s in points.tolist())
        top, left, bottom, right = (float(v) for v in row[51:55])
        left, top = max(0.0, left * sx), max(0.0, top * sy)
        right, bottom = min(1.0, right * sx), min(1.0, bottom * sy)
        if right <= left or bottom <= top:
            continue
        box = Detection("person", round(score, 3), left, top, right - left, bottom - top)
        poses.append(Pose(round(score, 3), box, keypoints))
    return poses


class MoveNetMultiPose:
    """MoveNet MultiPose Lightning; one LiteRT interpreter per thread."""

    name = "movenet-multipose"

    def __init__(self) -> None:
        self._model = ShippedModel(MODEL_FILE, MODEL_SHA256)

    def detect(self, frame: FrameArray) -> list[Pose]:
        height, width = frame.shape[:2]
        in_width, in_height, scale = input_size(width, height)
        scaled_width, scaled_height = round(width * scale), round(height * scale)
        tensor = np.zeros((1, in_height, in_width, 3), np.int32)
        tensor[0, :scaled_height, :scaled_width] = cv2.resize(
            frame, (scaled_width, scaled_height), interpolation=cv2.INTER_AREA
        )
        interpreter = self._model.interpreter()
        entry = interpreter.get_input_details()[0]
        if tuple(entry["shape"][1:3]) != (in_height, in_width):
            # The graph's input is dynamic: sized once per interpreter and frame size.
            interpreter.resize_tensor_input(entry["index"], [1, in_height, in_width, 3])
            interpreter.allocate_tensors()
        interpreter.set_tensor(entry["index"], tensor)
        interpreter.invoke()
        output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
        return poses_from_output(output, in_width / scaled_width, in_height / scaled_height)


# A thigh seen this flat (its rise over its length) is a seated one, and a thigh shorter than
# this share of the torso, above a shin of normal length, is one pointing at the camera: also
# seated. Standing legs run down: hip, knee and ankle in order, the leg's drop at least
# this share of its length.
_FLAT_THIGH = 0.5
_SHORT_THIGH = 0.4
_FULL_SHIN = 0.5
_STRAIGHT_LEG = 0.85


def posture(pose: Pose) -> str:
    """ "sitting", "standing" or "" (the legs not seen well enough to tell), from the side of
    the body whose hip, knee and ankle (or hip and knee, for a seated thigh) are in view."""
    shoulders = [p for i in SHOULDERS if (p := pose.seen(i))]
    hips = [p for i in HIPS if (p := pose.seen(i))]
    if not shoulders or not hips:
        return ""
    torso = math.dist(np.mean(shoulders, axis=0), np.mean(hips, axis=0))
    if torso <= 0:
        return ""
    verdicts = set()
    for hip_i, knee_i, ankle_i in zip(HIPS, KNEES, ANKLES, strict=True):
        hip, knee, ankle = pose.seen(hip_i), pose.seen(knee_i), pose.seen(ankle_i)
        if hip is None or knee is None:
            continue
        thigh = math.dist(hip, knee)
        if thigh >= 0.3 * torso and abs(knee[1] - hip[1]) <= _FLAT_THIGH * thigh:
            verdicts.add("sitting")
            continue
        if ankle is None or not hip[1] < knee[1] < ankle[1]:
            continue
        shin = math.dist(knee, ankle)
        if thigh < _SHORT_THIGH * torso and shin >= _FULL_SHIN * torso:
            verdicts.add("sitting")
        elif (ankle[1] - hip[1]) >= _STRAIGHT_LEG * (thigh + shin):
            verdicts.add("standing")
    return verdicts.pop() if len(verdicts) == 1 else ""


def pose_frames(sampled: Sequence[int]) -> list[int]:
    """The two sampled frames the pose model runs on, a quarter and three quarters through
    (two, so that a body is confirmed as objects are; the model costs twice the object
    detector's time, so not on every sampled frame)."""
    if len(sampled) <= 2:
        return list(sampled)
    return sorted({sampled[len(sampled) // 4], sampled[(3 * len(sampled)) // 4]})


# A person box ending this close to the frame's bottom has its legs cut: no posture to read.
_LEGS_CUT = 0.97


def bodies_worth_finding(sightings: Sightings, faces: int, fps: float) -> bool:
    """Whether the pose model could change a claim, from what the object detector found in the
    sampled frames: more faces (in any one candidate frame) than detected people (someone
    missed, or people side by side in one box), a people count that changes from frame to
    frame, or people who all stay in place with their legs perhaps in view (whether they sit
    or stand; someone walking is told as walking). Otherwise it is not run: it costs twice the
    object detector's time."""
    counts = set(sightings.counts.get("person", ())) or {0}
    if faces > max(counts) or len(counts) > 1:
        return True
    people = [d for _, d in sightings.detections if d.kind == "person"]
    legs = any(d.y + d.height < _LEGS_CUT for d in people)
    return legs and people_stay(sightings, fps)


def find_bodies(
    detector: PoseDetector,
    frames: Sequence[FrameArray] | npt.NDArray[np.uint8],
    sightings: Sightings,
    faces: int,
    fps: float,
) -> dict[int, list[Pose]]:
    """The poses in two of the sampled frames, when worth finding (else none)."""
    if not bodies_worth_finding(sightings, faces, fps):
        return {}
    return {i: detector.detect(frames[i]) for i in pose_frames(sightings.sampled)}


def seated(per_frame: Sequence[Sequence[Pose]], people: int) -> bool:
    """Everyone sits: in every pose frame (two at least) ``people`` or more bodies sit and no
    body's legs say otherwise."""
    if len(per_frame) < 2 or people < 1:
        return False
    for poses in per_frame:
        postures = [posture(pose) for pose in poses]
        if "standing" in postures or postures.count("sitting") < people:
            return False
    return True


def someone_sits(per_frame: Sequence[Sequence[Pose]]) -> bool:
    return any(posture(pose) == "sitting" for poses in per_frame for pose in poses)


POSE_DETECTORS: Registry[Callable[[], PoseDetector]] = Registry("pose detector", "--pose-detector")
POSE_DETECTORS.add(
    "movenet-multipose", "MoveNet MultiPose, up to six bodies (shipped weights)", MoveNetMultiPose
)
POSE_DETECTORS.add("none", "no pose detector", NoPoseDetector)
DEFAULT_POSE_DETECTOR = "movenet-multipose"
