"""Captioners (eq. 2-3) behind one protocol, and the settings they share.

The offline default writes fluent sentences from the scene analysis and invents nothing: each
clause comes from a measured number, in the order content -> actions and motion -> scene ->
style cues. Granularity and privacy are sender settings applied the same way to every backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mirage_stream.anonymise import scrub_identity
from mirage_stream.sender.analysis import SegmentAnalysis
from mirage_stream.types import Caption, FaceFact, Granularity, SceneFacts, VideoSegment


@dataclass(frozen=True)
class CaptionSettings:
    """How much the caption says, and whether it may say anything about who someone is."""

    granularity: Granularity = Granularity.NORMAL
    privacy: bool = False  # no identity words (gender, age, ethnicity, skin, hair, names)


class Captioner(Protocol):
    @property
    def name(self) -> str: ...

    def caption(
        self, segment: VideoSegment, analysis: SegmentAnalysis, settings: CaptionSettings
    ) -> Caption: ...


def _speed_word(pixels_per_frame: float) -> str:
    if pixels_per_frame < 0.3:
        return "almost still"
    if pixels_per_frame < 1.5:
        return "slowly"
    if pixels_per_frame < 4.0:
        return "steadily"
    return "fast"


def _direction(dx: float, dy: float) -> str:
    horizontal = "right" if dx > 0 else "left"
    vertical = "down" if dy > 0 else "up"
    if abs(dx) >= 2 * abs(dy):
        return horizontal
    if abs(dy) >= 2 * abs(dx):
        return vertical
    return f"{vertical} and to the {horizontal}"


def _place(face: FaceFact) -> str:
    cx, cy = face.x + face.width / 2, face.y + face.height / 2
    column = "left" if cx < 0.38 else "right" if cx > 0.62 else "centre"
    row = "upper " if cy < 0.38 else "lower " if cy > 0.62 else ""
    return f"the {row}{column}"


def _distance(face: FaceFact) -> str:
    return (
        "close up"
        if face.width > 0.35
        else "at medium distance"
        if face.width > 0.15
        else "far away"
    )


_NUMBERS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five"}


def _count(number: int, noun: str, plural: str) -> str:
    word = _NUMBERS.get(number, str(number))
    return f"{word} {noun}" if number == 1 else f"{word} {plural}"


def _content(facts: SceneFacts, detail: Granularity) -> str:
    lead = "An animated scene. " if facts.animation else ""
    if facts.people == 0:
        return lead + "No person is visible."
    who = f"{_count(facts.people, 'person is', 'people are')} in view"
    if not facts.faces:
        return f"{lead}{who}."
    face = facts.faces[0]
    if detail is Granularity.SHORT:
        return f"{lead}{who}, {_distance(face)}."
    faces = "one face" if len(facts.faces) == 1 else f"{len(facts.faces)} faces, the largest"
    where = f"{faces} in {_place(face)} of the frame, {_distance(face)}"
    if detail is Granularity.DETAILED:
        where += f" (about {face.width:.0%} of the frame width)"
    return f"{lead}{who}: {where}."


def _actions(facts: SceneFacts, detail: Granularity) -> list[str]:
    sentences = []
    subject = "They" if facts.people > 1 else "The person" if facts.people else ""
    if subject and facts.talking and facts.gesturing:
        sentences.append(f"{subject} talks and moves while talking.")
    elif subject and facts.talking:
        sentences.append(f"{subject} talks.")
    elif subject and facts.gesturing:
        sentences.append(f"{subject} moves or gestures.")
    speed = float(np.hypot(facts.subject_dx, facts.subject_dy))
    if facts.subject_share >= 0.03 and speed >= 0.3:
        what = (
            f"{_count(facts.moving_objects, 'thing moves', 'things move')}"
            if facts.moving_objects > 1
            else "Something in the scene moves"
        )
        sentence = f"{what} {_speed_word(speed)} {_direction(facts.subject_dx, facts.subject_dy)}"
        if detail is Granularity.DETAILED:
            sentence += (
                f" (about {speed:.1f} pixels per frame over {facts.subject_share:.0%} of the view)"
            )
        sentences.append(sentence + ".")
    sentences.append(_camera(facts, detail))
    return sentences


def _camera(facts: SceneFacts, detail: Granularity) -> str:
    motion = facts.motion
    speed = motion.speed
    moves = []
    if motion.pans:
        # Content drifting left means the camera pans right: say what the camera does.
        pan = _direction(-motion.dx, -motion.dy)
        verb = "tilts" if pan in ("up", "down") else "pans"
        moves.append(f"{verb} {_speed_word(speed)} {pan}")
    if motion.zooms:
        moves.append("zooms in" if motion.zoom > 0 else "zooms out")
    if facts.camera_shake >= 1.5:
        moves.append("shakes")
    if not moves:
        return "The camera is almost still."
    sentence = "The camera " + " and ".join(moves)
    if detail is Granularity.DETAILED and motion.pans:
        sentence += f" (about {speed:.1f} pixels per frame)"
    return sentence + "."


def _scene(facts: SceneFacts, detail: Granularity) -> list[str]:
    sentences = []
    if facts.cuts:
        times = ", ".join(f"{t:.1f} s" for t in facts.cuts)
        sentences.append(f"The shot changes at {times}.")
    light = (
        "dimly lit"
        if facts.brightness < 0.3
        else "brightly lit"
        if facts.brightness > 0.65
        else "moderately lit"
    )
    where = " outdoors (sky or greenery in view)" if facts.outdoors else ""
    sentences.append(f"The scene is {light}{where}.")
    return sentences


def _style(facts: SceneFacts, privacy: bool) -> list[str]:
    colours = [c for c in facts.colours if not (privacy and c == "skin tone")]
    sentences = ["The colours are vivid and saturated."] if facts.animation else []
    if colours:
        sentences.append(f"Dominant colours: {', '.join(colours)}.")
    return sentences


def describe(facts: SceneFacts, settings: CaptionSettings) -> str:
    """Fluent text for ``facts`` at the requested granularity (content -> motion -> scene ->
    style)."""
    detail = settings.granularity
    sentences = [_content(facts, detail), *_actions(facts, detail)]
    if detail is not Granularity.SHORT:
        sentences += _scene(facts, detail) + _style(facts, settings.privacy)
    text = " ".join(sentences)
    return scrub_identity(text) if settings.privacy else text


@dataclass(frozen=True)
class MeasuredFactsCaptioner:
    """Offline captioner: turns the scene analysis into sentences (see ``describe``)."""

    name: str = "measured-facts"

    def caption(
        self, segment: VideoSegment, analysis: SegmentAnalysis, settings: CaptionSettings
    ) -> Caption:
        return Caption(text=describe(analysis.facts, settings), facts=analysis.facts)
