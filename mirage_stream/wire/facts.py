"""SceneFacts <-> a compact msgpack array of small integers (the payload's hints part).

Fixed-point units keep it near 30 bytes: motion in 1/100 pixel per frame, zoom in 1e-5 per
frame, shares and brightness in 1/1000, face boxes in 1/1000 of the frame, cut times in
milliseconds. Colours, the people's posture and the objects named are left to the caption
text. An optional 17th item carries what the analysis added later: walking direction, whether
the people count is a lower bound, and the confidence of each claim in 1/100 (payloads without
it decode with full confidence). An optional 18th carries the keyframe timing: per keyframe
pair [start frame, end frame, [shares in 1/15]] (payloads without it: none). An optional 19th
carries the motion track: [sample frames, track bits] (``wire.track_bits``); a track that does
not parse is left out and the other facts kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from mirage_stream.errors import PayloadError
from mirage_stream.motion_track import MotionTrack
from mirage_stream.timing import TIMING_LEVELS, TIMING_POINTS, KeyframeTiming
from mirage_stream.types import FaceFact, FactConfidence, MotionHints, SceneFacts
from mirage_stream.wire.track_bits import MAX_SAMPLES, pack_track, unpack_track

MAX_FACES = 8
MAX_CUTS = 16
_FIELDS = 16
_EXTENDED_FIELDS = 17
_TIMED_FIELDS = 18
_TRACKED_FIELDS = 19
MAX_TIMINGS = 15  # keyframe pairs of one segment (MAX_KEYFRAMES - 1)
HINT_ITEMS = _TRACKED_FIELDS  # the longest array in the hints (bounds the msgpack reader)
_WALKING = ("", "left", "right", "both", "towards", "away")
_CONFIDENCES = ("people", "talking", "gesturing", "walking", "outdoors", "animation", "camera")
_BIG = 10**7  # bound on any fixed-point value (100,000 pixels per frame)
_FLAG_BITS = 5  # talking, gesturing, outdoors, animation, indoors


def _fixed(value: float, scale: float) -> int:
    return max(-_BIG, min(_BIG, round(value * scale)))


def pack_facts(facts: SceneFacts) -> list[Any]:
    flags = (
        facts.talking
        | facts.gesturing << 1
        | facts.outdoors << 2
        | facts.animation << 3
        | facts.indoors << 4
    )
    motion = facts.motion
    return [
        _fixed(motion.dx, 100),
        _fixed(motion.dy, 100),
        _fixed(motion.zoom, 1e5),
        _fixed(motion.activity, 100),
        _fixed(facts.camera_shake, 100),
        _fixed(facts.subject_dx, 100),
        _fixed(facts.subject_dy, 100),
        _fixed(facts.subject_share, 1000),
        min(facts.moving_objects, 255),
        min(facts.people, 255),
        flags,
        _fixed(facts.brightness, 1000),
        [
            [_fixed(f.x, 1000), _fixed(f.y, 1000), _fixed(f.width, 1000), _fixed(f.height, 1000)]
            for f in facts.faces[:MAX_FACES]
        ],
        [_fixed(t, 1000) for t in facts.cuts[:MAX_CUTS]],
        _fixed(min(max(facts.subject_x, 0.0), 1.0), 1000),
        _fixed(min(max(facts.subject_y, 0.0), 1.0), 1000),
        [
            _WALKING.index(facts.walking) if facts.walking in _WALKING else 0,
            int(facts.people_at_least),
            [
                round(min(max(getattr(facts.confidence, name), 0.0), 1.0) * 100)
                for name in _CONFIDENCES
            ],
        ],
        *(
            [
                [
                    [t.start, t.end, [round(share * TIMING_LEVELS) for share in t.progress]]
                    for t in facts.keyframe_timing[:MAX_TIMINGS]
                ]
            ]
            if facts.keyframe_timing or facts.motion_track
            else []
        ),
        *([_pack_track(facts.motion_track)] if facts.motion_track else []),
    ]


def _pack_track(track: MotionTrack) -> list[Any]:
    return [list(track.sample_frames), pack_track(track)]


def _unpack_track(value: Any) -> MotionTrack | None:
    """The 19th item, or None where it does not make a track (the hints blob passed its CRC,
    so this is a sender's mistake or a rare undetected error: the track alone is dropped)."""
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], bytes)):
        return None
    frames = value[0]
    if not (
        isinstance(frames, list)
        and len(frames) <= MAX_SAMPLES
        and all(type(f) is int and 0 <= f <= _BIG for f in frames)
        and all(b > a for a, b in itertools.pairwise(frames))
    ):
        return None
    return unpack_track(frames, value[1])


def unpack_facts(values: Any, require: Callable[[bool, str], None]) -> SceneFacts:
    """Strict inverse of ``pack_facts``; ``require`` raises PayloadError with its message."""

    def integer(value: Any, what: str, low: int = -_BIG, high: int = _BIG) -> int:
        require(type(value) is int, f"hints {what} must be an integer")
        require(low <= value <= high, f"hints {what}={value} outside [{low}, {high}]")
        return int(value)

    def array(value: Any, what: str, most: int) -> list[Any]:
        require(isinstance(value, list), f"hints {what} must be an array")
        require(len(value) <= most, f"hints {what}: more than {most} items")
        return list(value)

    items = array(values, "", _TRACKED_FIELDS)
    require(
        _FIELDS <= len(items) <= _TRACKED_FIELDS,
        f"hints must have {_FIELDS} to {_TRACKED_FIELDS} items, got {len(items)}",
    )
    timings = []
    if len(items) >= _TIMED_FIELDS:
        for entry in array(items[17], "keyframe timing", MAX_TIMINGS):
            pair = array(entry, "keyframe timing entry", 3)
            require(len(pair) == 3, "hints keyframe timing entry must have 3 items")
            start = integer(pair[0], "timing start", 0, _BIG)
            end = integer(pair[1], "timing end", start + 1, _BIG)
            shares = array(pair[2], "timing shares", TIMING_POINTS)
            timings.append(
                KeyframeTiming(
                    start,
                    end,
                    tuple(
                        integer(v, "timing share", 0, TIMING_LEVELS) / TIMING_LEVELS for v in shares
                    ),
                )
            )
    walking, at_least, confidence = 0, 0, FactConfidence()
    if len(items) >= _EXTENDED_FIELDS:
        extension = array(items[16], "extension", 3)
        require(len(extension) == 3, "hints extension must have 3 items")
        walking = integer(extension[0], "walking", 0, len(_WALKING) - 1)
        at_least = integer(extension[1], "people at least", 0, 1)
        sure = array(extension[2], "confidence", len(_CONFIDENCES))
        require(len(sure) == len(_CONFIDENCES), "hints confidence: wrong number of items")
        confidence = FactConfidence(
            **{
                name: integer(value, f"{name} confidence", 0, 100) / 100
                for name, value in zip(_CONFIDENCES, sure, strict=True)
            }
        )
    flags = integer(items[10], "flags", 0, 2**_FLAG_BITS - 1)
    faces = []
    for box in array(items[12], "faces", MAX_FACES):
        x, y, w, h = (integer(v, "face box", 0, 1000) for v in array(box, "face box", 4))
        faces.append(FaceFact(x / 1000, y / 1000, w / 1000, h / 1000))
    try:
        return SceneFacts(
            motion=MotionHints(
                dx=integer(items[0], "dx") / 100,
                dy=integer(items[1], "dy") / 100,
                zoom=integer(items[2], "zoom") / 1e5,
                activity=integer(items[3], "activity", 0) / 100,
            ),
            camera_shake=integer(items[4], "shake", 0) / 100,
            subject_dx=integer(items[5], "subject dx") / 100,
            subject_dy=integer(items[6], "subject dy") / 100,
            subject_share=integer(items[7], "subject share", 0, 1000) / 1000,
            moving_objects=integer(items[8], "moving objects", 0, 255),
            people=integer(items[9], "people", 0, 255),
            faces=tuple(faces),
            brightness=integer(items[11], "brightness", 0, 1000) / 1000,
            cuts=tuple(integer(t, "cut", 0) / 1000 for t in array(items[13], "cuts", MAX_CUTS)),
            subject_x=integer(items[14], "subject x", 0, 1000) / 1000,
            subject_y=integer(items[15], "subject y", 0, 1000) / 1000,
            talking=bool(flags & 1),
            gesturing=bool(flags & 2),
            outdoors=bool(flags & 4),
            animation=bool(flags & 8),
            indoors=bool(flags & 16),
            walking=_WALKING[walking],
            people_at_least=bool(at_least),
            confidence=confidence,
            keyframe_timing=tuple(timings),
            motion_track=_unpack_track(items[18]) if len(items) == _TRACKED_FIELDS else None,
        )
    except (TypeError, ValueError) as error:
        raise PayloadError(f"hints: {error}") from None
