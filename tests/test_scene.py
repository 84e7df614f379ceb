"""The offline captioner against facts anyone can see in the shipped clips."""

import numpy as np
import pytest

from mirage_stream.sender import CaptionSettings, MeasuredFactsCaptioner, SceneAnalyser
from mirage_stream.sources import FileSource, SourceConfig, sample_path
from mirage_stream.types import FactConfidence


def _captions(name):
    source = FileSource(sample_path(name), SourceConfig())
    try:
        segments = list(source.iter_segments(2.0))
    finally:
        source.close()
    analyser, captioner = SceneAnalyser(), MeasuredFactsCaptioner()
    return [captioner.caption(s, analyser.analyse(s), CaptionSettings()) for s in segments]


@pytest.fixture(scope="module")
def carphone():
    return _captions("carphone")


@pytest.fixture(scope="module")
def bikes():
    return _captions("bikes")


@pytest.fixture(scope="module")
def bigbuckbunny():
    return _captions("bigbuckbunny")


def test_carphone_one_person_one_face_talking_camera_still(carphone):
    for caption in carphone:
        facts = caption.facts
        assert facts.people == 1 and len(facts.faces) == 1
        assert facts.talking
        assert np.hypot(facts.motion.dx, facts.motion.dy) < 0.3
        assert caption.text.startswith("One person is in view")
        assert "talks" in caption.text and "The camera is almost still" in caption.text
        assert not facts.animation


def test_bikes_things_move_outdoors_with_cuts(bikes):
    moving = [c for c in bikes if c.facts.subject_share >= 0.03 and c.facts.moving_objects]
    assert len(moving) >= len(bikes) - 1
    assert any(c.facts.outdoors for c in bikes)
    assert any(c.facts.cuts for c in bikes)
    assert not any(c.facts.animation for c in bikes)
    assert any("moves" in c.text for c in bikes)


def test_bigbuckbunny_is_outdoors_and_animation_is_a_hint_never_stated(bigbuckbunny):
    for caption in bigbuckbunny:
        assert caption.facts.animation and caption.facts.outdoors
        # The render cue also fires on sharp photographs: kept below what a caption states.
        assert caption.facts.confidence.animation < FactConfidence.STATED
        assert "animated" not in caption.text
        assert "outdoors" in caption.text
