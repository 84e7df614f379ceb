"""The person in a call, at the receiver: the caller's reference gathered from its chunks and
held for the call (identity, eq. 16: the receiver knows who is calling), and each segment's
frames rebuilt from it by the face track (``reenact``).

Where the scene behind the person still looks like the reference's, the whole frame is the
reenacted reference (sharp, and the same scene); where it changed (the decoded keyframe
disagrees with the reference outside the head), the reenacted head is blended with a soft
mask onto the generated frames. Frames the track has no face for keep the generated picture;
a track made for another reference than the one held (a new person or scene still arriving)
is not used: today's picture, never a wrong face.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.portrait.parts import EncodedFaceTrack, ReferenceChunk
from mirage_stream.portrait.reference import HeldReference, ReferenceAssembler
from mirage_stream.portrait.shape import FaceShapeModel, shipped_shape_model
from mirage_stream.portrait.track import FaceTrack, decode_face_track
from mirage_stream.receiver.reenact import ReferenceRig, reenact, rig_reference
from mirage_stream.types import FrameArray

log = logging.getLogger(__name__)

_THUMB = (16, 12)
# Mean absolute difference of 16x12 grey thumbnails (0..1) outside the head above which the
# keyframe's scene, not the reference's, stands behind the person.
SCENE_CHANGED = 0.12


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

    def reference_frame(self, face: FaceInput, width: int, height: int) -> FrameArray:
        """The reference at the output size (a generator's conditioning image)."""
        return self.rig(face.reference, width, height).image

    def compose(
        self,
        generated: npt.NDArray[np.uint8],
        face: FaceInput,
        keyframe: FrameArray | None,
    ) -> npt.NDArray[np.uint8]:
        count, height, width = generated.shape[:3]
        rig = self.rig(face.reference, width, height)
        moved = reenact(rig, face.track, count, self.model)
        out = generated.copy()
        if keyframe is None or not scene_changed(rig, keyframe):
            out[moved.known] = moved.frames[moved.known]
            return out
        alpha = rig.head_mask[..., None]
        for f in np.nonzero(moved.known)[0]:
            blend = moved.frames[f] * alpha + generated[f] * (1 - alpha)
            out[f] = np.clip(blend, 0, 255).astype(np.uint8)
        return out


def scene_changed(rig: ReferenceRig, keyframe: FrameArray) -> bool:
    """Whether ``keyframe`` shows another scene than the reference around the head."""
    height, width = rig.image.shape[:2]
    if keyframe.shape[:2] != (height, width):
        keyframe = np.asarray(
            cv2.resize(keyframe, (width, height), interpolation=cv2.INTER_AREA), np.uint8
        )
    outside = cv2.resize(1.0 - rig.head_mask, _THUMB, interpolation=cv2.INTER_AREA)
    if float(outside.sum()) < 1.0:
        return False
    thumbs = [
        cv2.resize(
            cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), _THUMB, interpolation=cv2.INTER_AREA
        ).astype(np.float32)
        / 255
        for image in (rig.image, keyframe)
    ]
    difference = float((np.abs(thumbs[0] - thumbs[1]) * outside).sum() / outside.sum())
    return difference > SCENE_CHANGED
