"""Checkable sentences: the claims a caption makes (``Statement``, ``Sentence``) and the
sentences about the things in view (vehicles and animals counted, furniture) and about the
person nearest the camera (expression, where they look, glasses)."""

from __future__ import annotations

from dataclasses import dataclass

from mirage_stream.types import FactConfidence, SceneFacts


@dataclass(frozen=True)
class Statement:
    """One checkable claim of a caption: ``fact`` names what it asserts (people, walking,
    talking, gesturing, camera, cut, outdoors, animation, colour, ...), ``value`` what it says
    of it. ``people`` values are (low, high) counts."""

    fact: str
    value: str | float | tuple[int, int]


@dataclass(frozen=True)
class Sentence:
    """A sentence of a caption and the claims it makes (none for what is not checkable)."""

    text: str
    claims: tuple[Statement, ...] = ()


NUMBERS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five"}
MANY = 99  # "at least n" as a count range


def count_words(number: int, noun: str, plural: str) -> str:
    word = NUMBERS.get(number, str(number))
    return f"{word} {noun}" if number == 1 else f"{word} {plural}"


_PLURALS = {"bicycle": "bicycles", "cow": "cows", "screen": "screens", "laptop": "laptops"}
_ARTICLES = {"car": "A car", "bicycle": "A bicycle", "dog": "A dog", "cat": "A cat", "cow": "A cow"}
_VEHICLES_AND_ANIMALS = ("car", "bicycle", "dog", "cat", "cow")


_MANY_THINGS = 6  # counted as lower bounds, this many or more are "many"


def _thing_words(kind: str, n: int, at_least: bool) -> tuple[str, tuple[int, int]]:
    """Words for ``n`` of ``kind`` and the count range they claim: exact, "at least n" or
    "many" (the people rule: small or disagreeing instances give a lower bound)."""
    plural = _PLURALS.get(kind, kind + "s")
    if not at_least:
        return (_ARTICLES[kind] if n == 1 else count_words(n, kind, plural)), (n, n)
    if n >= _MANY_THINGS:
        return f"Many {plural}", (_MANY_THINGS, MANY)
    noun = kind if n == 1 else plural
    return f"At least {NUMBERS[n].lower()} {noun}", (n, MANY)


def things_sentences(
    objects: tuple[tuple[str, int], ...], at_least: tuple[str, ...] = ()
) -> list[Sentence]:
    """Vehicles and animals as a sentence of their own, furniture as a room's."""
    sentences = []
    moving = [(kind, n) for kind, n in objects if kind in _VEHICLES_AND_ANIMALS]
    if moving:
        counted = [_thing_words(kind, n, kind in at_least) for kind, n in moving]
        words = [counted[0][0]] + [w[0].lower() + w[1:] for w, _ in counted[1:]]
        plural = len(moving) > 1 or moving[0][1] > 1
        text = " and ".join(words) + (" are" if plural else " is") + " in view."
        claims = [Statement("object", kind) for kind, _ in moving]
        claims += [
            Statement("vehicles", count)
            for (kind, _), (_, count) in zip(moving, counted, strict=True)
            if kind == "car"
        ]
        sentences.append(Sentence(text, tuple(claims)))
    furniture = [kind for kind, _ in objects if kind not in _VEHICLES_AND_ANIMALS]
    if furniture:
        names = {"chair": "chairs", "table": "a table", "screen": "a screen", "laptop": "a laptop"}
        listed = [names[kind] for kind in furniture]
        text = "There " + ("are " if listed[0] == "chairs" else "is ") + and_words(listed) + "."
        sentences.append(Sentence(text, tuple(Statement("object", kind) for kind in furniture)))
    return sentences


def and_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_LOOK_WORDS = {
    "left": "towards the left of the frame",
    "right": "towards the right of the frame",
    "up": "up",
    "down": "down",
}


def look_sentences(facts: SceneFacts) -> list[Sentence]:
    """One sentence on the person nearest the camera: expression, where they look, glasses."""
    look = facts.look
    # With several people in view "the person" would not say whom: nothing is claimed.
    if look.empty or facts.people != 1 or facts.confidence.people < FactConfidence.STATED:
        return []
    subject = "The person"
    clauses, claims = [], []
    if look.smiling:
        clauses.append("smiles")
        claims.append(Statement("expression", "smiling"))
    if look.mouth_open:
        clauses.append("opens the mouth wide")
        claims.append(Statement("expression", "mouth open"))
    if look.eyes_closed:
        clauses.append("has the eyes closed")
        claims.append(Statement("expression", "eyes closed"))
    if look.looks:
        both_sides = {"left", "right"} <= set(look.looks)
        words = ["to both sides of the frame"] if both_sides else []
        words += [_LOOK_WORDS[d] for d in look.looks if not (both_sides and d in ("left", "right"))]
        clauses.append("looks " + " and ".join(words))
        claims += [Statement("looks", d) for d in look.looks]
    if look.glasses:
        clauses.append("wears glasses")
        claims.append(Statement("glasses", 1.0))
    if not clauses:
        return []
    return [Sentence(f"{subject} {and_words(clauses)}.", tuple(claims))]
