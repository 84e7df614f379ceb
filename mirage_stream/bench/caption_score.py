"""Captions judged against hand-written labels: each claim true, false or unscored
(``verdict``), recall per labelled fact, and the scores of a set of clips (``score``); what
``bench caption`` and ``bench receiver`` report."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mirage_stream.bench.caption_set import ClipLabels
from mirage_stream.report import ONLY_WHEN_SET
from mirage_stream.sender.sentences import Sentence, Statement
from mirage_stream.types import SceneFacts

CUT_TOLERANCE_S = 0.25
MIN_PERSON_PX = 30  # people_recall counts clips with someone at least this tall at source
FACTS = (
    "people",
    "walking",
    "standing",
    "sitting",
    "talking",
    "gesturing",
    "camera",
    "cut",
    "outdoors",
    "indoors",
    "animation",
    "colour",
    "hands",
    "object",
    "vehicles",
    "expression",
    "looks",
    "glasses",
)
VEHICLES = ("car", "bicycle")


def verdict(claim: Statement, labels: ClipLabels) -> bool | None:
    """True or false against ``labels``; None when the labels say nothing about the claim."""
    fact, value = claim.fact, claim.value
    if fact == "people":
        assert isinstance(value, tuple)
        low, high = value
        return low <= labels.people[1] and labels.people[0] <= high
    if fact == "walking":
        direction_ok = labels.walking is None or value in (labels.walking, "both")
        return "walking" in labels.actions and direction_ok
    if fact in ("standing", "sitting", "talking", "gesturing"):
        return fact in labels.actions
    if fact == "camera":
        return None if value == "shake" else value in labels.camera
    if fact == "cut":
        assert isinstance(value, float)
        return any(abs(value - t) <= CUT_TOLERANCE_S for t in labels.cuts)
    if fact in ("outdoors", "indoors"):
        return None if labels.setting == "unknown" else labels.setting == fact.removesuffix("s")
    if fact == "hands":
        return bool(labels.hands)
    if fact == "object":
        return str(value) in labels.objects
    if fact == "vehicles":
        if labels.vehicles is None:
            return None
        assert isinstance(value, tuple)
        return value[0] <= labels.vehicles[1] and labels.vehicles[0] <= value[1]
    if fact == "expression":
        return value in labels.expressions
    if fact == "looks":
        return value in labels.looks
    if fact == "glasses":
        return labels.glasses
    if fact == "animation":
        return labels.animation
    if fact == "colour":
        return value in labels.colours
    return None


def _within(count: object, labelled: tuple[int, int]) -> bool:
    """A claimed (low, high) count inside the labelled range."""
    assert isinstance(count, tuple)
    low, high = int(count[0]), int(count[1])
    return labelled[0] <= low and high <= labelled[1]


def _recalled(labels: ClipLabels, claims: list[Statement]) -> dict[str, tuple[int, int]]:
    """For each labelled fact: (found, labelled)."""

    def said(fact: str, test: Any = None) -> bool:
        return any(
            c.fact == fact and verdict(c, labels) and (test is None or test(c)) for c in claims
        )

    counts: dict[str, tuple[int, int]] = {}
    if labels.people[0] >= 1:
        counts["people"] = (int(said("people")), 1)
    for action in labels.actions:
        counts[action] = (int(said(action)), 1)
    if labels.camera[0] != "still":
        counts["camera"] = (int(said("camera", lambda c: c.value != "still")), 1)
    if labels.cuts:
        found = sum(
            any(
                c.fact == "cut" and abs(float(c.value) - t) <= CUT_TOLERANCE_S  # type: ignore[arg-type]
                for c in claims
            )
            for t in labels.cuts
        )
        counts["cut"] = (found, len(labels.cuts))
    if labels.setting in ("outdoor", "indoor"):
        fact = labels.setting + "s"
        counts[fact] = (int(said(fact)), 1)
    if set(labels.objects) & set(VEHICLES):
        counts["vehicles"] = (int(said("object", lambda c: c.value in VEHICLES)), 1)
    if labels.animation:
        counts["animation"] = (int(said("animation")), 1)
    counts["colour"] = (int(said("colour")), 1)
    if labels.hands:
        counts["hands"] = (int(said("hands")), 1)
    for expression in labels.expressions:
        counts["expression"] = _plus(
            counts.get("expression"), int(said("expression", lambda c, e=expression: c.value == e))
        )
    for direction in labels.looks:
        counts["looks"] = _plus(
            counts.get("looks"), int(said("looks", lambda c, d=direction: c.value == d))
        )
    if labels.glasses:
        counts["glasses"] = (int(said("glasses")), 1)
    return counts


def _plus(counts: tuple[int, int] | None, hit: int) -> tuple[int, int]:
    """(found, labelled) with one more labelled item, found or not."""
    found, labelled = counts or (0, 0)
    return found + hit, labelled + 1


@dataclass(frozen=True)
class ClipResult:
    name: str
    split: str
    caption: str
    sentences: list[Sentence]
    facts: SceneFacts
    labels: ClipLabels
    video_s: float
    sender_s: float

    def claims(self) -> list[tuple[Sentence, Statement]]:
        return [(sentence, claim) for sentence in self.sentences for claim in sentence.claims]


@dataclass(frozen=True)
class FactScore:
    precision: float | None  # of the statements of this fact, the true share
    recall: float | None  # of the labelled ones, the share the caption stated
    stated: int
    false: int
    labelled: int


@dataclass(frozen=True)
class FalseStatement:
    clip: str
    fact: str
    claim: Any
    sentence: str


@dataclass(frozen=True)
class CaptionScore:
    """Captions against their labels over a set of clips (one segment per clip)."""

    clips: int
    segments: int
    facts: dict[str, FactScore]
    false_statements: list[FalseStatement]
    people_recall: float | None
    people_clips: int
    count_accuracy: float | None
    vehicle_recall: float | None
    hands_recall: float | None
    expression_recall: float | None
    looks_recall: float | None
    glasses_recall: float | None
    # Of the clips whose setting is known: stated and right (a wrong one is a false
    # statement; an unstated one is neither).
    setting_accuracy: float | None
    action_recall: float | None
    walking_recall: float | None
    # The sender's real-time factor (None where the captions were not timed).
    rtf: float | None = field(default=None, metadata=ONLY_WHEN_SET)


def score(results: list[ClipResult], timed: bool = True) -> CaptionScore:
    """Per-fact precision and recall, the false statements, people / action / walking recall
    and the sender's real-time factor over ``results``."""
    true: dict[str, int] = defaultdict(int)
    false: dict[str, int] = defaultdict(int)
    found: dict[str, int] = defaultdict(int)
    labelled: dict[str, int] = defaultdict(int)
    false_statements = []
    people_hits = people_total = counted = 0
    for result in results:
        claims = result.claims()
        for sentence, claim in claims:
            judged = verdict(claim, result.labels)
            if judged is True:
                true[claim.fact] += 1
            elif judged is False:
                false[claim.fact] += 1
                false_statements.append(
                    FalseStatement(result.name, claim.fact, claim.value, sentence.text)
                )
        for fact, (hit, total) in _recalled(result.labels, [c for _, c in claims]).items():
            found[fact] += hit
            labelled[fact] += total
        labels = result.labels
        if (labels.person_px or 0) >= MIN_PERSON_PX and labels.people[0] >= 1:
            people_total += 1
            counts = [c.value for _, c in claims if c.fact == "people"]
            people_hits += bool(counts)
            counted += any(_within(count, labels.people) for count in counts)
    actions = ("walking", "standing", "sitting", "talking", "gesturing")

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    facts = {
        fact: FactScore(
            precision=ratio(true[fact], true[fact] + false[fact]),
            recall=ratio(found[fact], labelled[fact]),
            stated=true[fact] + false[fact],
            false=false[fact],
            labelled=labelled[fact],
        )
        for fact in FACTS
    }
    video_s = sum(r.video_s for r in results)
    known_setting = [r for r in results if r.labels.setting != "unknown"]
    return CaptionScore(
        clips=len(results),
        segments=len(results),
        facts=facts,
        false_statements=false_statements,
        people_recall=ratio(people_hits, people_total),
        people_clips=people_total,
        count_accuracy=ratio(counted, people_total),
        vehicle_recall=ratio(found["vehicles"], labelled["vehicles"]),
        hands_recall=ratio(found["hands"], labelled["hands"]),
        expression_recall=ratio(found["expression"], labelled["expression"]),
        looks_recall=ratio(found["looks"], labelled["looks"]),
        glasses_recall=ratio(found["glasses"], labelled["glasses"]),
        setting_accuracy=ratio(found["indoors"] + found["outdoors"], len(known_setting)),
        action_recall=ratio(sum(found[a] for a in actions), sum(labelled[a] for a in actions)),
        walking_recall=ratio(found["walking"], labelled["walking"]),
        rtf=round(sum(r.sender_s for r in results) / video_s, 4) if video_s and timed else None,
    )
