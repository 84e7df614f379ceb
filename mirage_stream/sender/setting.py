"""Indoors or outdoors, from evidence that white walls and windows do not fake.

The main evidence is a scene probe: a logistic regression on the pooled backbone features of the
shipped SSD-MobileNetV2 (the object detector's own network, run on its own interpreter), trained
by ``tools/train_setting_probe.py`` on hand-checked ImageNet sample photographs of rooms, shops,
streets and landscapes, none from the evaluation sets. It answers with a probability; the
setting is stated only where every probe frame is sure the same way, and detections can veto it
(cars and bicycles say street, furniture says room). Without the probe, the older cues decide:
furniture the detector confirms, greenery, or sky over a street with vehicles in it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mirage_stream.registry import Registry
from mirage_stream.sender.appearance import sky_share, vegetation_share
from mirage_stream.sender.shipped_model import model_bytes
from mirage_stream.sender.sightings import Sightings
from mirage_stream.sender.ssd_pass import SsdPass
from mirage_stream.types import FrameArray

# Thresholds on the probe's P(outdoor), read off the tune halves only (tools/setting_scores.py):
# there, rooms score 0.02-0.49 and streets, car parks and plazas 0.18-0.97 on a probe frame; a
# street seen straight down scored 0.03 on two of three frames (so every probe frame must agree,
# and a confirmed car or bicycle vetoes "indoors") and heads before a plain wall up to 0.65 (so
# "outdoors" needs 0.9).
INDOOR_BELOW = 0.1
OUTDOOR_ABOVE = 0.9
PROBE_FRAMES = 3  # spread over the segment's sampled frames
# Where the older cues stand alone (no probe) they are overruled by a probe leaning the other way.
_LEANING = 0.5
STATED_CONFIDENCE = 0.7  # a stated setting's confidence (FactConfidence.outdoors)
_SKY_SHARE = 0.05  # of the top third (median over candidates)
_VEGETATION_SHARE = 0.15  # of the frame
_CLOSE_UP_FACE = 0.25  # of the frame width: the background is too small to judge the setting
# This many cars confirmed in two sampled frames, none around the camera: a road, outdoors.
TRAFFIC_CARS = 3
# Furniture and desk things the detector confirms in two sampled frames: evidence of a room.
INDOOR_KINDS = ("chair", "table", "screen", "laptop")
_STREET_KINDS = ("car", "bicycle")
PROBE_FILE = "setting_probe.npz"
PROBE_SHA256 = "d5e7d5503c46e906839ade55d9206c9add8321d1b79666fdc72a236617ef8fbe"
# The SSD's last backbone layer (10x10x1280 on a 300x300 input), before the box predictors.
FEATURE_TENSOR = "FeatureExtractor/MobilenetV2/Conv_1/Relu6"
_INPUT = 300


class SettingClassifier(Protocol):
    name: str

    def outdoor_probability(self, frame: FrameArray) -> float | None:
        """P(outdoor) for one frame, or None where the classifier cannot judge."""
        ...


@dataclass(frozen=True)
class SceneProbe:
    """A linear probe on the SSD's averaged last feature map (``SsdOutputs.embedding``):
    standardise, weigh, logistic."""

    mean: npt.NDArray[np.float32]
    scale: npt.NDArray[np.float32]
    weights: npt.NDArray[np.float32]
    bias: float

    def probability(self, embedding: npt.NDArray[np.float32]) -> float:
        logit = float(((embedding - self.mean) / self.scale) @ self.weights) + self.bias
        return float(1.0 / (1.0 + np.exp(-logit)))

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, mean=self.mean, scale=self.scale, weights=self.weights, bias=self.bias)
        return buffer.getvalue()


@cache
def shipped_probe() -> SceneProbe:
    arrays = np.load(io.BytesIO(model_bytes(PROBE_FILE, PROBE_SHA256)))
    return SceneProbe(arrays["mean"], arrays["scale"], arrays["weights"], float(arrays["bias"]))


class SsdSceneProbe:
    name = "ssd-scene-probe"

    def __init__(self) -> None:
        self._probe = shipped_probe()  # a bad file fails when the sender is built
        self._pass = SsdPass()

    def outdoor_probability(self, frame: FrameArray) -> float | None:
        # The object detector has usually just run on this frame: its pass is reused.
        return self._probe.probability(self._pass.run(frame).embedding)


class NoSettingClassifier:
    name = "none"

    def outdoor_probability(self, frame: FrameArray) -> float | None:
        return None


def probe_verdict(probabilities: Sequence[float | None]) -> str | None:
    """ "indoor" or "outdoor" where every frame is sure the same way, else None."""
    known = [p for p in probabilities if p is not None]
    if not known or len(known) < len(probabilities):
        return None
    if max(known) < INDOOR_BELOW:
        return "indoor"
    if min(known) > OUTDOOR_ABOVE:
        return "outdoor"
    return None


@dataclass(frozen=True)
class Setting:
    outdoors: bool
    indoors: bool

    @property
    def confidence(self) -> float:
        return STATED_CONFIDENCE if self.outdoors or self.indoors else 0.0


def judge_setting(
    classifier: SettingClassifier,
    frames: Sequence[FrameArray] | npt.NDArray[np.uint8],
    sightings: Sightings,
    candidates: Sequence[int],
    faces: Sequence[float],
    with_detector: bool,
    light: bool = False,
) -> Setting:
    """Indoors, outdoors or neither. ``candidates``: the frames the sky is measured on;
    ``faces``: the widths of every face seen (fractions of the frame), for a large face hides
    the setting (a car's window shows sky behind a driver's head). ``light``: no probe (a live
    sender running behind)."""
    if any(width >= _CLOSE_UP_FACE for width in faces):
        return Setting(False, False)
    confirmed = {kind for kind in (*INDOOR_KINDS, *_STREET_KINDS) if sightings.confirmed(kind)}
    surrounding = {d.kind for _, d in sightings.detections if d.surrounds_camera}
    furnished = bool(confirmed & set(INDOOR_KINDS))
    street = any(kind in confirmed and kind not in surrounding for kind in _STREET_KINDS)
    sampled = list(sightings.sampled) or [len(frames) // 2]
    chosen = sorted({sampled[round(i)] for i in np.linspace(0, len(sampled) - 1, PROBE_FRAMES)})
    probabilities = [] if light else [classifier.outdoor_probability(frames[i]) for i in chosen]
    verdict = probe_verdict(probabilities) if probabilities else None
    if verdict == "indoor":
        return Setting(False, not (confirmed & set(_STREET_KINDS)))
    if verdict == "outdoor":
        return Setting(not furnished, False)
    if not furnished and sightings.confirmed("car") >= TRAFFIC_CARS and "car" not in surrounding:
        # Traffic: a road seen from above or at night, where the probe (fitted on daylight
        # photographs at eye level) is unsure; a firm indoor verdict above still vetoes.
        return Setting(True, False)
    leaning = float(np.mean([p for p in probabilities if p is not None] or [_LEANING]))
    greenery = vegetation_share(frames[len(frames) // 2]) >= _VEGETATION_SHARE
    sky = float(np.median([sky_share(frames[i]) for i in candidates]))
    if with_detector:
        # Greenery outside any room, or sky over a street with cars or bicycles in it (not
        # around the camera: a car's window shows sky too); the sky cue alone is gone.
        outdoors = not furnished and (greenery or (street and sky >= _SKY_SHARE))
    else:
        outdoors = greenery or sky >= _SKY_SHARE
    indoors = furnished and not outdoors and "car" not in confirmed
    return Setting(outdoors and leaning >= _LEANING, indoors and leaning <= _LEANING)


SETTING_CLASSIFIERS: Registry[Callable[[], SettingClassifier]] = Registry(
    "setting classifier", "--setting-classifier"
)
SETTING_CLASSIFIERS.add(
    "ssd-scene-probe",
    "indoor/outdoor probe on the object detector's backbone (shipped weights)",
    SsdSceneProbe,
)
SETTING_CLASSIFIERS.add(
    "none", "no probe: furniture, greenery and street cues only", NoSettingClassifier
)
DEFAULT_SETTING_CLASSIFIER = "ssd-scene-probe"
