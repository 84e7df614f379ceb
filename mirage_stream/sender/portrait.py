"""The person in a call, at the sender: a reference picture of the caller when the call starts
and when the scene changes, and the face track (head pose and expression at a steady rate)
for every segment. Beyond the paper: the systems built for calls (face-vid2vid, NVIDIA Maxine,
MPEG-4 face animation) send one good picture of the person and then only how the face moves.

The face mesh follows the largest face from sample to sample and from segment to segment; the
shared face shape model (``portrait.shape``) turns each mesh into a pose and 16 expression
coefficients. A new reference is taken when there is none, after a cut, or when the framing,
the light or the scene behind the person changed; its picture is the most frontal sampled
frame, coded as an AV1 still within the byte budget.
"""

from __future__ import annotations

import argparse
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.codecs.still import av1_still_within
from mirage_stream.errors import InputError
from mirage_stream.portrait.parts import EncodedFaceTrack, ReferenceChunk
from mirage_stream.portrait.reference import ReferencePicture, split_reference
from mirage_stream.portrait.shape import FaceSample, FaceShapeModel, shipped_shape_model
from mirage_stream.portrait.track import (
    MAX_REFERENCE_ID,
    MAX_SAMPLES,
    FaceTrack,
    encode_face_track,
)
from mirage_stream.sender.detectors import Box
from mirage_stream.sender.face_mesh import FaceFollower, FaceMesh
from mirage_stream.sender.shots import shot_of
from mirage_stream.types import FrameArray, VideoSegment

_THUMB = (16, 12)
# A new reference when the scene behind moved this far from the reference's (mean absolute
# difference of 16x12 grey thumbnails, 0..1), the face's size changed by this factor, the face
# moved this many face sizes from where it was (the receiver would have to show what stood
# behind the head, which the reference does not hold), or the mean light changed by this much.
SCENE_CHANGE = 0.12
FRAMING_CHANGE = 1.4
MOVED_AWAY = 0.35
# The face must be followed in at least this share of a segment's samples to be sent.
MIN_SEEN_SHARE = 0.5
# A reference frame's mouth opening (inner-lip gap over the eye distance) counts this many
# radians of a turned head.
MOUTH_WEIGHT = 2.0
LIGHT_CHANGE = 0.12
# After a search that found no face, the next one waits this long (seconds of video): a search
# is a cascade over the whole frame, dearer than following a face tenfold, and the frames
# skipped are filled from the first face found by following it backwards.
SEARCH_GAP_S = 0.4


@dataclass(frozen=True)
class PortraitSettings:
    """``track_rate_hz``: face samples a second (every frame at most); ``reference_bytes``:
    the AV1 still's budget; ``chunk_bytes``: reference bytes one segment carries at most."""

    track_rate_hz: float = 12.5
    # Where the identity distance stops falling on the tune talking heads
    # (tools/reference_budget.py: 0.351 at 1.6 KB, 0.328 at 2 KB and at 3 KB, 0.318 at 6 KB).
    reference_bytes: int = 2000
    chunk_bytes: int = 4096

    def __post_init__(self) -> None:
        if not (math.isfinite(self.track_rate_hz) and 1 <= self.track_rate_hz <= 60):
            raise InputError(f"--track-rate must be in [1, 60] Hz, got {self.track_rate_hz}")
        if not 500 <= self.reference_bytes <= 32_000:
            raise InputError(
                f"--reference-bytes must be in [500, 32000], got {self.reference_bytes}"
            )
        if not 256 <= self.chunk_bytes <= 32_000:
            raise InputError(
                f"--reference-chunk-bytes must be in [256, 32000], got {self.chunk_bytes}"
            )

    @staticmethod
    def add_arguments(group: argparse._ArgumentGroup) -> None:
        defaults = PortraitSettings  # each default lives in its field, once
        group.add_argument(
            "--track-rate",
            type=float,
            default=defaults.track_rate_hz,
            metavar="HZ",
            help="face track samples a second (head pose and 16 expression coefficients, "
            "112 bits each); default %(default)s",
        )
        group.add_argument(
            "--reference-bytes",
            type=int,
            default=defaults.reference_bytes,
            metavar="BYTES",
            help="budget of the caller's reference picture (an AV1 still at the working "
            "size, the finest quality within it); default %(default)s",
        )
        group.add_argument(
            "--reference-chunk-bytes",
            type=int,
            default=defaults.chunk_bytes,
            metavar="BYTES",
            help="reference bytes one segment carries at most (a larger reference is spread "
            "over the next segments); default %(default)s",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PortraitSettings:
        return cls(args.track_rate, args.reference_bytes, args.reference_chunk_bytes)


@dataclass(frozen=True)
class PortraitPart:
    """What one segment carries for the person in view."""

    reference: ReferenceChunk | None
    track: FaceTrack | None
    encoded_track: EncodedFaceTrack | None
    new_reference: bool = False  # this segment took a new reference picture
    reference_crf: int | None = None


@dataclass
class _Reference:
    reference_id: int
    thumbnail: npt.NDArray[np.float32]
    face_size: float
    face_centre: tuple[float, float]


@dataclass
class PortraitSender:
    settings: PortraitSettings = field(default_factory=PortraitSettings)
    follower: FaceFollower = field(default_factory=FaceFollower)
    model: FaceShapeModel = field(default_factory=shipped_shape_model)
    search_gap_s: float = SEARCH_GAP_S
    name: str = "reference+face-track"
    _reference: _Reference | None = field(default=None, init=False)
    _pending: deque[ReferenceChunk] = field(default_factory=deque, init=False)
    _last_mesh: FaceMesh | None = field(default=None, init=False)
    _next_id: int = field(default=0, init=False)

    @property
    def reference_sent(self) -> bool:
        """Whether every chunk of the held reference has gone out (before this segment's)."""
        return self._reference is not None and not self._pending

    def sample_step(self, fps: float) -> int:
        return max(1, math.ceil(fps / self.settings.track_rate_hz - 1e-6))

    def describe(
        self,
        segment: VideoSegment,
        known: Mapping[int, Sequence[Box]] | None = None,
        cut_frames: Sequence[int] = (),
    ) -> PortraitPart:
        step = self.sample_step(segment.fps)
        frames = list(range(0, segment.num_frames, step))[:MAX_SAMPLES]
        meshes = self._follow(segment, frames, known or {}, cut_frames)
        height, width = segment.height, segment.width
        samples = [
            None if mesh is None else self.model.fit(mesh.points3d, width, height)
            for mesh in meshes
        ]
        new_reference, crf = False, None
        seen = [i for i, mesh in enumerate(meshes) if mesh is not None]
        if len(seen) < MIN_SEEN_SHARE * len(frames):
            # A caller stays in view. A face in a few frames only is a passer-by, or a false
            # find: the mesh's own presence score says 1.0 to some faces in a street.
            seen, samples = [], [None] * len(frames)
        if seen:
            last_shot = [i for i in seen if frames[i] >= max(cut_frames, default=0)]
            if cut_frames and last_shot:
                # Another shot, maybe another person: a reference of whoever is in view now,
                # and no face before the cut (the track moves the new reference only).
                self._reference = None
                samples = [
                    s if frames[i] >= max(cut_frames) else None for i, s in enumerate(samples)
                ]
                seen = last_shot
            changed = self._changed_from(segment, frames, meshes, seen)
            if changed:
                crf = self._take_reference(segment, frames, meshes, samples, changed)
                new_reference = True
        chunk = self._pending.popleft() if self._pending else None
        track = (
            FaceTrack(self._reference.reference_id, 0, step, tuple(samples))
            if self._reference is not None and seen
            else None
        )
        encoded = encode_face_track(track, self.model) if track is not None else None
        return PortraitPart(chunk, track, encoded, new_reference, crf)

    def _follow(
        self,
        segment: VideoSegment,
        frames: list[int],
        known: Mapping[int, Sequence[Box]],
        cut_frames: Sequence[int],
    ) -> list[FaceMesh | None]:
        """The face at each sampled frame: followed forwards (searched anew after a cut),
        then, from the first frame of a shot where it was found, backwards over the shot's
        frames before it (a face turned away at the start, which the frontal cascade cannot
        find, is still followed once it was seen)."""
        meshes: list[FaceMesh | None] = []
        previous = self._last_mesh
        shots = [shot_of(index, cut_frames) for index in frames]
        searched_at = -math.inf  # the frame of the last search that found nothing
        for i, index in enumerate(frames):
            if i > 0 and shots[i] != shots[i - 1]:
                previous, searched_at = None, -math.inf  # another shot: look anew at once
            boxes = known.get(index, ())
            waiting = (index - searched_at) / segment.fps < self.search_gap_s
            if previous is None and not boxes and waiting:
                meshes.append(None)
                continue
            previous = self.follower.next(segment.frames[index], previous, boxes)
            if previous is None:
                searched_at = index
            meshes.append(previous)
        self._last_mesh = previous
        for shot in sorted(set(shots)):
            members = [i for i in range(len(frames)) if shots[i] == shot]
            first = next((i for i in members if meshes[i] is not None), None)
            back = meshes[first] if first is not None else None
            for i in reversed([m for m in members if first is not None and m < first]):
                back = self.follower.follow(segment.frames[frames[i]], back) if back else None
                meshes[i] = back
        return meshes

    def _changed_from(
        self,
        segment: VideoSegment,
        frames: list[int],
        meshes: list[FaceMesh | None],
        seen: list[int],
    ) -> list[int]:
        """The samples of ``seen`` from the first whose picture no longer matches the held
        reference on: all of them when none is held, none when every one still matches."""
        held = self._reference
        if held is None:
            return seen
        for at, i in enumerate(seen):
            mesh = meshes[i]
            assert mesh is not None
            framing = max(mesh.size / held.face_size, held.face_size / mesh.size)
            moved = math.dist(_centre(mesh), held.face_centre) / held.face_size
            changed = framing > FRAMING_CHANGE or moved > MOVED_AWAY
            if at == 0 or changed:  # the scene and the light are judged once a segment
                thumbnail = _thumbnail(segment.frames[frames[i]])
                scene = float(np.mean(np.abs(thumbnail - held.thumbnail)))
                light = abs(float(thumbnail.mean() - held.thumbnail.mean()))
                changed = changed or scene > SCENE_CHANGE or light > LIGHT_CHANGE
            if changed:
                return seen[at:]
        return []

    def _take_reference(
        self,
        segment: VideoSegment,
        frames: list[int],
        meshes: list[FaceMesh | None],
        samples: list[FaceSample | None],
        seen: list[int],
    ) -> int:
        """The most frontal sampled frame becomes the reference; its chunks replace any still
        waiting to go (an older reference is no longer worth its bytes)."""
        best = min(seen, key=lambda i: _unfit(samples[i], meshes[i]))
        face, mesh = samples[best], meshes[best]
        assert face is not None and mesh is not None
        image = np.ascontiguousarray(segment.frames[frames[best]])
        still, crf = av1_still_within(image, self.settings.reference_bytes)
        reference_id = self._next_id
        self._next_id = (self._next_id + 1) % (MAX_REFERENCE_ID + 1)
        picture = ReferencePicture(reference_id, "av1", face, still)
        self._pending = deque(split_reference(picture, self.settings.chunk_bytes))
        self._reference = _Reference(reference_id, _thumbnail(image), mesh.size, _centre(mesh))
        return crf


def _unfit(sample: FaceSample | None, mesh: FaceMesh | None) -> float:
    """How ill a frame suits a reference: turned away, or with its mouth open (the receiver
    paints an opening mouth well, but a closing one still shows the reference's teeth)."""
    if sample is None or mesh is None:
        return math.inf
    pose = sample.pose
    turned = abs(pose.yaw) + abs(pose.pitch) + 0.5 * abs(pose.roll)
    points = mesh.points
    eyes = float(np.linalg.norm(points[33] - points[263])) or 1.0
    return turned + MOUTH_WEIGHT * float(np.linalg.norm(points[13] - points[14])) / eyes


def _centre(mesh: FaceMesh) -> tuple[float, float]:
    low, high = mesh.points.min(axis=0), mesh.points.max(axis=0)
    return float(low[0] + high[0]) / 2, float(low[1] + high[1]) / 2


def _thumbnail(frame: FrameArray) -> npt.NDArray[np.float32]:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, _THUMB, interpolation=cv2.INTER_AREA)
    return np.asarray(small, np.float32) / 255.0
