"""Scene analysis: one pass of measurements over a segment, shared by the captioner, the keyframe
selector and the privacy filter so that no detector runs twice on the same frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import numpy.typing as npt

from mirage_stream.looks import PersonLook
from mirage_stream.pipeline import SegmentTrace, worked
from mirage_stream.sender.appearance import (
    exposure,
    flat_area_noise,
    mean_brightness,
    sharpness,
    thumbnail,
    vivid_share,
)
from mirage_stream.sender.camera_trust import (
    UNSURE_CAMERA_CONFIDENCE,
    camera_confidence,
    camera_move,
    camera_moves_between,
    zoom_everywhere,
)
from mirage_stream.sender.close_faces import (
    CLOSE_FACE_DETECTORS,
    DEFAULT_CLOSE_FACE_DETECTOR,
    CloseFaceDetector,
    close_face_count,
)
from mirage_stream.sender.colours import dominant_colours
from mirage_stream.sender.detectors import Box, detect_faces
from mirage_stream.sender.faces_seen import (
    FrameFeatures,
    confirmed_faces,
    face_motion,
    face_regions,
    largest_faces,
    on_face,
    read_look,
)
from mirage_stream.sender.flow import (
    camera_motion,
    camera_shake,
    majority_colour,
    measure_flow,
    subject_motion,
)
from mirage_stream.sender.hands import (
    DEFAULT_HAND_DETECTOR,
    HAND_DETECTORS,
    HandDetector,
    Palm,
    hands_seen,
)
from mirage_stream.sender.objects import (
    DEFAULT_OBJECT_DETECTOR,
    OBJECT_DETECTORS,
    ObjectDetector,
)
from mirage_stream.sender.people import PeopleFinding, find_people
from mirage_stream.sender.people_count import (
    people_colour,
    people_from_detections,
    people_from_movers,
)
from mirage_stream.sender.person_look import DEFAULT_FACE_READER, FACE_READERS, FaceReader
from mirage_stream.sender.pose import (
    DEFAULT_POSE_DETECTOR,
    POSE_DETECTORS,
    PoseDetector,
    find_bodies,
    seated,
    someone_sits,
)
from mirage_stream.sender.setting import (
    DEFAULT_SETTING_CLASSIFIER,
    SETTING_CLASSIFIERS,
    SettingClassifier,
    judge_setting,
)
from mirage_stream.sender.shots import scene_cuts
from mirage_stream.sender.sightings import (
    Sightings,
    confirmed_count,
    detect_in,
    follow,
    sample_indices,
)
from mirage_stream.types import (
    FaceFact,
    FactConfidence,
    SceneFacts,
    VideoSegment,
)

# Thresholds, each checked against the shipped clips (tests/test_scene.py) and synthetic scenes.
LIGHT_SAMPLES = 3  # detector frames per segment when a live sender sheds work (load_shed.py)
_VIVID_SHARE = 0.2
_RENDER_NOISE = 1.5  # grey levels between frames in flat areas
_GESTURE_SHARE = 0.04  # of the frame moving against the camera, with a face in view
# Confidence of each cue when its threshold is met (see FactConfidence): a face the cascade
# finds in two sampled frames is rarely wrong; render cues are indirect.
_TALKING_CONFIDENCE = 0.8
_GESTURE_CONFIDENCE = 0.6
# Kinds whose motion is their own, not the camera's: left out of the camera fit.
_MOVABLE = ("person", "car", "bicycle", "dog", "cat", "cow")
_CAPTIONED_KINDS = ("car", "bicycle", "dog", "cat", "cow", "chair", "table", "screen", "laptop")
# Less background than this outside the detected objects, on average: the camera is not told.
_CAMERA_BACKGROUND = 0.3
# A vehicle or animal counted exactly must be at least this tall (of the frame) in every
# sampled frame, and the frames must agree; else its count is a lower bound.
_COUNTABLE_HEIGHT = 0.15
# Vivid colours over noise-free flat areas also describe a sharp photograph of a flag or a
# uniform re-encoded without grain: on the tune half a portrait scored as vivid as the cartoon.
# Kept as a hint for the receiver's style, never stated.
_ANIMATION_CONFIDENCE = 0.5


@dataclass(frozen=True)
class SegmentAnalysis:
    facts: SceneFacts
    candidates: tuple[FrameFeatures, ...]
    mean_thumbnail: npt.NDArray[np.float32]  # what the segment looks like on average
    cut_frames: tuple[int, ...]
    # The frames the detectors sampled and the palms found on each (the motion track's).
    sampled: tuple[int, ...] = ()
    palms: tuple[tuple[Palm, ...], ...] = ()

    def features_of(self, index: int) -> FrameFeatures | None:
        return next((c for c in self.candidates if c.index == index), None)


def _candidate_indices(count: int, candidates: int, cuts: tuple[int, ...]) -> list[int]:
    """Evenly spaced frames plus the first frame of every shot after a cut."""
    spread = np.linspace(0, count - 1, num=min(candidates, count)).round().astype(int)
    return sorted({int(i) for i in spread} | {cut for cut in cuts if cut < count})


def _face_facts(faces: tuple[Box, ...], width: int, height: int) -> tuple[FaceFact, ...]:
    return tuple(
        FaceFact(b.x / width, b.y / height, b.width / width, b.height / height) for b in faces
    )


@dataclass(frozen=True)
class SceneAnalyser:
    """Measures a segment once: cuts, flow, faces, people, talking, setting and style cues.

    The work per segment scales with its length (``per_second`` candidate keyframes, capped
    by ``candidates``), so that short segments do not pay a long segment's cost.
    """

    candidates: int = 6
    per_second: float = 3.0
    objects: ObjectDetector = field(
        default_factory=lambda: OBJECT_DETECTORS.factory(DEFAULT_OBJECT_DETECTOR)()
    )
    hands: HandDetector = field(
        default_factory=lambda: HAND_DETECTORS.factory(DEFAULT_HAND_DETECTOR)()
    )
    poses: PoseDetector = field(
        default_factory=lambda: POSE_DETECTORS.factory(DEFAULT_POSE_DETECTOR)()
    )
    close_faces: CloseFaceDetector = field(
        default_factory=lambda: CLOSE_FACE_DETECTORS.factory(DEFAULT_CLOSE_FACE_DETECTOR)()
    )
    setting: SettingClassifier = field(
        default_factory=lambda: SETTING_CLASSIFIERS.factory(DEFAULT_SETTING_CLASSIFIER)()
    )
    face_reader: FaceReader = field(
        default_factory=lambda: FACE_READERS.factory(DEFAULT_FACE_READER)()
    )

    def analyse(
        self, segment: VideoSegment, light: bool = False, trace: SegmentTrace | None = None
    ) -> SegmentAnalysis:
        """``light``: the detectors on fewer frames (a live sender running behind). With a
        ``trace``, each detector's CPU is counted under its own name there (its wall time is
        the "analyse" stage's: the pages list stages, not detectors)."""
        frames = segment.frames
        count = segment.num_frames
        if count == 0:
            raise ValueError("a segment needs at least one frame")
        with worked(trace, "cuts", wall=False):
            cuts = scene_cuts(frames) if count > 1 else ()
        wanted = min(self.candidates, max(2, round(self.per_second * segment.duration)))
        with worked(trace, "faces", wall=False):
            features = tuple(
                FrameFeatures(
                    index=i,
                    sharpness=sharpness(frames[i]),
                    exposure=exposure(frames[i]),
                    faces=tuple(detect_faces(frames[i])),
                    thumbnail=thumbnail(frames[i]),
                )
                for i in _candidate_indices(count, wanted, cuts)
            )
        with worked(trace, "face mesh", wall=False):
            features = tuple(confirmed_faces(self.face_reader, frames, f) for f in features)
        face_count = confirmed_count([len(f.faces) for f in features])
        richest = max(features, key=lambda f: len(f.faces))
        faces = richest.faces[:face_count]
        sampled = sample_indices(count, segment.duration, most=LIGHT_SAMPLES if light else 6)
        with worked(trace, "objects", wall=False):
            detected = detect_in(frames, sampled, self.objects)
        sightings = follow(detected)
        most_faces = max(len(f.faces) for f in features)
        # Faces the cascade misses near the camera are someone in view (its boxes stay the ones
        # placed and hidden); bodies are people the object detector missed or merged, and legs.
        # The short-range detector on the sampled frames: faces near the camera the cascade
        # missed (someone in view), and the boxes the face reader reads on every sampled frame
        # (the cascade misses turned and tilted heads). 3 ms a frame.
        with worked(trace, "close faces", wall=False):
            close = (
                {i: self.close_faces.detect(frames[i]) for i in sampled}
                if not face_count or not light
                else {}
            )
        near = face_count or close_face_count(list(close.values()))
        found = max(most_faces, near)
        with worked(trace, "poses", wall=False):
            poses = {} if light else find_bodies(self.poses, frames, sightings, found, segment.fps)
        if poses:
            sightings = follow(detected, {i: [p.box for p in found] for i, found in poses.items()})
        # Hands count only with someone in view, so frames that show nobody skip the palm
        # detector (its cost is per frame).
        bodies = [sightings.boxes(i, ("person",)) for i in sampled]
        with worked(trace, "hands", wall=False):
            palms = [
                self.hands.detect(frames[i]) if people_in_frame or face_count else []
                for i, people_in_frame in zip(sampled, bodies, strict=True)
            ]
        hands = hands_seen(palms, bodies, self.hands.frames_needed)

        def foreground(index: int) -> list[tuple[float, float, float, float]]:
            # A box that fills the view is what the camera is in (a car's interior), not a
            # thing moving in front of it.
            return [
                (d.x, d.y, d.width, d.height)
                for d in sightings.boxes(index, _MOVABLE)
                if not d.surrounds_camera
            ]

        with worked(trace, "flow", wall=False):
            flow = measure_flow(frames, pairs=wanted, cuts=cuts, foreground=foreground)
        motion = camera_motion(flow)
        detects_people = "person" in self.objects.kinds
        movers = (
            PeopleFinding((), 0)
            if detects_people
            else find_people(frames, cuts, segment.detail, partial(camera_moves_between, flow))
        )
        camera_sure = camera_confidence(flow, cuts)
        if motion.zooms and not zoom_everywhere(flow, motion.zoom):
            camera_sure = min(camera_sure, UNSURE_CAMERA_CONFIDENCE)
        if flow and np.median([pair.background_share for pair in flow]) < _CAMERA_BACKGROUND:
            camera_sure = min(camera_sure, UNSURE_CAMERA_CONFIDENCE)
        face_boxes = largest_faces(features, close, segment.width, segment.height)
        middle = frames[count // 2]
        objects = tuple(
            (kind, sightings.confirmed(kind))
            for kind in _CAPTIONED_KINDS
            if sightings.confirmed(kind) > 0
        )
        objects_at_least = tuple(
            kind for kind, _ in objects if not _countable(sightings, kind, sampled)
        )
        # Any face seen, confirmed or not, counts for the close-up that hides the setting.
        with worked(trace, "setting", wall=False):
            setting = judge_setting(
                self.setting,
                frames,
                sightings,
                [f.index for f in features],
                [box.width / segment.width for feature in features for box in feature.faces],
                with_detector=bool(self.objects.kinds),
                light=light,
            )
        subject = subject_motion(flow)
        if detects_people:
            # On screen a person moves against the camera: a walk is told only from a camera
            # known to stand still.
            camera_still = camera_sure >= FactConfidence.STATED and camera_move(motion) == "still"
            people = people_from_detections(
                near, sightings, segment.fps, camera_still, segment.width / segment.height
            )
        else:
            people = people_from_movers(face_count, most_faces, movers)
        # Legs in view decide: a body seated in a pose frame vetoes "stand" (an upright box
        # may be a person on a tall chair), and "sit" needs every counted person seated.
        sitting = not people.at_least and seated(list(poses.values()), people.count)
        standing = people.standing and not someone_sits(list(poses.values()))
        with worked(trace, "face motion", wall=False):
            talking, head_turning = (
                face_motion(frames, features, cuts) if face_count > 0 else (False, False)
            )
        # Palms with nobody in view are something else (vegetables on a belt); hands that move
        # are a gesture only for someone facing the camera or held up by an upright body (a
        # hand putting a bottle down, seen as an arm, is not). Without a hand in sight, motion
        # beside a turning head is the head and its hair.
        hands_in_view = hands.in_view and people.count > 0
        gesturing = not people.walking and (
            (hands_in_view and hands.gesturing and (face_count > 0 or hands.on_upright_body))
            or (
                # Motion against the camera means something only where the camera was judged.
                face_count > 0
                and camera_sure >= FactConfidence.STATED
                and not head_turning
                and subject[2] >= _GESTURE_SHARE
                and not on_face(subject[4], subject[5], faces[0], segment.width, segment.height)
            )
        )
        animation = (
            vivid_share(middle) >= _VIVID_SHARE
            and count > 1
            and flat_area_noise(frames) <= _RENDER_NOISE
        )
        with worked(trace, "face reading", wall=False):
            # Across a cut "the person" may be two people (a singer, then the audience).
            look = (
                read_look(self.face_reader, frames, face_boxes)
                if not light and not cuts
                else PersonLook()
            )
        with worked(trace, "colours", wall=False):
            colours = tuple(
                name
                for name, _ in dominant_colours(
                    middle, leave_out=face_regions(face_boxes, count // 2, segment)
                )
            )
        facts = SceneFacts(
            motion=motion,
            camera_shake=camera_shake(flow),
            subject_dx=subject[0],
            subject_dy=subject[1],
            subject_share=subject[2],
            moving_objects=subject[3],
            subject_x=subject[4],
            subject_y=subject[5],
            people=people.count,
            faces=_face_facts(faces, segment.width, segment.height),
            talking=talking,
            gesturing=gesturing,
            brightness=mean_brightness(frames),
            outdoors=setting.outdoors,
            indoors=setting.indoors,
            animation=animation,
            colours=colours,
            cuts=tuple(cut / segment.fps for cut in cuts),
            walking=people.walking,
            subject_colour=majority_colour(flow),
            people_at_least=people.at_least,
            standing=standing,
            sitting=sitting and not people.walking,
            hands=hands_in_view,
            people_colour=people_colour(middle, sightings, count // 2) if people.count else "",
            objects=objects,
            objects_at_least=objects_at_least,
            look=look,
            confidence=FactConfidence(
                people=people.confidence,
                talking=_TALKING_CONFIDENCE if talking else 0.0,
                gesturing=_GESTURE_CONFIDENCE if gesturing else 0.0,
                walking=people.walking_confidence,
                outdoors=setting.confidence,
                animation=_ANIMATION_CONFIDENCE if animation else 0.0,
                camera=camera_sure,
            ),
        )
        mean_thumbnail = np.mean([f.thumbnail for f in features], axis=0).astype(np.float32)
        return SegmentAnalysis(
            facts,
            features,
            mean_thumbnail,
            cuts,
            tuple(sampled),
            tuple(tuple(found) for found in palms),
        )


def _countable(sightings: Sightings, kind: str, sampled: list[int]) -> bool:
    """Whether ``kind`` may be counted exactly: the same number in every sampled frame, each
    instance tall enough to be told apart (small cars far down a street merge and hide)."""
    counts = sightings.counts.get(kind, ())
    if len(set(counts)) != 1:
        return False
    return all(d.height >= _COUNTABLE_HEIGHT for i in sampled for d in sightings.boxes(i, (kind,)))
