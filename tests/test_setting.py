"""Indoors or outdoors: the shipped scene probe and the rules that let it speak."""

from __future__ import annotations

import io

import numpy as np
import pytest
import skimage.data

from mirage_stream.errors import InputError
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.objects import Detection
from mirage_stream.sender.setting import (
    INDOOR_BELOW,
    OUTDOOR_ABOVE,
    SceneProbe,
    Setting,
    SsdSceneProbe,
    judge_setting,
    probe_verdict,
    shipped_probe,
)
from mirage_stream.sender.sightings import follow

FRAMES = np.full((30, 96, 128, 3), 120, dtype=np.uint8)  # grey: no sky, no greenery
SAMPLED = [0, 6, 12, 18, 24]


class FixedProbe:
    """A classifier that answers the same probability for every frame."""

    name = "fixed"

    def __init__(self, probability: float | None) -> None:
        self.probability = probability
        self.frames_seen = 0

    def outdoor_probability(self, frame: np.ndarray) -> float | None:
        self.frames_seen += 1
        return self.probability


def _seen(*kinds: str):
    boxes = [Detection(kind, 0.6, 0.1 + 0.2 * n, 0.3, 0.15, 0.3) for n, kind in enumerate(kinds)]
    return follow([(i, list(boxes)) for i in SAMPLED])


def _judge(probability: float | None, *kinds: str, faces=(), light=False) -> Setting:
    return judge_setting(
        FixedProbe(probability), FRAMES, _seen(*kinds), [0, 15, 29], faces, True, light
    )


def test_the_shipped_probe_tells_a_launch_pad_outdoors_and_a_studio_portrait_indoors():
    probe = SsdSceneProbe()
    assert probe.outdoor_probability(skimage.data.rocket()) > OUTDOOR_ABOVE
    assert probe.outdoor_probability(skimage.data.astronaut()) < INDOOR_BELOW


def test_the_probe_file_round_trips():
    probe = shipped_probe()
    assert probe.weights.shape == probe.mean.shape == probe.scale.shape == (1280,)
    embedding = np.linspace(0, 1, 1280, dtype=np.float32)
    again = np.load(io.BytesIO(probe.to_bytes()))
    copy = SceneProbe(again["mean"], again["scale"], again["weights"], float(again["bias"]))
    assert copy.probability(embedding) == pytest.approx(probe.probability(embedding))


def test_every_probe_frame_must_agree():
    assert probe_verdict([0.02, 0.05, 0.01]) == "indoor"
    assert probe_verdict([0.95, 0.97]) == "outdoor"
    # A street seen straight down looked like a floor on one frame of the tune half.
    assert probe_verdict([0.03, 0.53, 0.02]) is None
    assert probe_verdict([0.02, None]) is None
    assert probe_verdict([]) is None


def test_the_probe_states_the_setting_unless_detections_say_otherwise():
    assert _judge(0.02) == Setting(False, True)
    assert _judge(0.97) == Setting(True, False)
    assert _judge(0.02, "car") == Setting(False, False)  # cars in a "room": a street from above
    assert _judge(0.97, "chair") == Setting(False, False)  # furniture under a bright "sky"
    assert _judge(0.5) == Setting(False, False)  # unsure, and no cue either


def test_a_large_face_hides_the_setting_whatever_the_probe_says():
    assert _judge(0.01, "chair", faces=[0.4]) == Setting(False, False)
    assert _judge(0.01, "chair", faces=[0.1]).indoors


def test_the_furniture_cue_stands_alone_unless_the_probe_leans_outdoors():
    assert _judge(None, "chair") == Setting(False, True)  # no probe: furniture says room
    assert _judge(0.3, "chair").indoors
    assert _judge(0.7, "chair") == Setting(False, False)


def test_a_sender_running_behind_skips_the_probe():
    probe = FixedProbe(0.01)
    setting = judge_setting(probe, FRAMES, _seen(), [0, 15, 29], (), True, light=True)
    assert probe.frames_seen == 0 and setting == Setting(False, False)
    judge_setting(probe, FRAMES, _seen(), [0, 15, 29], (), True)
    assert probe.frames_seen == 3


def test_an_unknown_setting_classifier_is_refused_by_name():
    with pytest.raises(InputError, match="--setting-classifier must be one of ssd-scene-probe"):
        SenderConfig(setting_classifier="places365")


def test_the_probe_reads_the_pass_the_detector_just_made():
    """One SSD run per frame: the object detector's pass is kept, and the probe's embedding is
    the one a fresh pass gives."""
    from mirage_stream.sender.objects import SsdOpenImagesDetector
    from mirage_stream.sender.ssd_pass import SsdPass

    frame = np.ascontiguousarray(skimage.data.astronaut()[::2, ::2])
    SsdOpenImagesDetector().detect(frame)
    first, again = SsdPass().run(frame), SsdPass().run(frame)
    assert first is again
    other = np.ascontiguousarray(frame[::-1])
    assert SsdPass().run(other) is not first
    probe = SsdSceneProbe()
    assert probe.outdoor_probability(frame) == pytest.approx(
        shipped_probe().probability(first.embedding)
    )
