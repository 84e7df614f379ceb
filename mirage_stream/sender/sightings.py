"""Detections followed across a segment's sampled frames: how many of each kind are surely in
view, and how each person moves (walks across, towards or away from the camera, or stays).

A count is claimed when at least two sampled frames show it (one frame alone may be a false
detection); a person's motion only from a track seen over most of the segment, measured in
their own box heights so that it means the same near and far.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mirage_stream.sender.objects import Detection, ObjectDetector
from mirage_stream.types import FrameArray

# Thresholds, chosen on the tune sources of the real-footage set (never on its test sources).
_LINK_IOU = 0.2  # a detection continues a track when it overlaps its last box this much ...
_LINK_DISTANCE = 0.75  # ... or its centre lies within this many box heights of it
_TRACKED_SHARE = 0.6  # a track must be seen in this share of the sampled frames
_WALK_HEIGHTS_PER_S = 0.35  # sideways speed, in body heights per second, of a walk
_WALK_SPAN_HEIGHTS = 0.3  # and the least total sideways travel
_GROWTH_TOWARDS = 1.25  # box height last / first: walking towards the camera
_STILL_HEIGHTS_PER_S = 0.12  # slower than this, and no growth: the person stays in place
_STANDING_ASPECT = 1.9  # box height / width of someone upright with the legs in view
_SIGHTING_CONFIDENCE = 0.85
_WALK_CONFIDENCE = 0.8


@dataclass(frozen=True)
class Track:
    """One object followed over the sampled frames: (frame index, detection) in order."""

    kind: str
    sightings: tuple[tuple[int, Detection], ...]

    def heights_moved(self, fps: float, aspect: float = 4 / 3) -> tuple[float, float, float]:
        """(sideways travel in box heights, its speed in heights per second, height growth
        last / first) between the first and the last sighting. ``aspect``: the frame's width
        over its height (boxes are fractions of each, a travel is in pixels)."""
        (first_index, first), (last_index, last) = self.sightings[0], self.sightings[-1]
        height = float(np.median([d.height for _, d in self.sightings]))
        travel = (last.centre[0] - first.centre[0]) * aspect / max(height, 1e-3)
        seconds = max(last_index - first_index, 1) / fps
        return travel, abs(travel) / seconds, last.height / max(first.height, 1e-3)


@dataclass(frozen=True)
class Sightings:
    """What the detector found in ``samples`` frames of a segment."""

    samples: int
    counts: dict[str, tuple[int, ...]]  # per kind: how many in each sampled frame
    tracks: tuple[Track, ...]
    detections: tuple[tuple[int, Detection], ...]  # every detection, with its frame index
    # People per sampled frame as the object detector alone saw them (before the bodies).
    detected_people: tuple[int, ...] = ()
    sampled: tuple[int, ...] = ()  # the sampled frames' indices, in order

    def confirmed(self, kind: str) -> int:
        """The largest count of ``kind`` seen in at least two sampled frames (in the only one
        when one frame was sampled)."""
        return confirmed_count(self.counts.get(kind, ()))

    def rests_on_bodies(self) -> bool:
        """The confirmed people count needs people only the bodies showed: a lower bound then,
        since bodies were looked for in two frames only."""
        return self.confirmed("person") > confirmed_count(self.detected_people)

    def most(self, kind: str) -> int:
        return max(self.counts.get(kind, ()), default=0)

    def boxes(self, index: int, kinds: tuple[str, ...]) -> list[Detection]:
        """The detections of ``kinds`` in the sampled frame nearest ``index``."""
        if not self.detections:
            return []
        nearest = min({i for i, _ in self.detections}, key=lambda i: abs(i - index))
        return [d for i, d in self.detections if i == nearest and d.kind in kinds]


def confirmed_count(counts: Sequence[int]) -> int:
    """The largest count seen in at least two sampled frames (in the only one when one frame
    was sampled): one frame alone may be a false detection, and a turned head hides a face
    in others."""
    if len(counts) <= 1:
        return counts[0] if counts else 0
    seen = [c for c in set(counts) if sum(other >= c for other in counts) >= 2]
    return max(seen, default=0)


def sample_indices(count: int, duration_s: float, most: int = 6) -> list[int]:
    """Frames to run the detector on: the first, the last and evenly between, about 2.5 a
    second, 3 to ``most`` of them."""
    wanted = min(count, max(3, min(most, round(2.5 * duration_s) + 1)))
    return sorted({int(i) for i in np.linspace(0, count - 1, num=wanted).round()})


def _link(tracks: list[list[tuple[int, Detection]]], index: int, found: list[Detection]) -> None:
    """Greedy: each detection continues the open track of its kind it fits best, else opens
    one."""
    free = set(range(len(tracks)))
    for detection in found:
        best, best_fit = None, 0.0
        for t in free:
            last = tracks[t][-1][1]
            if last.kind != detection.kind:
                continue
            distance = math.dist(last.centre, detection.centre) / max(last.height, 1e-3)
            fit = max(last.iou(detection), 1.0 - distance / _LINK_DISTANCE)
            if (last.iou(detection) >= _LINK_IOU or distance <= _LINK_DISTANCE) and fit > best_fit:
                best, best_fit = t, fit
        if best is None:
            tracks.append([(index, detection)])
        else:
            tracks[best].append((index, detection))
            free.discard(best)


# Furniture and desk things whose box fills the frame are the detector naming the whole scene
# (a blue card on bricks read as a laptop), not an object in it.
_SCENE_SIZED = ("chair", "table", "screen", "laptop", "book", "bottle", "cup")
_SCENE_AREA = 0.8


def _plausible(detection: Detection) -> bool:
    return not (detection.kind in _SCENE_SIZED and detection.width * detection.height > _SCENE_AREA)


_SAME_BODY_IOU = 0.3


def merge_people(found: list[Detection], bodies: Sequence[Detection]) -> list[Detection]:
    """A frame's detections with the people a second detector (bodies from poses) found there:
    a detected person box around two or more bodies is a group the detector merged and gives
    way to them; one that overlaps a body, or holds its centre, is the same person (the
    detector's box is kept, so a track continues in frames without bodies); a body nobody's
    box overlaps is a person missed."""

    def inside(body: Detection, box: Detection) -> bool:
        x, y = body.centre
        return box.x <= x <= box.x + box.width and box.y <= y <= box.y + box.height

    kept = [d for d in found if d.kind != "person" or sum(inside(body, d) for body in bodies) < 2]
    people = [d for d in kept if d.kind == "person"]
    missed = [
        b for b in bodies if all(b.iou(d) < _SAME_BODY_IOU and not inside(b, d) for d in people)
    ]
    return kept + missed


FrameDetections = list[tuple[int, list[Detection]]]  # (frame index, what was found there)


def detect_in(
    frames: list[FrameArray] | np.ndarray, indices: list[int], detector: ObjectDetector
) -> FrameDetections:
    """Run ``detector`` on ``frames[i]`` for each of ``indices``."""
    return [(i, [d for d in detector.detect(frames[i]) if _plausible(d)]) for i in indices]


def find_sightings(
    frames: list[FrameArray] | np.ndarray, indices: list[int], detector: ObjectDetector
) -> Sightings:
    """Run ``detector`` on ``frames[i]`` for each of ``indices`` and follow what it finds."""
    return follow(detect_in(frames, indices, detector))


def follow(
    detected: FrameDetections, bodies: Mapping[int, Sequence[Detection]] | None = None
) -> Sightings:
    """Follow what was detected in each sampled frame, with the ``bodies`` (person boxes from
    poses) found in some of them."""
    bodies = bodies or {}
    indices = [i for i, _ in detected]
    per_frame = [(i, merge_people(found, bodies.get(i, ()))) for i, found in detected]
    alone = tuple(sum(d.kind == "person" for d in found) for _, found in detected)
    kinds = sorted({d.kind for _, found in per_frame for d in found})
    counts = {k: tuple(sum(d.kind == k for d in found) for _, found in per_frame) for k in kinds}
    open_tracks: list[list[tuple[int, Detection]]] = []
    for index, found in per_frame:
        _link(open_tracks, index, found)
    tracks = tuple(
        Track(sightings[0][1].kind, tuple(sightings))
        for sightings in open_tracks
        if len(sightings) >= max(2, math.ceil(_TRACKED_SHARE * len(indices)))
    )
    detections = tuple((i, d) for i, found in per_frame for d in found)
    return Sightings(len(indices), counts, tracks, detections, alone, tuple(indices))


def _stays(speed: float, growth: float) -> bool:
    """A track slower than a stroll that neither grows nor shrinks: the person stays put."""
    return speed < _STILL_HEIGHTS_PER_S and 1 / 1.1 <= growth <= 1.1


def people_stay(sightings: Sightings, fps: float, aspect: float = 4 / 3) -> bool:
    """Every tracked person stays in place (none walks): the only case a posture is told."""
    people = [t for t in sightings.tracks if t.kind == "person"]
    return bool(people) and all(_stays(*t.heights_moved(fps, aspect)[1:]) for t in people)


@dataclass(frozen=True)
class PeopleMotion:
    walking: str  # "left", "right", "both", "towards", "away" or "" (no walk seen)
    walking_confidence: float
    standing: bool  # every tracked person stays in place, upright
    standing_confidence: float


def people_motion(sightings: Sightings, fps: float, aspect: float = 4 / 3) -> PeopleMotion:
    """How the tracked people move, in screen terms."""
    people = [t for t in sightings.tracks if t.kind == "person"]
    directions = []
    still = 0
    for track in people:
        travel, speed, growth = track.heights_moved(fps, aspect)
        if growth >= _GROWTH_TOWARDS and speed < _WALK_HEIGHTS_PER_S:
            directions.append("towards")
        elif growth <= 1 / _GROWTH_TOWARDS and speed < _WALK_HEIGHTS_PER_S:
            directions.append("away")
        elif speed >= _WALK_HEIGHTS_PER_S and abs(travel) >= _WALK_SPAN_HEIGHTS:
            directions.append("right" if travel > 0 else "left")
        elif _stays(speed, growth):
            upright = np.median([d.height / max(d.width, 1e-3) for _, d in track.sightings])
            still += float(upright) >= _STANDING_ASPECT
    walking = ""
    if directions:
        seen = Counter(directions)
        if set(seen) == {"left", "right"}:
            walking = "both"
        else:
            # A direction is told only when most of the people tracked share it: a few walking
            # one way in a crowd that crosses a square every way is not "a crowd walks right".
            top, n = seen.most_common(1)[0]
            walking = top if n * 2 > len(people) else ""
    standing = bool(people) and not directions and still == len(people)
    return PeopleMotion(
        walking=walking,
        walking_confidence=_WALK_CONFIDENCE if walking else 0.0,
        standing=standing,
        standing_confidence=_SIGHTING_CONFIDENCE if standing else 0.0,
    )


SIGHTING_CONFIDENCE = _SIGHTING_CONFIDENCE
