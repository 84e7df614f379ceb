"""Conventional video through the same simulated channel as Mirage, for the paper bench.

Each 2 s segment of a clip (at the working size) is coded conventionally and sent through the
eq. 7-9 channel at an SNR, one of two ways:

- ``fec``: protected as the caption is (CRC, Reed-Solomon, repetition, ARQ; ``plan_code`` sizes
  it to the BER for a residual failure under 1e-9) and charged the expected time on air of that
  plan: it then decodes exactly as encoded;
- ``none``: unprotected, every bit flipped with the channel's BER; packets the decoder rejects
  and frames it never returns count as not decoded, and the receiver holds the last good frame
  (grey before the first).

Schemes: H.264 (libx264), VP9 (libvpx-vp9) and AV1 (SVT-AV1, decoded by dav1d) at their lowest
rates (the quantiser at its coarsest), both ways; and AV1 / JPEG stills of each segment's middle
frame at a byte budget, held for the segment, protected only.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
import numpy as np

from channel_sim import bit_error_rate, flip_bits, time_on_air_s
from channel_sim.reliable import plan_code
from mirage_stream.bench.codec import AV1_CRF, jpeg_still, matched_bytes
from mirage_stream.codecs.still import av1_still, scheduling_policy_kept
from mirage_stream.link.config import ChannelConfig
from mirage_stream.metrics.fidelity import psnr_db, ssim
from mirage_stream.types import FrameArray

_GREY = 128
_JPEG_QUALITIES = (5, 10, 20, 30, 50, 70, 90)
# Encoder, its options at the coarsest quantiser, and the decoder that reads it.
VIDEO_SCHEMES: dict[str, tuple[str, dict[str, str], str]] = {
    "h264": ("libx264", {"crf": "51", "preset": "medium", "tune": "zerolatency"}, "h264"),
    "vp9": ("libvpx-vp9", {"crf": "63", "b": "0", "deadline": "good", "cpu-used": "4"}, "vp9"),
    "av1": ("libsvtav1", {"crf": "63", "preset": "8"}, "libdav1d"),
}
STILL_SCHEMES = ("av1-still", "jpeg-still")
PROTECTIONS = ("fec", "none")


def protected_bits(num_bytes: int, ber: float) -> float:
    """Expected channel bits to deliver ``num_bytes`` through the caption's protected path."""
    if num_bytes == 0:
        return 0.0
    plan = plan_code(num_bytes, ber)
    return plan.channel_bits * plan.expected_tries


def air_ms(bits: float, channel: ChannelConfig) -> float:
    return 1000.0 * time_on_air_s(
        round(bits), channel.bandwidth_hz, channel.snr_db, channel.overhead_ms / 1000.0
    )


def budget_for_air(time_on_air_ms: float, channel: ChannelConfig) -> int:
    """The most bytes whose protected delivery fits ``time_on_air_ms`` at this SNR (0: none)."""
    ber = bit_error_rate(channel.snr_db, channel.ber_model)
    low, high = 0, 1 << 20
    while low < high:
        middle = (low + high + 1) // 2
        if air_ms(protected_bits(middle, ber), channel) <= time_on_air_ms:
            low = middle
        else:
            high = middle - 1
    return low


def encode_video(
    frames: FrameArray, fps: float, scheme: str, crf: int | None = None
) -> list[bytes]:
    """A segment coded at the scheme's lowest rate (or at ``crf``): its packets, in decode
    order."""
    encoder_name, options, _ = VIDEO_SCHEMES[scheme]
    if crf is not None:
        options = {**options, "crf": str(crf)}
    with scheduling_policy_kept():
        encoder: Any = av.CodecContext.create(encoder_name, "w")
        encoder.width, encoder.height = frames.shape[2], frames.shape[1]
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = Fraction(1, round(fps))
        encoder.framerate = Fraction(round(fps))
        encoder.options = options
        packets = []
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
            frame.pts = index
            packets += [bytes(packet) for packet in encoder.encode(frame)]
        packets += [bytes(packet) for packet in encoder.encode(None)]
    return packets


def decode_video(
    packets: list[bytes | None], scheme: str, count: int, shape: tuple[int, ...]
) -> tuple[list[FrameArray], float]:
    """Decode what arrived (None: a packet known lost); frames the decoder does not return are
    the last good one held. Returns the shown frames and the share actually decoded."""
    decoder: Any = av.CodecContext.create(VIDEO_SCHEMES[scheme][2], "r")
    # One thread, no frame delay: dav1d's frame threads were seen to wait forever on a damaged
    # stream's flush.
    decoder.thread_count = 1
    if scheme == "av1":
        decoder.options = {"max_frame_delay": "1"}
    decoded: list[FrameArray] = []
    for data in [*packets, None]:
        if data is None and len(decoded) >= count:
            break
        try:
            for frame in decoder.decode(av.Packet(data) if data is not None else None):
                image = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
                if image.shape == shape:
                    decoded.append(image)
        except (av.error.FFmpegError, ValueError):
            continue
    held = decoded[:count]
    good = len(held)
    last = held[-1] if held else np.full(shape, _GREY, np.uint8)
    held += [last] * (count - good)
    return held, good / count


def _quality(source: FrameArray, shown: list[FrameArray]) -> tuple[float, float]:
    picks = np.unique(np.linspace(0, len(source) - 1, 9).round().astype(int))
    return (
        float(np.mean([psnr_db(source[i], shown[i]) for i in picks])),
        float(np.mean([ssim(source[i], shown[i]) for i in picks])),
    )


def video_segment(
    frames: FrameArray,
    fps: float,
    scheme: str,
    protection: str,
    channel: ChannelConfig,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """One segment of conventional video through the channel: what it cost and what it shows."""
    packets = encode_video(frames, fps, scheme)
    size = sum(len(p) for p in packets)
    ber = bit_error_rate(channel.snr_db, channel.ber_model)
    if protection == "fec":
        bits = protected_bits(size, ber)
        arrived: list[bytes | None] = list(packets)
    else:
        bits = 8 * size
        arrived = [flip_bits(p, ber, rng)[0] for p in packets]
    shown, share = decode_video(arrived, scheme, len(frames), frames.shape[1:])
    psnr, structure = _quality(frames, shown)
    return {
        "bytes": size,
        "time_on_air_ms": air_ms(bits, channel),
        "psnr_db": psnr,
        "ssim": structure,
        "decoded_share": share,
    }


StillCodec = Callable[[FrameArray, int], tuple[int, FrameArray]]
_STILLS: dict[str, tuple[StillCodec, tuple[int, ...], bool]] = {
    "av1-still": (av1_still, AV1_CRF, False),
    "jpeg-still": (jpeg_still, _JPEG_QUALITIES, True),
}


def still_segment(
    frames: FrameArray, scheme: str, budget_bytes: int, channel: ChannelConfig
) -> dict[str, Any]:
    """The segment's middle frame as a still within ``budget_bytes``, protected, held for the
    segment. (Stills are sent protected only: unprotected ones are not simulated.)"""
    codec, settings, higher_is_better = _STILLS[scheme]
    middle = frames[len(frames) // 2]
    ber = bit_error_rate(channel.snr_db, channel.ber_model)
    size, decoded, fits = matched_bytes(middle, budget_bytes, codec, settings, higher_is_better)
    if not fits:  # nothing that small decodes: the receiver has nothing to show
        shown, size, bits, share = np.full(middle.shape, _GREY, np.uint8), 0, 0.0, 0.0
    else:
        shown, bits, share = decoded, protected_bits(size, ber), 1.0
    psnr, structure = _quality(frames, [shown] * len(frames))
    return {
        "bytes": size,
        "time_on_air_ms": air_ms(bits, channel) if bits else 0.0,
        "psnr_db": psnr,
        "ssim": structure,
        "decoded_share": share,
    }
