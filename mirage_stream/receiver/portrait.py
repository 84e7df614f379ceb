"""The person in a call, at the receiver: the caller's reference gathered from its chunks and
held for the call (identity, eq. 16: the receiver knows who is calling), and each segment's
frames rebuilt from it by the face track (``reenact``).

Behind the person stands the reference (sharp) where the segment's decoded keyframe still
agrees with it, and the keyframe where it does not (the scene changed, or the person moved
away from where they stood in the reference), blended softly. Frames the track has no face
for keep the generated picture; a track made for another reference than the one held (a new
person or scene still arriving) is not used: today's picture, never a wrong face.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from mirage_stream.portrait.parts import EncodedFaceTrack, ReferenceChunk
from mirage_stream.portrait.reference import HeldReference, ReferenceAssembler
from mirage_stream.portrait.shape import FaceShapeModel, shipped_shape_model
from mirage_stream.portrait.track import FaceTrack, decode_face_track
from mirage_stream.receiver.generators import GeneratorConfig
from mirage_stream.receiver.reenact import Reenacted, ReferenceRig, reenact, rig_reference
from mirage_stream.types import FrameArray

log = logging.getLogger(__name__)

# Grey-level differences (0..1, blurred, quarter size) between the reference and the
# keyframe: below the first the reference stands, above the second the keyframe.
SAME_SCENE = 0.08
CHANGED_SCENE = 0.16


@dataclass(frozen=True)
class FaceInput:
    """What a segment brings for reenactment: the reference held and the track for it."""

    reference: HeldReference
    track: FaceTrack


@dataclass
class PortraitReceiver:
    """Gathers references and reads face tracks, segment by segment (one per call)."""

    model: FaceShapeModel = field(default_factory=shipped_shape_model)
    assembler: ReferenceAssembler = field(default_factory=ReferenceAssembler)

    def take(
        self,
        chunk: ReferenceChunk | None,
        encoded: EncodedFaceTrack | None,
        notes: list[str],
    ) -> FaceInput | None:
        if chunk is not None:
            note = self.assembler.add(chunk)
            if note:
                notes.append(note)
        if encoded is None:
            return None
        held = self.assembler.held
        if held is None or held.picture.reference_id != encoded.reference_id:
            notes.append(
                f"face track for reference {encoded.reference_id}, not held yet: "
                "the generated picture"
            )
            return None
        track = decode_face_track(encoded, self.model)
        if track is None:
            notes.append("face track's bits do not fit its samples; left out")
            return None
        return FaceInput(held, track)


@dataclass
class PortraitComposer:
    """Rebuilds a segment's frames from the reference and the track."""

    model: FaceShapeModel = field(default_factory=shipped_shape_model)
    _rig: ReferenceRig | None = field(default=None, init=False)
    _rig_of: tuple[int, bytes, int, int] | None = field(default=None, init=False)

    def rig(self, reference: HeldReference, width: int, height: int) -> ReferenceRig:
        key = (reference.picture.reference_id, reference.picture.still[:32], width, height)
        if self._rig is None or self._rig_of != key:
            self._rig = rig_reference(reference, self.model, width, height)
            self._rig_of = key
        return self._rig

    def rebuild(
        self, face: FaceInput, config: GeneratorConfig, keyframe: FrameArray | None
    ) -> Reenacted:
        """The segment's frames rebuilt from the reference (``known``: where the track had
        the face), over the scene as the newest decoded ``keyframe`` shows it now."""
        rig = self.rig(face.reference, config.width, config.height)
        scene = rig.image if keyframe is None else scene_now(rig.image, keyframe)
        return reenact(rig, face.track, config.num_frames, self.model, scene)


def scene_now(reference: FrameArray, keyframe: FrameArray) -> FrameArray:
    """The background as it is now: the reference (sharp) where the segment's decoded
    keyframe still agrees with it, the keyframe where it does not (the scene changed, or the
    person moved away from where they stood in the reference). Compared on blurred grey
    copies at a quarter of the size, so the keyframe's coarser detail is no disagreement."""
    height, width = reference.shape[:2]
    if keyframe.shape[:2] != (height, width):
        keyframe = np.asarray(
            cv2.resize(keyframe, (width, height), interpolation=cv2.INTER_LINEAR), np.uint8
        )
    small = (max(1, width // 4), max(1, height // 4))
    greys = []
    for image in (reference, keyframe):
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        grey = cv2.resize(grey, small, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        greys.append(cv2.GaussianBlur(grey, (0, 0), 1.5))
    difference = np.abs(greys[0] - greys[1])
    changed = np.clip((difference - SAME_SCENE) / (CHANGED_SCENE - SAME_SCENE), 0, 1)
    alpha = cv2.resize(cv2.GaussianBlur(changed, (0, 0), 1.0), (width, height))[..., None]
    return np.asarray(reference * (1 - alpha) + keyframe * alpha, np.uint8)
