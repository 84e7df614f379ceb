"""The sender stage: segment -> analysis -> caption + keyframes -> SemanticPayload (eq. 1).

S(V) = <C(V; theta_cap), K(V; theta_sel)>: analyse the segment once, let the rate adapter (if
any) pick codec, keyframe count, caption granularity and FEC for the channel it expects, caption,
select keyframes (eq. 4), hide faces if the policy says so, encode.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mirage_stream.codecs import KeyframeCodec, make_codec
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.sender.analysis import SceneAnalyser
from mirage_stream.sender.captioner import Captioner, CaptionSettings
from mirage_stream.sender.keyframes import KeyframeSelector
from mirage_stream.sender.privacy import FaceHider
from mirage_stream.sender.rate import RateAdapter
from mirage_stream.types import Granularity, SegmentPlan, SemanticPayload, VideoSegment


@dataclass(frozen=True)
class SenderSettings:
    """What the sender sends when no rate adapter decides per segment."""

    codec: str = "vq"
    max_keyframes: int = 1
    granularity: Granularity = Granularity.NORMAL
    privacy: bool = False
    keyframe_fec_parity: int = 0

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
    settings: SenderSettings = field(default_factory=SenderSettings)
    analyser: SceneAnalyser = field(default_factory=SceneAnalyser)
    hider: FaceHider = field(default_factory=FaceHider)
    rate: RateAdapter | None = None
    feedback: FeedbackInbox | None = None
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
            if message.keyframe_damaged or not message.delivered:
                self.selector.forget_last_sent()

    def _plan(
        self, trace: SegmentTrace, thumbnails: list[npt.NDArray[np.float32]], cut: bool
    ) -> SegmentPlan:
        if self.rate is None:
            return self.settings.fixed_plan()
        with trace.timed("plan"):
            return self.rate.plan(thumbnails, self.selector.last_sent, cut)

    def describe(self, segment: VideoSegment, trace: SegmentTrace) -> SemanticPayload | None:
        if segment.num_frames == 0:
            trace.dropped = "segment holds no frames"
            return None
        self._take_feedback()
        with trace.timed("analyse"):
            analysis = self.analyser.analyse(segment)
        plan = self._plan(
            trace, [c.thumbnail for c in analysis.candidates], bool(analysis.cut_frames)
        )
        settings = CaptionSettings(plan.granularity, self.settings.privacy)
        with trace.timed("caption"):
            caption = self.captioner.caption(segment, analysis, settings)
        with trace.timed("select"):
            choice = self.selector.select(segment, analysis, plan.keyframes, caption.text)
        with trace.timed("privacy"):
            images = []
            for keyframe in choice.keyframes:
                known = analysis.features_of(keyframe.frame_index)
                images.append(self.hider.apply(keyframe.image, known.faces if known else ()))
        with trace.timed("encode"):
            codec = self.codec(plan.codec)
            encoded = tuple(
                codec.encode(image, k.frame_index)
                for image, k in zip(images, choice.keyframes, strict=True)
            )
        if self.rate is not None:
            compressed = len(zlib.compress(caption.text.encode("utf-8"), 9))
            self.rate.record_caption_bytes(plan.granularity, compressed)
        trace.caption = caption.text
        trace.keyframe_indices = tuple(k.frame_index for k in choice.keyframes)
        trace.plan = plan
        trace.keyframe_skipped = choice.skipped_reason or None
        return SemanticPayload(
            segment_index=segment.index,
            t0=segment.t0,
            duration=segment.duration,
            fps=segment.fps,
            width=segment.width,
            height=segment.height,
            num_frames=segment.num_frames,
            caption=caption.text,
            facts=caption.facts,
            keyframes=encoded,
            keyframe_fec_parity=plan.keyframe_fec_parity if encoded else 0,
        )

    async def process(self, segment: VideoSegment, trace: SegmentTrace) -> SemanticPayload | None:
        return await asyncio.to_thread(self.describe, segment, trace)
