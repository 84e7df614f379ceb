"""The sender stage: segment -> caption + keyframes -> SemanticPayload (eq. 1)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from mirage_stream.codecs import KeyframeCodec
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.sender.captioner import Captioner
from mirage_stream.sender.keyframes import KeyframeSelector
from mirage_stream.types import SemanticPayload, VideoSegment


@dataclass
class SenderStage:
    """S(V) = <C(V), K(V)>: caption, select and encode keyframes, off the event loop."""

    captioner: Captioner
    selector: KeyframeSelector
    codec: KeyframeCodec
    name: str = "sender"

    def describe(self, segment: VideoSegment, trace: SegmentTrace) -> SemanticPayload:
        with trace.timed("caption"):
            caption = self.captioner.caption(segment)
        with trace.timed("select"):
            keyframes = self.selector.select(segment)
        with trace.timed("encode"):
            encoded = tuple(self.codec.encode(k.image, k.frame_index) for k in keyframes)
        trace.facts["caption"] = caption.text
        trace.facts["keyframe_indices"] = [k.frame_index for k in keyframes]
        return SemanticPayload(
            segment_index=segment.index,
            t0=segment.t0,
            duration=segment.duration,
            fps=segment.fps,
            width=segment.width,
            height=segment.height,
            num_frames=segment.num_frames,
            caption=caption.text,
            hints=caption.motion,
            keyframes=encoded,
        )

    async def process(self, segment: VideoSegment, trace: SegmentTrace) -> SemanticPayload:
        return await asyncio.to_thread(self.describe, segment, trace)
