"""SceneFacts <-> a compact msgpack array of small integers (the payload's hints part).

Fixed-point units keep it near 30 bytes: motion in 1/100 pixel per frame, zoom in 1e-5 per
frame, shares and brightness in 1/1000, face boxes in 1/1000 of the frame, cut times in
milliseconds. Colours are left to the caption text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mirage_stream.errors import PayloadError
from mirage_stream.types import FaceFact, MotionHints, SceneFacts

MAX_FACES = 8
MAX_CUTS = 16
_FIELDS = 16
_BIG = 10**7  # bound on any fixed-point value (100,000 pixels per frame)
_FLAG_BITS = 4  # talking, gesturing, outdoors, animation


def _fixed(value: float, scale: float) -> int:
    return max(-_BIG, min(_BIG, round(value * scale)))


def pack_facts(facts: SceneFacts) -> list[Any]:
    flags = facts.talking | facts.gesturing << 1 | facts.outdoors << 2 | facts.animation << 3
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
    ]


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

    items = array(values, "", _FIELDS)
    require(len(items) == _FIELDS, f"hints must have {_FIELDS} items, got {len(items)}")
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
        )
    except (TypeError, ValueError) as error:
        raise PayloadError(f"hints: {error}") from None
