"""The receiver stage: wire bytes -> decoded payload -> keyframe images -> generated frames."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import numpy as np

from mirage_stream.codecs import CodecError, codec_for
from mirage_stream.errors import PayloadError
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link import Delivery
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.receiver.generators import Generator, GeneratorConfig
from mirage_stream.types import ChannelFeedback, FrameArray, GeneratedSegment, ReceivedPayload
from mirage_stream.wire import decode_payload

log = logging.getLogger(__name__)

_NEUTRAL_GREY = 128


@dataclass
class ReceiverStage:
    """Decodes, falls back gracefully on damage, and generates at the receiver's output size.

    Damage never stops the receiver: a keyframe whose CRC failed is still decoded (flagged); an
    undecodable keyframe is replaced by the last good one; an undecodable payload is logged and
    dropped, the report saying why.
    """

    generator: Generator
    width: int = 320
    height: int = 240
    feedback: FeedbackInbox | None = None  # reports to the sender's rate adapter
    name: str = "receiver"
    _last_keyframe: FrameArray | None = field(default=None, init=False)
    _last_frame: FrameArray | None = field(default=None, init=False)

    def _keyframe_image(
        self, received: ReceivedPayload, notes: list[str]
    ) -> tuple[FrameArray, bool]:
        """The keyframe to animate and whether it is damaged or stale.

        All keyframes are decoded; the first one is animated (the offline generator takes one)
        and the last one is kept, since the sender compares the next segment against it.
        """
        size = (self.width, self.height)
        decoded: list[tuple[FrameArray, bool]] = []
        for encoded, intact in zip(received.payload.keyframes, received.keyframes_ok, strict=True):
            try:
                image = codec_for(encoded).decode(encoded, size, damaged=not intact)
            except CodecError as error:
                notes.append(f"keyframe not decodable: {error}")
                continue
            if not intact:
                notes.append("keyframe symbols damaged (CRC mismatch); decoded best-effort")
            decoded.append((image, not intact))
        if decoded:
            self._last_keyframe = decoded[-1][0]
            return decoded[0]
        if self._last_keyframe is not None:
            if received.payload.keyframes:
                notes.append("no usable keyframe; reusing the last one received")
                return self._last_keyframe, True
            notes.append("no keyframe sent (the sender saw no change); reusing the last one")
            return self._last_keyframe, False
        notes.append("no keyframe yet; rendering neutral grey")
        return np.full((self.height, self.width, 3), _NEUTRAL_GREY, dtype=np.uint8), True

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

    def render(self, delivery: Delivery, trace: SegmentTrace) -> GeneratedSegment | None:
        generated = self._render(delivery, trace)
        self._report(trace, delivery, bool(trace.facts.get("keyframe_damaged", False)))
        return generated

    def _render(self, delivery: Delivery, trace: SegmentTrace) -> GeneratedSegment | None:
        if delivery.data is None:
            tries = delivery.report.tries
            trace.facts["dropped"] = f"payload lost on the link after {tries} tries"
            return None
        with trace.timed("decode"):
            try:
                received = decode_payload(delivery.data)
            except PayloadError as error:
                log.warning("segment %d: payload rejected: %s", trace.index, error)
                trace.facts["dropped"] = f"payload rejected: {error}"
                return None
            notes: list[str] = []
            if not received.caption_ok:
                notes.append("caption damaged (CRC mismatch)")
            keyframe, damaged = self._keyframe_image(received, notes)
        payload = received.payload
        config = GeneratorConfig(
            num_frames=payload.num_frames, fps=payload.fps, width=self.width, height=self.height
        )
        with trace.timed("generate"):
            frames = self.generator.generate(
                keyframe, payload.facts.motion, config, self._last_frame
            )
        self._last_frame = frames[-1]
        trace.facts["keyframe_damaged"] = damaged
        trace.facts["receiver_notes"] = notes
        return GeneratedSegment(
            index=payload.segment_index,
            frames=frames,
            fps=payload.fps,
            t0=payload.t0,
            keyframe_damaged=damaged,
            notes=tuple(notes),
        )

    async def process(self, delivery: Delivery, trace: SegmentTrace) -> GeneratedSegment | None:
        return await asyncio.to_thread(self.render, delivery, trace)
