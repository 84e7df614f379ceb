"""``bench portrait``'s baselines and inputs: AV1 and H.264 at the best setting that fits a
byte budget, AV1 stills held a segment each, and a long call made from a short clip."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.bench.codec import AV1_CRF, matched_bytes
from mirage_stream.bench.conventional import decode_video, encode_video
from mirage_stream.codecs.still import av1_still
from mirage_stream.errors import InputError
from mirage_stream.types import FrameArray

# Quantisers tried at the full size and rate, finest first, down to the coarsest; then, at the
# coarsest, sizes (share of the working size) and frame-rate divisors, largest pixel rate first.
_QUANTISERS = {"av1": (35, 41, 47, 53, 58, 63), "h264": (26, 31, 36, 41, 46, 51)}
_SCALES = (1.0, 0.75, 0.5, 0.375, 0.25)
_RATE_DIVISORS = (1, 2, 4, 8)


def fitted_video(
    frames: npt.NDArray[np.uint8], fps: float, scheme: str, budget: int
) -> tuple[int, list[FrameArray], str]:
    """The clip coded by ``scheme`` at the best setting whose bytes fit ``budget``: the finest
    quantiser that fits at the full size and rate, else the coarsest with the size and frame
    rate lowered until it fits (the smallest tried when nothing does); shown at the working
    size, each decoded frame held until the next."""
    height, width = frames.shape[1:3]
    lowered = sorted(
        ((s, d) for s in _SCALES for d in _RATE_DIVISORS), key=lambda sd: -(sd[0] ** 2) / sd[1]
    )
    coarsest = _QUANTISERS[scheme][-1]
    ladder = [(q, 1.0, 1) for q in _QUANTISERS[scheme][:-1]]
    ladder += [(coarsest, s, d) for s, d in lowered]
    chosen: tuple[int, list[bytes], int, int, tuple[int, int]] | None = None
    for quantiser, scale, divisor in ladder:
        size = (max(16, round(width * scale / 2) * 2), max(16, round(height * scale / 2) * 2))
        kept = frames[::divisor]
        small = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in kept])
        packets = encode_video(small, fps / divisor, scheme, quantiser)
        count = sum(map(len, packets))
        chosen = (count, list(packets), quantiser, divisor, size)
        if count <= budget:
            break
    assert chosen is not None
    count, packets, quantiser, divisor, size = chosen
    kept_count = len(frames[::divisor])
    decoded, _ = decode_video(list(packets), scheme, kept_count, (size[1], size[0], 3))
    enlarged = [
        np.asarray(cv2.resize(d, (width, height), interpolation=cv2.INTER_CUBIC), np.uint8)
        for d in decoded
    ]
    shown = [enlarged[i // divisor] for i in range(len(frames))]
    return count, shown, f"crf {quantiser}, {size[0]}x{size[1]} at {fps / divisor:.3g} fps"


def held_stills(
    frames: npt.NDArray[np.uint8], segment_frames: int, budget_per_segment: int
) -> tuple[int, list[FrameArray], str]:
    """One AV1 still a segment (its middle frame) within the budget, held for the segment."""
    total, shown = 0, []
    for start in range(0, len(frames), segment_frames):
        part = frames[start : start + segment_frames]
        size, decoded, _ = matched_bytes(
            part[len(part) // 2], budget_per_segment, av1_still, AV1_CRF, False
        )
        total += size
        shown += [decoded] * len(part)
    return total, shown, f"one still per {segment_frames} frames"


def pingpong(file: str, seconds: float, out: Path) -> Path:
    """``file`` played forwards, backwards, forwards... for ``seconds``, as a near-lossless
    H.264 file at its own size and rate."""
    import av

    from mirage_stream.sources import resolve_input

    with av.open(str(resolve_input(file))) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or 25
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if not frames:
        raise InputError(f"{file}: no frames")
    cycle = frames + frames[-2:0:-1] if len(frames) > 2 else frames
    wanted = round(seconds * float(rate))
    height, width = (side - side % 2 for side in frames[0].shape[:2])
    with av.open(str(out), "w") as output:
        encoder = output.add_stream("libx264", rate=rate)
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.options = {"crf": "12", "preset": "veryfast"}
        for i in range(wanted):
            image = np.ascontiguousarray(cycle[i % len(cycle)][:height, :width], np.uint8)
            output.mux(encoder.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        output.mux(encoder.encode(None))
    return out
