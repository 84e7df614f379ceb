"""The receiver: wire bytes -> decoded payload and keyframes (``DecodeStage``) -> personalised
prompt and generated frames (``GenerateStage``).

Two stages so that a bounded generation queue can sit between them: when generation falls
behind a live call, the queue drops the oldest waiting segment (logged with the reason) and the
receiver moves on to the newest.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from mirage_stream.codecs import CodecError, codec_for
from mirage_stream.errors import PayloadError
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link import Delivery
from mirage_stream.options import WORKING_HEIGHT, WORKING_WIDTH
from mirage_stream.pipeline import SegmentTrace, off_loop
from mirage_stream.receiver.generation_rate import GenerationRateAdapter
from mirage_stream.receiver.generators import (
    TAIL_FRAMES,
    GenerationRequest,
    Generator,
    GeneratorConfig,
)
from mirage_stream.receiver.portrait import FaceInput, PortraitComposer, PortraitReceiver
from mirage_stream.receiver.profile import IdentityMode, ReceiverProfile, build_prompt
from mirage_stream.receiver.regions import paste_region
from mirage_stream.records import DecodeRecord, GenerationRecord
from mirage_stream.scheduling import PartyRunner
from mirage_stream.types import (
    ChannelFeedback,
    EncodedKeyframe,
    FrameArray,
    GeneratedSegment,
    ReceivedPayload,
    SemanticPayload,
)
from mirage_stream.wire import decode_payload

log = logging.getLogger(__name__)

_NEUTRAL_GREY = 128


class DamagedKeyframes(StrEnum):
    """What to do with a keyframe whose CRC failed."""

    # Decode it anyway: at -10 dB every keyframe takes some bit errors, and the lattice index
    # order keeps them mild.
    BEST_EFFORT = "best-effort"
    # Generate from the last intact keyframe, when there is one.
    LAST_GOOD = "last-good"


@dataclass(frozen=True)
class DecodedSegment:
    """A payload as the receiver understood it, ready for generation."""

    payload: SemanticPayload
    keyframes: tuple[tuple[int, FrameArray], ...]  # (frame index, image at output size)
    keyframe_damaged: bool
    notes: tuple[str, ...]
    face: FaceInput | None = None  # the caller's reference and face track, when both came


@dataclass
class DecodeStage:
    """Decodes payloads and keyframes, falling back gracefully on damage.

    Damage never stops the receiver: a keyframe whose CRC failed is still decoded (flagged); an
    undecodable keyframe is replaced by the last good one; a payload without keyframes (the
    sender saw no change) reuses the last one; an undecodable payload is logged and dropped,
    the report saying why. Each segment's outcome goes back to the sender as feedback.
    """

    width: int = WORKING_WIDTH
    height: int = WORKING_HEIGHT
    feedback: FeedbackInbox | None = None  # reports to the sender's rate adapter
    damaged_keyframes: str = DamagedKeyframes.BEST_EFFORT  # a DamagedKeyframes value
    # The caller's reference and face track (None: both ignored, the paper's receiver).
    portrait: PortraitReceiver | None = None
    runner: PartyRunner | None = None  # a server of many calls: oldest segment first
    name: str = "decode"
    captions_intact: int = field(default=0, init=False)  # payloads whose caption CRC held
    _last_keyframe: FrameArray | None = field(default=None, init=False)
    _last_good: FrameArray | None = field(default=None, init=False)

    def _keyframes(
        self, received: ReceivedPayload, notes: list[str]
    ) -> tuple[tuple[tuple[int, FrameArray], ...], bool]:
        size = (self.width, self.height)
        decoded: list[tuple[int, FrameArray]] = []
        damaged = False
        pairs = list(zip(received.payload.keyframes, received.keyframes_ok, strict=True))
        for encoded, intact in pairs:
            if encoded.region is not None:
                continue  # details go over the whole frames, below
            try:
                image = codec_for(encoded).decode(encoded, size, damaged=not intact)
            except CodecError as error:
                notes.append(f"keyframe not decodable: {error}")
                continue
            if intact:
                self._last_good = image
            elif (
                self.damaged_keyframes == DamagedKeyframes.LAST_GOOD and self._last_good is not None
            ):
                notes.append(
                    "keyframe symbols damaged (CRC mismatch); generating from the caption and "
                    "the last intact keyframe"
                )
                image = self._last_good
                damaged = True
            else:
                notes.append("keyframe symbols damaged (CRC mismatch); decoded best-effort")
                damaged = True
            decoded.append((encoded.frame_index, image))
        for encoded, intact in pairs:
            if encoded.region is not None:
                self._lay_detail(encoded, intact, decoded, notes)
        if decoded:
            # The sender compares the next segment with its last keyframe: keep the same one.
            self._last_keyframe = decoded[-1][1]
            return tuple(decoded), damaged
        middle = received.payload.num_frames // 2
        if self._last_keyframe is not None:
            if received.payload.keyframes:
                notes.append("no usable keyframe; reusing the last one received")
                return ((middle, self._last_keyframe),), True
            notes.append("no keyframe sent (the sender saw no change); reusing the last one")
            return ((middle, self._last_keyframe),), False
        notes.append("no keyframe yet; rendering neutral grey")
        grey = np.full((self.height, self.width, 3), _NEUTRAL_GREY, dtype=np.uint8)
        return ((middle, grey),), True

    def _lay_detail(
        self,
        encoded: EncodedKeyframe,
        intact: bool,
        decoded: list[tuple[int, FrameArray]],
        notes: list[str],
    ) -> None:
        """Decode a detail (a face at full codec size) and lay it over the whole frame of the
        same time, or the newest one this receiver has."""
        region = encoded.region
        assert region is not None
        if not intact:
            notes.append("face detail damaged (CRC mismatch); left out")
            return
        slot = next((i for i, (index, _) in enumerate(decoded) if index == encoded.frame_index), -1)
        base = decoded[slot][1] if decoded else self._last_keyframe
        if base is None:
            notes.append("face detail without a frame to lay it on; left out")
            return
        x0, y0, x1, y1 = region.pixels(self.width, self.height)
        try:
            detail = codec_for(encoded).decode(encoded, (x1 - x0, y1 - y0))
        except CodecError as error:
            notes.append(f"face detail not decodable: {error}")
            return
        composed = paste_region(base, detail, region)
        if decoded:
            decoded[slot] = (decoded[slot][0], composed)
        else:
            decoded.append((encoded.frame_index, composed))

    def _report(self, trace: SegmentTrace, delivery: Delivery, damaged: bool) -> None:
        # The link report's SNR stands for the receiver's own estimate (pilots, decoder soft
        # values) that a real modem would measure.
        if self.feedback is not None:
            self.feedback.post(
                ChannelFeedback(
                    segment_index=trace.index,
                    snr_db=delivery.report.snr_db,
                    delivered=delivery.data is not None,
                    keyframe_damaged=damaged,
                )
            )

    def decode(self, delivery: Delivery, trace: SegmentTrace) -> DecodedSegment | None:
        decoded = self._decode(delivery, trace)
        self._report(trace, delivery, decoded is None or decoded.keyframe_damaged)
        return decoded

    def _decode(self, delivery: Delivery, trace: SegmentTrace) -> DecodedSegment | None:
        if delivery.data is None:
            tries = delivery.report.tries
            trace.dropped = f"payload lost on the link after {tries} tries"
            return None
        # Timed as the pipeline's "decode" stage (a timer here would count it twice).
        try:
            received = decode_payload(delivery.data)
        except PayloadError as error:
            log.warning("segment %d: payload rejected: %s", trace.index, error)
            trace.dropped = f"payload rejected: {error}"
            return None
        if received.payload.num_frames == 0:
            trace.dropped = "payload describes no frames"
            return None
        notes: list[str] = []
        self.captions_intact += received.caption_ok
        if not received.caption_ok:
            notes.append("caption damaged (CRC mismatch); generating from the keyframe")
        if not received.hints_ok:
            notes.append("scene facts damaged (CRC mismatch); no motion applied")
        keyframes, damaged = self._keyframes(received, notes)
        face = self._face(received, notes)
        trace.attach(
            DecodeRecord(
                keyframe_damaged=damaged,
                notes=tuple(notes),
                caption_received=received.payload.caption if received.caption_ok else None,
                keyframes=keyframes,
            )
        )
        return DecodedSegment(received.payload, keyframes, damaged, tuple(notes), face)

    def _face(self, received: ReceivedPayload, notes: list[str]) -> FaceInput | None:
        payload = received.payload
        if self.portrait is None:
            return None
        if not received.reference_ok:
            notes.append("reference chunk damaged (CRC mismatch); left out")
        if not received.face_track_ok:
            notes.append("face track damaged (CRC mismatch); read sample by sample")
        return self.portrait.take(payload.reference, payload.face_track, notes)

    async def process(self, delivery: Delivery, trace: SegmentTrace) -> DecodedSegment | None:
        return await off_loop(trace, self.name, self.decode, delivery, trace, runner=self.runner)


LATE_AFTER_S = 0.7  # live: beyond the segment's length, the age past which it is not generated


@dataclass
class GenerateStage:
    """Personalises the prompt (eq. 16) and generates the segment (eq. 17-19)."""

    generator: Generator
    profile: ReceiverProfile = field(default_factory=ReceiverProfile)
    width: int = WORKING_WIDTH
    height: int = WORKING_HEIGHT
    keyframe_strength: float = 1.0
    steps: int = 25
    guidance: float = 3.0
    seed: int = 0
    # Live calls with a diffusion generator: steps and size lowered to hold real time.
    rate_adapter: GenerationRateAdapter | None = None
    # Live calls (``drop_late``): a segment already too late (LATE_AFTER_S past its length
    # since its capture) is not generated: it would play too late, and its work is what makes
    # the next one late too. Never two in a row, though: late video beats none. Counted in
    # ``late_dropped``.
    drop_late: bool = False
    # Rebuild the caller's face from their reference and face track where both came (off for
    # an anonymising profile: the picture would show who is calling).
    composer: PortraitComposer | None = None
    runner: PartyRunner | None = None  # a server of many calls: oldest segment first
    name: str = "generate"
    late_dropped: int = field(default=0, init=False)
    _dropped_last: bool = field(default=False, init=False)
    _tail: tuple[FrameArray, ...] = field(default=(), init=False)

    def render(self, decoded: DecodedSegment, trace: SegmentTrace) -> GeneratedSegment:
        payload = decoded.payload
        with trace.worked("prompt"):
            prompt = build_prompt(payload.caption, self.profile)
        config = GeneratorConfig(
            num_frames=payload.num_frames,
            fps=payload.fps,
            width=self.width,
            height=self.height,
            keyframe_strength=self.keyframe_strength,
            steps=self.steps,
            guidance=self.guidance,
            seed=self.seed + payload.segment_index,
        )
        adapter = self.rate_adapter
        setting_used = None
        if adapter is not None:
            setting = adapter.setting
            config = replace(
                config, steps_scale=setting.steps_scale, model_scale=setting.model_scale
            )
            setting_used = setting.describe()
        face = decoded.face if self._shows_faces() else None
        keyframes, moved = decoded.keyframes, None
        if face is not None and self.composer is not None:
            with trace.worked("reenact"):
                newest = decoded.keyframes[-1][1] if decoded.keyframes else None
                moved = self.composer.rebuild(face, config, newest)
            # The sharp reference, moved to each keyframe's moment, conditions the generator.
            keyframes = (
                tuple(
                    (index, moved.frames[index] if moved.known[index] else image)
                    for index, image in keyframes
                    if 0 <= index < len(moved.frames)
                )
                or keyframes
            )
        request = GenerationRequest(
            keyframes=keyframes,
            facts=payload.facts.trusted(),  # act only on what the sender stated
            prompt=prompt,
            config=config,
            profile=self.profile,
            previous=self._tail[-1] if self._tail else None,
            tail=self._tail,
        )
        start = time.perf_counter()  # the stage is timed by the pipeline as "generate"
        shown = None if moved is None or self.generator.draws_people else moved
        if shown is not None and shown.known.all():
            frames = shown.frames  # every frame rebuilt: nothing left to generate
        else:
            frames = self.generator.generate(request)
            if shown is not None:
                frames = frames.copy()
                frames[shown.known] = shown.frames[shown.known]
        reenacted = shown is not None
        if adapter is not None:
            duration_s = payload.num_frames / payload.fps
            adapter.observe(payload.segment_index, time.perf_counter() - start, duration_s)
        self._tail = tuple(frame.copy() for frame in frames[-TAIL_FRAMES:])  # not the segment
        trace.attach(GenerationRecord(prompt.text, tuple(prompt.removed), setting_used, reenacted))
        return GeneratedSegment(
            index=payload.segment_index,
            frames=frames,
            fps=payload.fps,
            t0=payload.t0,
            keyframe_damaged=decoded.keyframe_damaged,
            notes=decoded.notes,
        )

    def _shows_faces(self) -> bool:
        return self.profile.identity is IdentityMode.KEEP

    async def process(
        self, decoded: DecodedSegment, trace: SegmentTrace
    ) -> GeneratedSegment | None:
        if self.drop_late and trace.captured_at is not None:
            age_s = time.time() - trace.captured_at
            late = age_s > decoded.payload.duration + LATE_AFTER_S
            # Never the call's first picture either: a late one beats a blank screen.
            if late and not self._dropped_last and self._tail:
                trace.dropped = f"shed: {age_s:.1f} s after capture, too late to generate"
                self.late_dropped += 1
                self._dropped_last = True
                return None
        self._dropped_last = False
        return await off_loop(trace, self.name, self.render, decoded, trace, runner=self.runner)
