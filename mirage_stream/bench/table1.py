"""Table 1 of the paper: bytes, bits per pixel and time on air of raw video vs Mirage.

The whole clip (``frames`` frames at the working size) is one segment. The default, 144 frames
of 320x240, is the size of the paper's raw row: 32,415.88 KiB = 144.07 frames of 24-bit
320x240 (PAPER.md reads it as "about 141"). The Mirage payload is the clip's caption plus one
keyframe, and ``bytes`` counts the whole msgpack message, framing included. Latency is time on
air at the eq. 7 rate plus the stated per-payload overhead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from channel_sim import time_on_air_s
from mirage_stream.codecs import codec_settings, make_codec
from mirage_stream.errors import InputError
from mirage_stream.link.config import ChannelConfig
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.sender import (
    CaptionSettings,
    MeasuredFactsCaptioner,
    SceneAnalyser,
    ScoredKeyframeSelector,
    SegmentAnalysis,
    SenderSettings,
    SenderStage,
)
from mirage_stream.sources import FileSource, SourceConfig, resolve_input
from mirage_stream.types import Caption, VideoSegment
from mirage_stream.wire import encode_payload_image

# The paper's Table 1 (SNR -10 dB), as printed there (KB = 1024 bytes is our reading).
PAPER_TABLE1: list[dict[str, Any]] = [
    {
        "scheme": "Raw (8-bit)",
        "data_kb": 32415.88,
        "latency_ms": 96899.14,
        "bpp": 24.0,
        "data_speedup": 1.0,
        "latency_speedup": 1.0,
    },
    {
        "scheme": "Conventional semantic (AE, 8-bit features)",
        "data_kb": 21615.02,
        "latency_ms": 64725.25,
        "bpp": 16.0,
        "data_speedup": 1.5,
        "latency_speedup": 1.5,
    },
    {
        "scheme": "Mirage-AE (8-bit)",
        "data_kb": 128.40,
        "latency_ms": 384.48,
        "bpp": 16.0,
        "data_speedup": 252.5,
        "latency_speedup": 252.0,
    },
    {
        "scheme": "Mirage-VQVAE (K=256)",
        "data_kb": 0.63,
        "latency_ms": 3.86,
        "bpp": 0.031,
        "data_speedup": 51818.7,
        "latency_speedup": 25081.0,
    },
]


@dataclass(frozen=True)
class Table1Config:
    input: str = "sample:bikes"
    frames: int = 144
    width: int = 320
    height: int = 240
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    codecs: tuple[str, ...] = ("vq", "ae", "thumbnail")

    def __post_init__(self) -> None:
        if not 1 <= self.frames <= 10_000:
            raise InputError(f"--frames must be in [1, 10000], got {self.frames}")


@dataclass(frozen=True)
class _FixedCaption:
    """Reuses one caption, so that rows differ only by their keyframe codec."""

    fixed: Caption
    name: str = "fixed"

    def caption(
        self, segment: VideoSegment, analysis: SegmentAnalysis, settings: CaptionSettings
    ) -> Caption:
        return self.fixed


def _read_clip(config: Table1Config) -> VideoSegment:
    source = FileSource(resolve_input(config.input), SourceConfig(config.width, config.height))
    try:
        frames = source.read_frames(config.frames)
    finally:
        source.close()
    if not frames:
        raise InputError(f"{config.input} holds no decodable video frames")
    return VideoSegment(index=0, frames=np.stack(frames), fps=source.fps, t0=0.0)


@dataclass(frozen=True)
class RawRow:
    """The clip as raw 8-bit RGB."""

    scheme: str
    bytes: int
    bpp: float
    latency_ms: float
    data_speedup: float
    latency_speedup: float


@dataclass(frozen=True)
class MirageRow:
    """The clip as one Mirage payload with one codec variant's keyframe."""

    scheme: str  # mirage-<codec>-<variant>
    bytes: int
    keyframe_bytes: int
    bpp: float
    latency_ms: float
    data_speedup: float
    latency_speedup: float
    parts: dict[str, int]  # payload bytes by part (caption, keyframes, ...)


@dataclass(frozen=True)
class Table1Result:
    input: str
    frames: int
    width: int
    height: int
    snr_db: float
    bandwidth_hz: float
    overhead_ms: float
    rows: list[RawRow | MirageRow]  # raw first, then each codec variant
    paper: list[dict[str, Any]]  # the paper's own rows, as printed there


def table1(config: Table1Config) -> Table1Result:
    clip = _read_clip(config)
    pixels = clip.num_frames * clip.width * clip.height
    overhead_s = config.channel.overhead_ms / 1000.0

    def latency_ms(num_bytes: int) -> float:
        return 1000.0 * time_on_air_s(
            num_bytes * 8, config.channel.bandwidth_hz, config.channel.snr_db, overhead_s
        )

    raw_bytes = clip.raw_bytes
    raw_latency = latency_ms(raw_bytes)
    rows: list[RawRow | MirageRow] = [
        RawRow("raw", raw_bytes, raw_bytes * 8 / pixels, raw_latency, 1.0, 1.0)
    ]
    analysis = SceneAnalyser().analyse(clip)
    # The same caption for every codec, so that rows differ only by their keyframe codec.
    caption = MeasuredFactsCaptioner().caption(clip, analysis, CaptionSettings())
    for setting in codec_settings(config.codecs):  # every variant each codec ships
        codec = make_codec(setting)
        sender = SenderStage(
            _FixedCaption(caption),
            ScoredKeyframeSelector(),
            SenderSettings(codec=setting, max_keyframes=1),  # the paper's one keyframe
        )
        payload = sender.describe(clip, SegmentTrace(index=0))
        assert payload is not None  # the clip has frames
        image = encode_payload_image(payload)
        mirage_bytes = len(image.data)
        mirage_latency = latency_ms(mirage_bytes)
        rows.append(
            MirageRow(
                scheme=f"mirage-{codec.name}-{codec.variant}",
                bytes=mirage_bytes,
                keyframe_bytes=codec.payload_bytes(),
                bpp=mirage_bytes * 8 / pixels,
                latency_ms=mirage_latency,
                data_speedup=raw_bytes / mirage_bytes,
                latency_speedup=raw_latency / mirage_latency,
                parts=dict(image.part_bytes),
            )
        )
    return Table1Result(
        input=config.input,
        frames=clip.num_frames,
        width=clip.width,
        height=clip.height,
        snr_db=config.channel.snr_db,
        bandwidth_hz=config.channel.bandwidth_hz,
        overhead_ms=config.channel.overhead_ms,
        rows=rows,
        paper=PAPER_TABLE1,
    )
