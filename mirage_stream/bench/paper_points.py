"""The points of the paper bench: each a pure function of its parameters (run anywhere: a
local worker or a Ray task), returning plain JSON.

Kinds: ``payload`` (Table 1's clip as one Mirage payload, for a codec setting), ``mirage`` (the
whole chain on a clip at an SNR), ``raw`` (raw frames through the channel), ``video``
(conventional video through the channel, protected or not), ``still`` (a still per segment at a
byte budget, protected) and ``table5`` (caption consistency for a style and codec).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from channel_sim import bit_error_rate, flip_bits
from mirage_stream.bench import conventional
from mirage_stream.bench.sweep import Point
from mirage_stream.link.config import ChannelConfig
from mirage_stream.metrics.fidelity import mse, psnr_db, ssim
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.records import source_of
from mirage_stream.run import RunConfig, run_file
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources import FileSource, SourceConfig, resolve_input
from mirage_stream.types import FrameArray, GeneratedSegment

SEGMENT_S = 2.0
_PICKS = 9  # frames per segment compared for PSNR / SSIM

# The paper's payload: caption and keyframes, no reference picture or face track of the caller.
PAPER_SENDER = SenderConfig(portrait=False)


def channel_of(point: Point) -> ChannelConfig:
    return ChannelConfig(
        snr_db=float(point.get("snr_db")),
        bandwidth_hz=float(point.get("bandwidth_hz")),
        overhead_ms=float(point.get("overhead_ms")),
        seed=int(point.get("seed")),
    )


def segments_of(clip: str) -> tuple[list[FrameArray], float]:
    """The clip at 320x240, cut into 2 s segments (a short tail is kept)."""
    source = FileSource(resolve_input(clip), SourceConfig(320, 240))
    try:
        frames = np.stack(source.read_frames(100_000))
        fps = source.fps
    finally:
        source.close()
    step = max(1, round(SEGMENT_S * fps))
    return [frames[i : i + step] for i in range(0, len(frames), step)], fps


def run_point(point: Point) -> dict[str, Any]:
    """Compute one point (the sweep's runner)."""
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints a banner per encoder otherwise
    runners = {
        "payload": _payload,
        "mirage": _mirage,
        "raw": _raw,
        "video": _video,
        "still": _still,
        "table5": _table5,
    }
    return runners[point.kind](point)


def _payload(point: Point) -> dict[str, Any]:
    from mirage_stream.bench.table1 import MirageRow, Table1Config, table1
    from mirage_stream.codecs import make_codec

    setting = str(point.get("setting"))
    result = table1(
        Table1Config(
            input=str(point.get("clip")), frames=int(point.get("frames")), codecs=(setting,)
        )
    )
    raw, mirage = result.rows[0], result.rows[1]
    assert isinstance(mirage, MirageRow)
    return {
        "raw_bytes": raw.bytes,
        "pixels": result.frames * result.width * result.height,
        "frames": result.frames,
        "bytes": mirage.bytes,
        "parts": mirage.parts,
        "keyframe_bytes_per_frame": make_codec(setting).payload_bytes(),
    }


def _mirage(point: Point) -> dict[str, Any]:
    """The whole chain: what the receiver shows and what the link charged."""
    channel = channel_of(point)
    qualities: list[tuple[float, float]] = []

    def compare(generated: GeneratedSegment, trace: SegmentTrace) -> None:
        segment = source_of(trace)
        if segment is None:
            return
        source = segment.frames
        count = min(len(source), len(generated.frames))
        picks = np.unique(np.linspace(0, count - 1, _PICKS).round().astype(int))
        for i in picks:
            qualities.append(
                (psnr_db(source[i], generated.frames[i]), ssim(source[i], generated.frames[i]))
            )

    with tempfile.TemporaryDirectory(prefix="mirage-paper-") as scratch:
        config = RunConfig.for_input(
            str(point.get("clip")), Path(scratch), channel=channel, sender=PAPER_SENDER
        )
        codec = point.get("codec")
        if codec:
            config = replace(config, sender=replace(config.sender, codec=str(codec)))
        report = asyncio.run(run_file(config, on_generated=compare)).report
    rows = report.segments
    delivered = [r for r in rows + report.dropped if r.get("delivered")]
    keyframe_bytes = [
        (r.get("payload_bytes") or {}).get("keyframes", 0) for r in rows + report.dropped
    ]
    return {
        "segments": report.totals.segments,
        "time_on_air_ms": float(np.mean([r.get("time_on_air_ms", 0.0) for r in rows])),
        "payload_bytes": report.totals.payload_bytes / max(1, len(rows)),
        "keyframe_bytes": float(np.mean(keyframe_bytes)) if keyframe_bytes else 0.0,
        "psnr_db": float(np.mean([q[0] for q in qualities])) if qualities else None,
        "ssim": float(np.mean([q[1] for q in qualities])) if qualities else None,
        "decoded_share": len(delivered) / max(1, len(rows + report.dropped)),
    }


def _raw(point: Point) -> dict[str, Any]:
    """Raw RGB through the channel, uncoded: every bit flipped with the BER."""
    channel = channel_of(point)
    ber = bit_error_rate(channel.snr_db, channel.ber_model)
    rng = np.random.default_rng(channel.seed)
    segments, _ = segments_of(str(point.get("clip")))
    mses, psnrs, ssims, airs = [], [], [], []
    for frames in segments:
        picks = frames[np.unique(np.linspace(0, len(frames) - 1, _PICKS).round().astype(int))]
        damaged = np.frombuffer(flip_bits(picks.tobytes(), ber, rng)[0], np.uint8)
        damaged = damaged.reshape(picks.shape)
        mses += [mse(a, b) / 255.0**2 for a, b in zip(picks, damaged, strict=True)]
        psnrs += [psnr_db(a, b) for a, b in zip(picks, damaged, strict=True)]
        ssims += [ssim(a, b) for a, b in zip(picks, damaged, strict=True)]
        airs.append(conventional.air_ms(8 * frames.nbytes, channel))
    return {
        "time_on_air_ms": float(np.mean(airs)),
        "mse": float(np.mean(mses)),  # on the [0, 1] scale, as the paper's figures
        "psnr_db": float(np.mean(psnrs)),
        "ssim": float(np.mean(ssims)),
        "decoded_share": 1.0,
    }


def _mean_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


def _video(point: Point) -> dict[str, Any]:
    channel = channel_of(point)
    rng = np.random.default_rng(channel.seed)
    segments, fps = segments_of(str(point.get("clip")))
    scheme, protection = str(point.get("scheme")), str(point.get("protection"))
    return _mean_rows(
        [conventional.video_segment(f, fps, scheme, protection, channel, rng) for f in segments]
    )


def _still(point: Point) -> dict[str, Any]:
    channel = channel_of(point)
    segments, _ = segments_of(str(point.get("clip")))
    budget = int(point.get("budget_bytes"))
    scheme = str(point.get("scheme"))
    return _mean_rows([conventional.still_segment(f, scheme, budget, channel) for f in segments])


def _table5(point: Point) -> dict[str, Any]:
    """Caption consistency (SBERT) of the generated video for a style and keyframe codec."""
    from mirage_stream.bench.receiver import ReceiverBenchConfig, bench_receiver
    from mirage_stream.receiver.profile import IdentityMode, ReceiverProfile, StylePreset

    style, identity = str(point.get("style")), str(point.get("identity"))
    profile = ReceiverProfile(
        style=StylePreset(style),
        identity=IdentityMode(identity),
        persona="a friendly robot" if identity == "substitute" else "",
    )
    with tempfile.TemporaryDirectory(prefix="mirage-paper-") as scratch:
        run = RunConfig.for_input(
            str(point.get("clip")), Path(scratch), channel=channel_of(point), sender=PAPER_SENDER
        )
        run = replace(
            run,
            sender=replace(run.sender, codec=str(point.get("codec"))),
            receiver=replace(run.receiver, profile=profile),
        )
        result = bench_receiver(ReceiverBenchConfig(run=run, styles=(), style_codecs=()))
    return {"sbert": result.sbert, "segments": result.segments}
