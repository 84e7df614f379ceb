"""What the person nearest the camera does with the face and wears on it: the caption's account,
measured by the sender (``sender/person_look.py``) and kept with the segment's facts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PersonLook:
    """What the person nearest the camera does with the face and wears on it over a segment
    (``sender/person_look.py``); each field only when seen in enough sampled frames.
    ``looks``: where the head turns to look, in the frame's terms ("left", "right", "up",
    "down")."""

    smiling: bool = False
    mouth_open: bool = False
    eyes_closed: bool = False
    looks: tuple[str, ...] = ()
    glasses: bool = False

    @property
    def empty(self) -> bool:
        return self == PersonLook()
