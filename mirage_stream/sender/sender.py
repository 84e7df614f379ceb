"""The sender stage: segment -> analysis -> caption + keyframes -> SemanticPayload (eq. 1).

S(V) = <C(V; theta_cap), K(V; theta_sel)>: analyse the segment once, let the rate adapter (if
any) pick codec, keyframe count, caption granularity and FEC for the channel it expects, caption,
select keyframes (eq. 4), hide faces if the policy says so, encode.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from mirage_stream.codecs import KeyframeCodec, make_codec
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.pipeline import SegmentTrace, off_loop
from mirage_stream.records import SenderRecord
from mirage_stream.scheduling import PartyRunner
from mirage_stream.sender.airtime_adapter import AirtimeRateAdapter
from mirage_stream.sender.analysis import SceneAnalyser, SegmentAnalysis
from mirage_stream.sender.captioner import Captioner, CaptionSettings
from mirage_stream.sender.detectors import Box, detect_faces
from mirage_stream.sender.keyframe_timing import keyframe_timing
from mirage_stream.sender.keyframes import KeyframeChoice, KeyframeSelector
from mirage_stream.sender.load_shed import LoadShedder, Shed
from mirage_stream.sender.motion_track import MotionTracker, NoMotionTracker
from mirage_stream.sender.portrait import PortraitPart, PortraitSender
from mirage_stream.sender.privacy import FaceHider, FacePolicy
from mirage_stream.sender.protection import KeyframeProtection, ProtectionPolicy
from mirage_stream.sender.regions import face_region
from mirage_stream.sender.shots import shot_of
from mirage_stream.types import (
    EncodedKeyframe,
    FrameArray,
    Granularity,
    SceneFacts,
    SegmentPlan,
    SemanticPayload,
    VideoSegment,
)


@dataclass(frozen=True)
class SenderSettings:
    """What the sender sends when no rate adapter decides per segment. Codec and keyframe
    count have no default here: the sender's config holds them (``SenderConfig``), and the
    paper's tables say their own (one keyframe)."""

    codec: str
    max_keyframes: int
    granularity: Granularity = Granularity.NORMAL
    privacy: bool = False
    keyframe_fec_parity: int = 0
    # AUTO needs a ProtectionPolicy (build_sender gives one); a bare stage sends best effort.
    keyframe_protection: KeyframeProtection = KeyframeProtection.BEST_EFFORT
    # A second coding of the largest face of the first keyframe, at the codec's full size.
    face_detail: bool = False
    # Send when the picture changes between keyframes (sender.keyframe_timing).
    keyframe_timing: bool = False
    # Send where the face landmarks and hands go (sender.motion_track); off: the paper's payload.
    motion_track: bool = False
    # Send the caller's reference picture and face track (sender.portrait); off: the paper's.
    portrait: bool = False

    def fixed_plan(self) -> SegmentPlan:
        return SegmentPlan(
            codec=self.codec,
            keyframes=self.max_keyframes,
            granularity=self.granularity,
            keyframe_fec_parity=self.keyframe_fec_parity,
            planned_snr_db=float("nan"),
            predicted_time_on_air_s=float("nan"),
            predicted_mse=float("nan"),
            within_budget=True,
        )


@dataclass
class SenderStage:
    """Runs off the event loop; keeps per-call state (codecs, last keyframe) in its parts."""

    captioner: Captioner
    selector: KeyframeSelector
    settings: SenderSettings
    analyser: SceneAnalyser = field(default_factory=SceneAnalyser)
    hider: FaceHider = field(default_factory=FaceHider)
    rate: AirtimeRateAdapter | None = None
    protection: ProtectionPolicy | None = None  # keyframe protection "auto" without rate
    feedback: FeedbackInbox | None = None
    tracker: MotionTracker = field(default_factory=NoMotionTracker)
    shedder: LoadShedder | None = None  # live: less work, or none, when behind real time
    portrait: PortraitSender | None = None  # with settings.portrait: reference + face track
    runner: PartyRunner | None = None  # a server of many calls: oldest segment first
    name: str = "sender"
    _codecs: dict[str, KeyframeCodec] = field(default_factory=dict, init=False)

    def codec(self, setting: str) -> KeyframeCodec:
        """The codec for ``name[:variant]``, loaded once per sender."""
        if setting not in self._codecs:
            self._codecs[setting] = make_codec(setting)
        return self._codecs[setting]

    def _take_feedback(self) -> None:
        if self.feedback is None:
            return
        for message in self.feedback.drain():
            if self.rate is not None:
                self.rate.observe(message)
            if self.protection is not None:
                self.protection.snr.observe(message.snr_db)
            if message.keyframe_damaged or not message.delivered:
                self.selector.forget_last_sent()

    def _plan(
        self, trace: SegmentTrace, thumbnails: list[npt.NDArray[np.float32]], cut: bool
    ) -> SegmentPlan:
        if self.rate is None:
            return self.settings.fixed_plan()
        with trace.worked("plan"):
            return self.rate.plan(thumbnails, self.selector.last_sent, cut)

    def describe(self, segment: VideoSegment, trace: SegmentTrace) -> SemanticPayload | None:
        if segment.num_frames == 0:
            trace.dropped = "segment holds no frames"
            return None
        self._take_feedback()
        shed = self._shed(segment, trace)
        if shed is Shed.SKIP:
            return None
        light = shed is Shed.LIGHT
        with trace.worked("analyse"):
            analysis = self.analyser.analyse(segment, light=light, trace=trace)
        plan = self._plan(
            trace, [c.thumbnail for c in analysis.candidates], bool(analysis.cut_frames)
        )
        settings = CaptionSettings(plan.granularity, self.settings.privacy)
        with trace.worked("caption"):
            caption = self.captioner.caption(segment, analysis, settings)
        with trace.worked("select"):
            choice = self.selector.select(segment, analysis, plan.keyframes, caption.text)
        with trace.worked("privacy"):
            images = []
            for keyframe in choice.keyframes:
                known = analysis.features_of(keyframe.frame_index)
                images.append(self.hider.apply(keyframe.image, known.faces if known else ()))
        person = self._person(segment, analysis, trace)
        # Where the receiver rebuilds the caller's face from a reference it was sent whole,
        # the keyframe's face is not what it shows: no search for a frame whose face
        # survives coding.
        face_rebuilt = (
            person is not None
            and person.track is not None
            and person.reference is None
            and self.portrait is not None
            and self.portrait.reference_sent
        )
        with trace.worked("encode"):
            codec = self.codec(plan.codec)
            encoded = tuple(
                codec.encode(image, k.frame_index)
                if light or face_rebuilt
                else self._encode_keeping_face(
                    codec, segment, analysis, image, k.frame_index, choice
                )
                for image, k in zip(images, choice.keyframes, strict=True)
            )
            if encoded and self._wants_face_detail() and not light:
                known = analysis.features_of(choice.keyframes[0].frame_index)
                detail = self._face_detail(images[0], known.faces if known else (), codec)
                encoded += (replace(detail, frame_index=encoded[0].frame_index),) if detail else ()
        if self.rate is not None:
            compressed = len(zlib.compress(caption.text.encode("utf-8"), 9))
            self.rate.record_caption_bytes(plan.granularity, compressed)
        facts = (
            self._timed(caption.facts, segment, encoded)
            if light or (person is not None and person.track is not None)
            else self._tracked(
                self._timed(caption.facts, segment, encoded), segment, analysis, plan, trace
            )
        )
        payload = SemanticPayload(
            segment_index=segment.index,
            t0=segment.t0,
            duration=segment.duration,
            fps=segment.fps,
            width=segment.width,
            height=segment.height,
            num_frames=segment.num_frames,
            caption=caption.text,
            facts=facts,
            keyframes=encoded,
            keyframe_fec_parity=plan.keyframe_fec_parity if encoded else 0,
            keyframes_protected=plan.keyframes_protected and bool(encoded),
            reference=person.reference if person else None,
            face_track=person.encoded_track if person else None,
        )
        payload = self._protect(payload, plan.codec)
        trace.attach(
            SenderRecord(
                caption=caption.text,
                keyframe_indices=tuple(k.frame_index for k in encoded if k.region is None),
                keyframe_skipped=choice.skipped_reason or None,
                plan=replace(
                    plan,
                    keyframe_fec_parity=payload.keyframe_fec_parity,
                    keyframes_protected=payload.keyframes_protected,
                ),
                shed=shed.value,
                shed_skipped=self.shedder.counts.skipped if self.shedder else 0,
            )
        )
        return payload

    def _shed(self, segment: VideoSegment, trace: SegmentTrace) -> Shed:
        """The shedder's verdict on this segment (live calls only; a file run never sheds)."""
        if self.shedder is None or trace.captured_at is None:
            return Shed.NONE
        lag_s = time.time() - trace.captured_at
        shed = self.shedder.decide(lag_s, segment.duration)
        if shed is Shed.SKIP:
            trace.dropped = f"shed: the sender ran {lag_s:.1f} s behind real time"
        return shed

    def _timed(
        self, facts: SceneFacts, segment: VideoSegment, encoded: tuple[EncodedKeyframe, ...]
    ) -> SceneFacts:
        if not self.settings.keyframe_timing:
            return facts
        indices = [k.frame_index for k in encoded if k.region is None]
        return replace(facts, keyframe_timing=keyframe_timing(segment.frames, indices))

    def _person(
        self, segment: VideoSegment, analysis: SegmentAnalysis, trace: SegmentTrace
    ) -> PortraitPart | None:
        """The reference chunk and face track of the person in view. Never for a face that is
        hidden (privacy, blurred or masked faces): a reference shows who is calling and a
        track how they move."""
        hidden = self.settings.privacy or self.hider.policy is not FacePolicy.KEEP
        if hidden or not self.settings.portrait or self.portrait is None:
            return None
        with trace.worked("portrait"):
            known = {c.index: c.faces for c in analysis.candidates if c.faces}
            return self.portrait.describe(segment, known, analysis.cut_frames)

    def _tracked(
        self,
        facts: SceneFacts,
        segment: VideoSegment,
        analysis: SegmentAnalysis,
        plan: SegmentPlan,
        trace: SegmentTrace,
    ) -> SceneFacts:
        # A hidden face must not travel as landmarks either.
        hidden = self.settings.privacy or self.hider.policy is not FacePolicy.KEEP
        if hidden or not (self.settings.motion_track and plan.motion_track):
            return facts
        with trace.worked("track"):
            known = {c.index: c.faces for c in analysis.candidates if c.faces}
            track = self.tracker.track(segment.frames, analysis.sampled, analysis.palms, known)
        return replace(facts, motion_track=track)

    def _encode_keeping_face(
        self,
        codec: KeyframeCodec,
        segment: VideoSegment,
        analysis: SegmentAnalysis,
        image: FrameArray,
        frame_index: int,
        choice: KeyframeChoice,
    ) -> EncodedKeyframe:
        """``image`` coded; but when it shows a face and the decoded picture no longer does
        (the codec blurred it past recognition), the nearest frame of the same shot, a few
        frames either side, whose face survives coding is sent instead: the person at the other
        end should stay recognisable, and a neighbour shows the same moment. Faces hidden on
        purpose are left alone."""
        encoded = codec.encode(image, frame_index)
        known = analysis.features_of(frame_index)
        if self.hider.policy is not FacePolicy.KEEP or known is None or not known.faces:
            return encoded
        size = (segment.width, segment.height)
        face = max(known.faces, key=lambda box: box.width * box.height)
        if _face_survives(codec.decode(encoded, size), face):
            return encoded
        taken = {k.frame_index for k in choice.keyframes}
        shot = shot_of(frame_index, analysis.cut_frames)
        nearby = [
            frame_index + step * sign
            for step in _FACE_RETRY_STEPS
            for sign in (-1, 1)
            if 0 <= frame_index + step * sign < segment.num_frames
            and frame_index + step * sign not in taken
            and shot_of(frame_index + step * sign, analysis.cut_frames) == shot
        ]
        for index in nearby:
            alternative = codec.encode(segment.frames[index], index)
            if _face_survives(codec.decode(alternative, size), face):
                return alternative
        return encoded

    def _wants_face_detail(self) -> bool:
        # A hidden face is not worth a detail, and sending one would undo the hiding.
        return self.settings.face_detail and self.hider.policy is FacePolicy.KEEP

    @staticmethod
    def _face_detail(
        image: FrameArray, faces: Sequence[Box], codec: KeyframeCodec
    ) -> EncodedKeyframe | None:
        """The largest face's square of ``image``, coded at the codec's full size."""
        height, width = image.shape[:2]
        region = face_region(faces, width, height)
        if region is None:
            return None
        x0, y0, x1, y1 = region.pixels(width, height)
        return replace(codec.encode(np.ascontiguousarray(image[y0:y1, x0:x1])), region=region)

    def _protect(self, payload: SemanticPayload, setting: str) -> SemanticPayload:
        """Without a rate adapter, the settings say how keyframes travel (with one, its plan
        already did)."""
        if self.rate is not None or not payload.keyframes:
            return payload
        mode = self.settings.keyframe_protection
        if mode is KeyframeProtection.RELIABLE:
            return replace(payload, keyframe_fec_parity=0, keyframes_protected=True)
        if mode is KeyframeProtection.AUTO and self.protection is not None:
            return self.protection.apply(payload, setting)
        return payload

    async def process(self, segment: VideoSegment, trace: SegmentTrace) -> SemanticPayload | None:
        start = time.perf_counter()
        payload = await off_loop(
            trace, self.name, self.describe, segment, trace, runner=self.runner
        )
        if self.shedder is not None and payload is not None:
            self.shedder.worked(time.perf_counter() - start)
        return payload


# Frames either side tried, nearest first, when a keyframe's face does not survive coding: the
# detector's verdict on a coded face flips with small changes of pose and light.
_FACE_RETRY_STEPS = (2, 4, 6)


def _face_survives(decoded: FrameArray, face: Box) -> bool:
    """Whether the face detector still finds a face around where ``face`` was: on the face's
    box grown by half its size each way, a quarter of the cost of the whole frame."""
    height, width = decoded.shape[:2]
    x0, y0 = max(0, face.x - face.width // 2), max(0, face.y - face.height // 2)
    x1 = min(width, face.x + face.width + face.width // 2)
    y1 = min(height, face.y + face.height + face.height // 2)
    crop = np.ascontiguousarray(decoded[y0:y1, x0:x1])
    return bool(crop.size) and bool(detect_faces(crop, work_width=crop.shape[1]))
