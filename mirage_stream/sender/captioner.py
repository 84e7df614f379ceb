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
from mirage_stream.sender.sentences import (
    MANY,
    NUMBERS,
    Sentence,
    Statement,
    count_words,
    look_sentences,
    things_sentences,
)
from mirage_stream.types import (
    Caption,
    FaceFact,
    FactConfidence,
    Granularity,
    SceneFacts,
    VideoSegment,
)


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


def _people_words(facts: SceneFacts) -> tuple[str, tuple[int, int], bool]:
    """Subject words, the count range they claim, and whether the verb is plural. Counts from
    movers are lower bounds (people walking side by side merge into one region)."""
    n = facts.people
    if not facts.people_at_least:
        if n == 1:
            return "One person", (1, 1), False
        return count_words(n, "person", "people"), (n, n), True
    if n == 1:
        return "At least one person", (1, MANY), False
    if n <= 5:
        return f"At least {NUMBERS[n].lower()} people", (n, MANY), True
    return "A crowd of people", (6, MANY), True


def _walk_clause(facts: SceneFacts, plural: bool) -> str:
    verb = "walk" if plural else "walks"
    if facts.walking == "both":
        return f"{verb} across the view in both directions"
    if facts.walking == "towards":
        return f"{verb} towards the camera"
    if facts.walking == "away":
        return f"{verb} away from the camera"
    return f"{verb} to the {facts.walking}"


def _content(facts: SceneFacts, detail: Granularity) -> list[Sentence]:
    sentences = (
        [Sentence("An animated scene.", (Statement("animation", 1.0),))]
        if (facts.animation and facts.confidence.animation >= FactConfidence.STATED)
        else []
    )
    if facts.people == 0 or facts.confidence.people < FactConfidence.STATED:
        # No evidence of people is not evidence of no people: nothing is claimed.
        return sentences
    who, count, plural = _people_words(facts)
    claims: list[Statement] = [Statement("people", count)]
    if facts.people_colour:
        who += f" in {facts.people_colour}"
        claims.append(Statement("colour", facts.people_colour))
    if facts.walking and facts.confidence.walking >= FactConfidence.STATED:
        claims.append(Statement("walking", facts.walking))
        return [*sentences, Sentence(f"{who} {_walk_clause(facts, plural)}.", tuple(claims))]
    if facts.standing:
        claims.append(Statement("standing", 1.0))
        where = f"{who} {'stand' if plural else 'stands'} in view"
    elif facts.sitting:
        claims.append(Statement("sitting", 1.0))
        where = f"{who} {'sit' if plural else 'sits'} in view"
    else:
        where = f"{who} {'are' if plural else 'is'} in view"
    if not facts.faces:
        return [*sentences, Sentence(f"{where}.", tuple(claims))]
    face = facts.faces[0]
    if detail is Granularity.SHORT:
        return [*sentences, Sentence(f"{where}, {_distance(face)}.", tuple(claims))]
    faces = "one face" if len(facts.faces) == 1 else f"{len(facts.faces)} faces, the largest"
    place = f"{faces} in {_place(face)} of the frame, {_distance(face)}"
    if detail is Granularity.DETAILED:
        place += f" (about {face.width:.0%} of the frame width)"
    return [*sentences, Sentence(f"{where}: {place}.", tuple(claims))]


def _actions(facts: SceneFacts, detail: Granularity) -> list[Sentence]:
    sentences = []
    sure = facts.confidence
    present = facts.people > 0 and sure.people >= FactConfidence.STATED
    subject = "They" if facts.people > 1 else "The person"
    verb_s = "" if facts.people > 1 else "s"  # they talk, the person talks
    talking = present and facts.talking and sure.talking >= FactConfidence.STATED
    gesturing = present and facts.gesturing and sure.gesturing >= FactConfidence.STATED
    hands: tuple[Statement, ...] = (Statement("hands", 1.0),) if facts.hands else ()
    with_hands = " with the hands" if facts.hands else ""
    if talking and gesturing:
        sentences.append(
            Sentence(
                f"{subject} talk{verb_s} and gesture{verb_s}{with_hands} while talking."
                if facts.hands
                else f"{subject} talk{verb_s} and move{verb_s} while talking.",
                (Statement("talking", 1.0), Statement("gesturing", 1.0), *hands),
            )
        )
    elif talking:
        sentences.append(Sentence(f"{subject} talk{verb_s}.", (Statement("talking", 1.0),)))
    elif gesturing:
        sentences.append(
            Sentence(
                f"{subject} gesture{verb_s}{with_hands}."
                if facts.hands
                else f"{subject} move{verb_s} or gesture{verb_s}.",
                (Statement("gesturing", 1.0), *hands),
            )
        )
    if facts.hands and not gesturing:
        sentences.append(Sentence("Hands are in view.", hands))
    speed = float(np.hypot(facts.subject_dx, facts.subject_dy))
    walkers_said = bool(facts.walking) and sure.walking >= FactConfidence.STATED
    if facts.subject_share >= 0.03 and speed >= 0.3 and not walkers_said:
        claims = []
        if facts.moving_objects > 1:
            what = count_words(facts.moving_objects, "thing moves", "things move")
        elif facts.subject_colour:
            what = f"Something {facts.subject_colour} moves"
            claims.append(Statement("colour", facts.subject_colour))
        else:
            what = "Something in the scene moves"
        direction = _direction(facts.subject_dx, facts.subject_dy)
        claims.append(Statement("moving", direction))
        sentence = f"{what} {_speed_word(speed)} {direction}"
        if detail is Granularity.DETAILED:
            sentence += (
                f" (about {speed:.1f} pixels per frame over {facts.subject_share:.0%} of the view)"
            )
        sentences.append(Sentence(sentence + ".", tuple(claims)))
    if facts.confidence.camera >= FactConfidence.STATED:
        sentences.append(_camera(facts, detail))
    return sentences


def _camera(facts: SceneFacts, detail: Granularity) -> Sentence:
    motion = facts.motion
    speed = motion.speed
    moves = []
    claims = []
    if motion.pans:
        # Content drifting left means the camera pans right: say what the camera does.
        pan = _direction(-motion.dx, -motion.dy)
        verb = "tilts" if pan in ("up", "down") else "pans"
        moves.append(f"{verb} {_speed_word(speed)} {pan}")
        claims.append(Statement("camera", f"{verb.removesuffix('s')} {pan}"))
    if motion.zooms:
        moves.append("zooms in" if motion.zoom > 0 else "zooms out")
        claims.append(Statement("camera", moves[-1].replace("zooms", "zoom")))
    if facts.camera_shake >= 1.5:
        moves.append("shakes")
        claims.append(Statement("camera", "shake"))
    if not moves:
        return Sentence("The camera is almost still.", (Statement("camera", "still"),))
    sentence = "The camera " + " and ".join(moves)
    if detail is Granularity.DETAILED and motion.pans:
        sentence += f" (about {speed:.1f} pixels per frame)"
    return Sentence(sentence + ".", tuple(claims))


def _scene(facts: SceneFacts, detail: Granularity) -> list[Sentence]:
    sentences = []
    if facts.cuts:
        times = ", ".join(f"{t:.1f} s" for t in facts.cuts)
        claims = tuple(Statement("cut", t) for t in facts.cuts)
        sentences.append(Sentence(f"The shot changes at {times}.", claims))
    light = (
        "dimly lit"
        if facts.brightness < 0.3
        else "brightly lit"
        if facts.brightness > 0.65
        else "moderately lit"
    )
    sure = facts.confidence.outdoors >= FactConfidence.STATED
    setting: tuple[Statement, ...] = ()
    where = ""
    if sure and facts.outdoors:
        where, setting = " outdoors", (Statement("outdoors", 1.0),)
    elif sure and facts.indoors:
        where, setting = " indoors", (Statement("indoors", 1.0),)
    sentences.append(Sentence(f"The scene is {light}{where}.", setting))
    return sentences


def _style(facts: SceneFacts, privacy: bool) -> list[Sentence]:
    colours = [c for c in facts.colours if not (privacy and c == "skin tone")]
    sentences = []
    if facts.animation and facts.confidence.animation >= FactConfidence.STATED:
        sentences.append(Sentence("The colours are vivid and saturated."))
    if colours:
        claims = tuple(Statement("colour", name) for name in colours)
        sentences.append(Sentence(f"Main colours: {', '.join(colours)}.", claims))
    return sentences


def caption_sentences(facts: SceneFacts, settings: CaptionSettings) -> list[Sentence]:
    """The caption's sentences with their claims, content -> motion -> scene -> style. Only
    facts at ``FactConfidence.STATED`` or above are stated."""
    detail = settings.granularity
    sentences = [
        *_content(facts, detail),
        *things_sentences(facts.objects, facts.objects_at_least),
        *_actions(facts, detail),
        *look_sentences(facts),
    ]
    if detail is not Granularity.SHORT:
        sentences += _scene(facts, detail) + _style(facts, settings.privacy)
    return sentences


def describe(facts: SceneFacts, settings: CaptionSettings) -> str:
    """Fluent text for ``facts`` at the requested granularity (see ``caption_sentences``)."""
    text = " ".join(sentence.text for sentence in caption_sentences(facts, settings))
    return scrub_identity(text) if settings.privacy else text


@dataclass(frozen=True)
class MeasuredFactsCaptioner:
    """Offline captioner: turns the scene analysis into sentences (see ``describe``)."""

    name: str = "measured-facts"

    def caption(
        self, segment: VideoSegment, analysis: SegmentAnalysis, settings: CaptionSettings
    ) -> Caption:
        return Caption(text=describe(analysis.facts, settings), facts=analysis.facts)
