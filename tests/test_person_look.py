"""The person in a call as the caption tells it: hands confirmed by the hand landmark model,
a second face confirmed by the face mesh, expressions, head direction and glasses read from the
mesh, and counts of small vehicles as lower bounds. Real clips from the tune half of the
real-footage set, composed frames for the rules."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mirage_stream.bench.caption_score import verdict
from mirage_stream.bench.caption_set import ClipLabels
from mirage_stream.bench.real_footage import load_real_set, source_file
from mirage_stream.looks import PersonLook
from mirage_stream.sender.analysis import SceneAnalyser
from mirage_stream.sender.captioner import CaptionSettings, caption_sentences
from mirage_stream.sender.detectors import Box
from mirage_stream.sender.face_reading import FaceReading
from mirage_stream.sender.faces_seen import FrameFeatures, confirmed_faces
from mirage_stream.sender.hands import (
    HAND_DETECTORS,
    ConfirmedHandDetector,
    HandLandmarkConfirmer,
    Palm,
    PalmDetector,
    hands_seen,
)
from mirage_stream.sender.objects import Detection
from mirage_stream.sender.person_look import (
    FACE_READERS,
    GLASSES_EDGE,
    SMILE_LIFT,
    TURNED,
    person_look,
)
from mirage_stream.sender.sentences import Statement
from mirage_stream.sender.sightings import Sightings, Track, people_motion, sample_indices
from mirage_stream.sources import FileSource, SourceConfig
from mirage_stream.types import FactConfidence, SceneFacts, VideoSegment


def _segment(name: str) -> VideoSegment:
    clip = next(clip for clip in load_real_set() if clip.name == name)
    source = FileSource(Path(source_file(clip)), SourceConfig(width=320, height=240))
    try:
        return next(source.iter_segments(1e6))
    finally:
        source.close()


@pytest.fixture(scope="module")
def analyser() -> SceneAnalyser:
    return SceneAnalyser()


def test_a_palm_on_long_hair_is_not_a_hand_and_signing_hands_are():
    palms, confirmer, hands = PalmDetector(), HandLandmarkConfirmer(), ConfirmedHandDetector()
    talking_head = _segment("hdtf-hill")  # tune: long hair beside the face, no hand
    frames = [talking_head.frames[i] for i in sample_indices(talking_head.num_frames, 8.0)]
    fooled = [frame for frame in frames if palms.detect(frame)]
    assert fooled, "the palm detector alone fires on this clip's hair"
    assert all(confirmer.presence(f, p) < 0.5 for f in fooled for p in palms.detect(f))
    assert not any(hands.detect(frame) for frame in frames)
    signer = _segment("asl-milk")  # a signer: both hands in view
    sampled = sample_indices(signer.num_frames, signer.duration)
    assert sum(bool(hands.detect(signer.frames[i])) for i in sampled) >= 2
    # Confirmed by two models, one frame is enough; a palm alone needs two.
    one = [[Palm(0.9, 0.4, 0.8, 0.05)], [], []]
    assert hands_seen(one, frames_needed=hands.frames_needed).in_view
    assert not hands_seen(one, frames_needed=palms.frames_needed).in_view


def test_the_mesh_reads_glasses_smiles_and_turns_on_tune_clips(analyser):
    looks = {
        name: analyser.analyse(_segment(name)).facts.look
        for name in ("hdtf-menendez", "hdtf-markey", "head-man", "hdtf-radio2")
    }
    assert looks["hdtf-menendez"].glasses and not looks["hdtf-markey"].glasses
    assert looks["head-man"].smiling and not looks["hdtf-markey"].smiling
    assert looks["hdtf-radio2"].looks == ("right",)
    assert looks["hdtf-markey"].looks == ()


def _reading(**values: float) -> FaceReading:
    neutral = dict(
        turn=0.0, tilt=0.35, mouth_open=0.03, corner_lift=0.0, eyes_open=0.35, bridge_edge=2.0
    )
    return FaceReading(**{**neutral, **values})


def test_a_claim_needs_agreeing_frames():
    smile = _reading(corner_lift=SMILE_LIFT + 0.01)
    assert person_look([smile]) == PersonLook()  # one frame alone says nothing
    assert person_look([smile, _reading(), _reading()]) == PersonLook()
    assert person_look([smile, smile, _reading()]).smiling
    turned = _reading(turn=-TURNED - 0.1)
    assert person_look([turned, turned, _reading()]).looks == ("left",)
    glasses = _reading(bridge_edge=GLASSES_EDGE + 5)
    assert not person_look([glasses, _reading(), _reading()]).glasses  # a state: most frames
    assert person_look([glasses, glasses, _reading()]).glasses


def test_a_second_face_needs_the_mesh():
    class Reader:
        name = "scripted"

        def __init__(self, sees: bool) -> None:
            self.sees = sees

        def read(self, frame, face):
            return None

        def confirms(self, frame, face):
            return self.sees

    frames = np.zeros((1, 240, 320, 3), np.uint8)
    feature = FrameFeatures(
        0, 1.0, 0.5, (Box(100, 50, 80, 80), Box(10, 10, 20, 20)), np.zeros((8, 8), np.float32)
    )
    kept = confirmed_faces(Reader(False), frames, feature)
    assert kept.faces == feature.faces[:1]
    kept = confirmed_faces(Reader(True), frames, feature)
    assert kept.faces == feature.faces


def _facts(**values) -> SceneFacts:
    return replace(SceneFacts(confidence=FactConfidence(people=0.9)), **values)


def _claims(facts: SceneFacts) -> list[Statement]:
    sentences = caption_sentences(facts, CaptionSettings())
    return [claim for sentence in sentences for claim in sentence.claims]


def test_small_or_disagreeing_cars_are_counted_as_lower_bounds():
    exact = caption_sentences(_facts(objects=(("car", 3),)), CaptionSettings())
    assert exact[0].text == "Three cars are in view."
    assert Statement("vehicles", (3, 3)) in exact[0].claims
    few = caption_sentences(
        _facts(objects=(("car", 3),), objects_at_least=("car",)), CaptionSettings()
    )
    assert few[0].text == "At least three cars are in view."
    many = caption_sentences(
        _facts(objects=(("car", 7),), objects_at_least=("car",)), CaptionSettings()
    )
    assert many[0].text == "Many cars are in view."
    labels = ClipLabels.from_json(
        {
            "people": [0, 0],
            "camera": ["still"],
            "setting": "outdoor",
            "colours": [],
            "vehicles": [10, 20],
        }
    )
    assert verdict(Statement("vehicles", (6, 99)), labels)
    assert not verdict(Statement("vehicles", (3, 3)), labels)


def test_the_look_is_told_of_one_person_only():
    look = PersonLook(smiling=True, looks=("left", "right", "down"), glasses=True)
    text = " ".join(
        s.text for s in caption_sentences(_facts(people=1, look=look), CaptionSettings())
    )
    assert "The person smiles, looks to both sides of the frame and down and wears glasses." in text
    claims = _claims(_facts(people=1, look=look))
    assert Statement("looks", "down") in claims and Statement("glasses", 1.0) in claims
    assert not [c for c in _claims(_facts(people=2, look=look)) if c.fact == "looks"]


def test_detectors_by_name():
    assert HAND_DETECTORS.names()[0] == "mediapipe-hand"
    assert FACE_READERS.names() == ["mediapipe-face-mesh", "none"]


def _walker(dx: float, dy: float) -> Track:
    """A 0.2-high person seen in five frames 10 apart, moving dx, dy (fractions) each time."""
    return Track(
        "person",
        tuple(
            (10 * i, Detection("person", 0.9, 0.4 + dx * i, 0.3 + dy * i, 0.08, 0.2))
            for i in range(5)
        ),
    )


def _crowd(*tracks: Track) -> Sightings:
    return Sightings(5, {"person": (len(tracks),) * 5}, tracks, ())


def test_a_crowd_gets_a_direction_only_when_most_of_it_walks_that_way():
    right, down, still = _walker(0.05, 0.0), _walker(0.0, 0.05), _walker(0.0, 0.0)
    assert people_motion(_crowd(right, right, right, down), fps=25).walking == "right"
    # Two of five go right, the rest cross the square up or down it or stand: no direction.
    assert people_motion(_crowd(right, right, down, down, still), fps=25).walking == ""
