"""How many people a segment shows and what they do, from the object detector's tracks and
faces (or, without a detector that finds people, from person-shaped movers). No evidence is no
claim, never zero people: see ``FactConfidence``."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from mirage_stream.sender.colours import clothing_colour
from mirage_stream.sender.people import PeopleFinding
from mirage_stream.sender.sightings import SIGHTING_CONFIDENCE, Sightings, people_motion
from mirage_stream.types import FactConfidence

FACE_CONFIDENCE = 0.9
LONE_FACE_CONFIDENCE = 0.5  # a face in one sampled frame only
_UPRIGHT = 1.2  # box height / width of a standing or sitting body, more than a bust
# People smaller than this (of the frame height) are counted as "at least": small figures
# merge, hide behind each other and go unseen (chosen on the tune halves: a pair of 0.28-high
# figures of which the detector saw one).
_EXACT_COUNT_HEIGHT = 0.3


@dataclass(frozen=True)
class PeopleCount:
    count: int
    at_least: bool  # counted from movers, which merge when people walk side by side
    confidence: float
    walking: str
    walking_confidence: float
    standing: bool = False


def people_from_detections(
    face_count: int, sightings: Sightings, fps: float, camera_still: bool, aspect: float = 4 / 3
) -> PeopleCount:
    """People from the object detector, followed over the segment, and from faces: the count
    seen in two sampled frames (exact when every sampled frame agrees, a lower bound when more
    were seen in one, or when only faces were found: the cascade misses turned heads), walking
    and standing from the tracks."""
    seen = sightings.confirmed("person")
    motion = people_motion(sightings, fps, aspect)
    if not camera_still:
        motion = replace(motion, walking="", walking_confidence=0.0)
    if seen == 0 and face_count == 0:
        return PeopleCount(0, False, 0.0, "", 0.0)
    count = max(seen, face_count)
    heights = [d.height for _, d in sightings.detections if d.kind == "person"]
    small = bool(heights) and min(heights) < _EXACT_COUNT_HEIGHT
    at_least = sightings.most("person") > count or seen == 0 or small or sightings.rests_on_bodies()
    return PeopleCount(
        count,
        at_least,
        FACE_CONFIDENCE if face_count >= seen else SIGHTING_CONFIDENCE,
        motion.walking,
        motion.walking_confidence,
        standing=motion.standing and motion.standing_confidence >= FactConfidence.STATED,
    )


def people_colour(frame: npt.NDArray[np.uint8], sightings: Sightings, index: int) -> str:
    """The colour the people near frame ``index`` wear on the body (the middle of their boxes,
    below the head), "" when none covers it or they wear different ones."""
    height, width = frame.shape[:2]
    names = set()
    for d in sightings.boxes(index, ("person",)):
        if d.height * height < _UPRIGHT * d.width * width:
            return ""  # a box around a head and shoulders holds the background as well
        top, bottom = int((d.y + 0.25 * d.height) * height), int((d.y + 0.6 * d.height) * height)
        left, right = int((d.x + 0.25 * d.width) * width), int((d.x + 0.75 * d.width) * width)
        names.add(clothing_colour(frame[top:bottom, left:right].reshape(-1, 3)))
    # One colour for everyone, or none: "two people in orange" must hold for both.
    return names.pop() if len(names) == 1 else ""


def people_from_movers(face_count: int, most_faces: int, movers: PeopleFinding) -> PeopleCount:
    """People from faces (confirmed in two sampled frames) and from person-shaped movers: the
    larger count wins; walking is the movers' direction. No evidence is no claim, not zero
    people: see ``FactConfidence``."""
    stated = movers.people(FactConfidence.STATED)
    walkers = [track for track in stated if track.walking]
    directions = {track.walking for track in walkers}
    walking = "" if not directions else directions.pop() if len(directions) == 1 else "both"
    walking_confidence = max((track.confidence for track in walkers), default=0.0)
    if face_count >= len(stated) and face_count > 0:
        return PeopleCount(face_count, False, FACE_CONFIDENCE, walking, walking_confidence)
    if stated:
        confidence = max(track.confidence for track in stated)
        return PeopleCount(len(stated), True, confidence, walking, walking_confidence)
    if most_faces:
        return PeopleCount(most_faces, False, LONE_FACE_CONFIDENCE, "", 0.0)
    return PeopleCount(0, False, 0.0, "", 0.0)
