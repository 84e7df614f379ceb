"""The detectors with real weights (SSD on Open Images, MediaPipe's palm detector), the tracks
built on them and the claims they support: checked on real footage from outside the project
(``footage/real``) and on synthetic detections."""

from __future__ import annotations

import asyncio
import fractions
import json

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from mirage_stream.bench.real_footage import (
    REAL_SET_FILE,
    footage_frames,
    load_real_set,
    verify_checksums,
)
from mirage_stream.errors import PayloadError
from mirage_stream.sender.analysis import SceneAnalyser
from mirage_stream.sender.captioner import CaptionSettings, describe
from mirage_stream.sender.hands import PalmDetector, blaze_anchors, hands_seen
from mirage_stream.sender.objects import (
    OBJECT_DETECTORS,
    Detection,
    NoObjectDetector,
    SsdOpenImagesDetector,
    decode_ssd,
    ssd_anchors,
)
from mirage_stream.sender.sightings import find_sightings, people_motion
from mirage_stream.sources.samples import sample_path
from mirage_stream.sources.track_source import TrackSegments, TrackSegmentsConfig
from mirage_stream.types import FactConfidence, SceneFacts
from mirage_stream.wire.facts import pack_facts, unpack_facts


def _clip(name: str):
    return next(clip for clip in load_real_set() if clip.name == name)


def _frame(name: str, index: int = 0) -> np.ndarray:
    return next(f for i, f in enumerate(footage_frames(_clip(name))) if i == index)


# --- the real set ---------------------------------------------------------------------------


def test_the_real_set_is_real_footage_split_by_source_with_licences():
    data = json.loads(REAL_SET_FILE.read_text())
    clips = load_real_set()
    assert len(clips) >= 40
    halves = {}
    for clip in clips:
        halves.setdefault(clip.recipe["source"], set()).add(clip.split)
    assert all(len(splits) == 1 for splits in halves.values())  # a source is on one side
    assert {s for splits in halves.values() for s in splits} == {"tune", "test"}
    assert all(data["sources"][source]["licence"] for source in halves)
    assert verify_checksums(data["checksums"]) == []
    assert {clip.recipe["file"].rsplit(".", 1)[1] for clip in clips} >= {"gif", "mkv", "avi", "mp4"}


# --- the object detector --------------------------------------------------------------------


def test_ssd_anchors_and_box_coder():
    anchors = ssd_anchors()
    assert anchors.shape == (1917, 4)
    labels = ("???", "Person", "Car")
    boxes = np.zeros((1917, 4), np.float32)
    logits = np.full((1917, 3), -10.0, np.float32)
    logits[500, 1] = 2.0  # one confident person exactly on anchor 500
    found = decode_ssd(boxes, logits, anchors, labels)
    assert [d.kind for d in found] == ["person"]
    y, x, h, w = anchors[500]
    assert found[0].height == pytest.approx(min(h, 1 - max(0, y - h / 2)), abs=1e-3)
    assert found[0].x == pytest.approx(max(0.0, x - w / 2), abs=1e-4)


def test_the_shipped_detector_finds_a_standing_signer_and_nothing_in_an_empty_room():
    detector = SsdOpenImagesDetector()
    signer = [d for d in detector.detect(_frame("asl-again")) if d.kind == "person"]
    assert len(signer) == 1 and signer[0].height > 0.6
    empty = detector.detect(_frame("one-by-one-empty"))
    assert not [d for d in empty if d.kind == "person"]


def test_the_palm_detector_finds_a_signers_hands_not_an_empty_car_park():
    assert blaze_anchors().shape == (2016, 2) and blaze_anchors(128).shape == (896, 2)
    detector = PalmDetector()
    frames = list(footage_frames(_clip("stage-2")))
    assert sum(bool(detector.detect(frame)) for frame in frames[:60:10]) >= 3
    assert detector.detect(_frame("car-park-empty")) == []


def test_registries_name_every_detector():
    assert OBJECT_DETECTORS.names() == ["ssd-openimages", "opencv-hog", "none"]


# --- tracks and what people do ----------------------------------------------------------------


class _Scripted:
    """A detector that returns what the test scripted for each frame index."""

    name = "scripted"
    kinds = ("person",)

    def __init__(self, boxes):
        self.boxes = boxes

    def detect(self, frame):
        return self.boxes[int(frame[0, 0, 0])]


def _frames(count: int) -> np.ndarray:
    return np.stack([np.full((4, 4, 3), i, np.uint8) for i in range(count)])


def _person(x: float, y: float, w: float, h: float) -> Detection:
    return Detection("person", 0.5, x, y, w, h)


@pytest.mark.parametrize(
    ("boxes", "walking", "standing"),
    [
        ([_person(0.1 + 0.1 * i, 0.4, 0.1, 0.3) for i in range(6)], "right", False),
        (
            [_person(0.45, 0.3 - 0.03 * i, 0.1 + 0.02 * i, 0.3 + 0.08 * i) for i in range(6)],
            "towards",
            False,
        ),
        ([_person(0.45, 0.2, 0.15, 0.7) for _ in range(6)], "", True),
        # A signer: the box wobbles as the arms move, the person stays.
        ([_person(0.4 + 0.01 * (i % 2), 0.1, 0.2, 0.85) for i in range(6)], "", True),
    ],
)
def test_people_motion_from_tracks(boxes, walking, standing):
    frames = _frames(60)
    indices = [0, 12, 24, 36, 48, 59]
    script = {index: [box] for index, box in zip(indices, boxes, strict=True)}
    sightings = find_sightings(frames, indices, _Scripted(script))
    assert sightings.confirmed("person") == 1
    motion = people_motion(sightings, fps=25.0)
    assert (motion.walking, motion.standing) == (walking, standing)


def test_hands_that_move_gesture_hands_that_rest_do_not():
    from mirage_stream.sender.hands import Palm

    resting = [
        [Palm(0.9, 0.4, 0.8, 0.05)],
        [Palm(0.9, 0.41, 0.8, 0.05)],
        [Palm(0.9, 0.4, 0.79, 0.05)],
    ]
    signing = [
        [Palm(0.9, 0.4, 0.8, 0.05)],
        [Palm(0.9, 0.5, 0.5, 0.05)],
        [Palm(0.9, 0.45, 0.6, 0.05)],
    ]
    assert hands_seen(resting).in_view and not hands_seen(resting).gesturing
    assert hands_seen(signing).gesturing
    assert not hands_seen([[Palm(0.9, 0.4, 0.8, 0.05)], [], []]).in_view  # one frame only


# --- claims ---------------------------------------------------------------------------------


def test_captions_name_objects_walks_towards_the_camera_and_hands():
    facts = SceneFacts(
        people=2,
        walking="towards",
        objects=(("car", 2), ("bicycle", 1), ("chair", 1)),
        hands=True,
        indoors=False,
        confidence=FactConfidence(),
    )
    text = describe(facts, CaptionSettings())
    assert "Two people walk towards the camera." in text
    assert "Two cars and a bicycle are in view." in text
    assert "There are chairs." in text
    assert "Hands are in view." in text
    assert "outdoors" not in text and "indoors" not in text


def test_new_walking_directions_and_indoors_travel_on_the_wire():
    facts = SceneFacts(people=1, walking="away", indoors=True)

    def require(ok: bool, message: str) -> None:
        if not ok:
            raise PayloadError(message)

    back = unpack_facts(pack_facts(facts), require)
    assert back.walking == "away" and back.indoors and not back.outdoors


def test_a_signer_on_real_footage_stands_with_hands_in_view_and_never_walks():
    frames = np.stack(list(footage_frames(_clip("asl-milk"))))
    from mirage_stream.bench.real_footage import source_file
    from mirage_stream.sources import FileSource, SourceConfig

    source = FileSource(source_file(_clip("asl-milk")), SourceConfig(width=320, height=240))
    try:
        segment = next(source.iter_segments(1e6))
    finally:
        source.close()
    assert frames.shape[0] == segment.num_frames
    facts = SceneAnalyser().analyse(segment).facts
    assert facts.people == 1 and facts.hands and not facts.walking and facts.indoors
    text = describe(facts, CaptionSettings())
    assert "walk" not in text and "outdoors" not in text and "indoors" in text


def _whole_clip_segment(name: str):
    from mirage_stream.bench.real_footage import source_file
    from mirage_stream.sources import FileSource, SourceConfig

    source = FileSource(source_file(_clip(name)), SourceConfig(width=320, height=240))
    try:
        return next(source.iter_segments(1e6))
    finally:
        source.close()


def test_a_head_that_turns_is_neither_talking_nor_gesturing():
    # head-woman (a tune clip) turns her head in silence: mouth and brow move alike.
    facts = SceneAnalyser().analyse(_whole_clip_segment("head-woman")).facts
    assert facts.people >= 1 and not facts.talking and not facts.gesturing


def test_muted_reds_are_dark_red_and_strong_reds_red():
    from mirage_stream.sender.colours import colour_shares

    def named(hsv: tuple[int, int, int]) -> str:
        import cv2

        pixel = np.full((8, 8, 3), hsv, dtype=np.uint8)
        rgb = cv2.cvtColor(pixel, cv2.COLOR_HSV2RGB)
        shares = colour_shares(rgb)
        return max(shares, key=lambda name: shares[name])

    assert named((4, 108, 114)) == "dark red"  # a reddish wooden floor
    assert named((2, 220, 200)) == "red"  # a red car


def test_the_sender_chooses_its_detectors_by_name():
    from mirage_stream.errors import InputError
    from mirage_stream.sender.config import SenderConfig
    from mirage_stream.sender.factory import build_sender
    from mirage_stream.sender.hands import NoHandDetector

    sender = build_sender(SenderConfig(object_detector="none", hand_detector="none"))
    assert isinstance(sender.analyser.objects, NoObjectDetector)
    assert isinstance(sender.analyser.hands, NoHandDetector)
    assert isinstance(build_sender(SenderConfig()).analyser.objects, SsdOpenImagesDetector)
    with pytest.raises(InputError, match="--object-detector"):
        SenderConfig(object_detector="yolo")


class _FileCamera(MediaStreamTrack):
    """A video file played as a browser camera track would deliver it."""

    kind = "video"

    def __init__(self, path) -> None:
        super().__init__()
        with av.open(str(path)) as container:
            self.images = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        self.sent = 0

    async def recv(self):
        if self.sent >= len(self.images):
            raise MediaStreamError
        frame = av.VideoFrame.from_ndarray(self.images[self.sent], format="rgb24")
        frame.pts = round(self.sent * 90_000 / 25)
        frame.time_base = fractions.Fraction(1, 90_000)
        self.sent += 1
        await asyncio.sleep(0)
        return frame


def test_carphone_through_the_browser_camera_path_gets_no_walking_claim():
    stream = TrackSegments(TrackSegmentsConfig(width=320, height=240, segment_s=2.0))
    stream.attach(_FileCamera(sample_path("carphone")))

    async def take(count: int):
        taken = []
        async for envelope in stream.envelopes():
            taken.append(envelope.item)
            if len(taken) == count:
                return taken
        return taken

    analyser = SceneAnalyser()
    for segment in asyncio.run(take(2)):
        facts = analyser.analyse(segment).facts
        assert facts.people >= 1 and not facts.walking
        assert "walk" not in describe(facts, CaptionSettings())


def test_labels_name_a_clip_of_either_set():
    from mirage_stream.bench.labels import labelled_clip
    from mirage_stream.errors import InputError

    assert labelled_clip("real:asl-book").labels.hands
    assert labelled_clip("real:street-night").split == "test"
    with pytest.raises(InputError, match="real-footage set"):
        labelled_clip("real:no-such-clip")
