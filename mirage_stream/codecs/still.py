"""AV1 still pictures: one frame coded by SVT-AV1 (libsvtav1) and decoded by dav1d, both
carried by PyAV's own FFmpeg. The bench's AV1 baseline and the caller's reference picture
(``mirage_stream.portrait``) both use it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from mirage_stream.types import FrameArray

CRF_RANGE = (1, 63)  # SVT-AV1's quantiser scale: 63 is the coarsest


class StillError(ValueError):
    """Bytes that do not decode to a picture."""


@contextlib.contextmanager
def scheduling_policy_kept() -> Iterator[None]:
    """Restore the calling thread's scheduling policy when the block ends.

    Why: run as root, SVT-AV1 switches the thread that opens an encoder to SCHED_FIFO at
    priority 99. Every thread and process started from it afterwards inherits that, and on a
    small machine one busy real-time thread (a spinning OpenMP worker, a child app) starves
    everything else: the whole test run once hung this way.
    """
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        yield
    finally:
        if (os.sched_getscheduler(0), os.sched_getparam(0)) != (policy, param):
            os.sched_setscheduler(0, policy, param)


def encode_av1_still(image: FrameArray, crf: int) -> bytes:
    """``image`` (H x W x 3 RGB, even sides) as an AV1 bitstream (OBUs, no container)."""
    import av

    # SVT-AV1 prints its whole configuration at every encoder it opens, unless told not to.
    os.environ.setdefault("SVT_LOG", "1")
    height, width = image.shape[:2]
    with scheduling_policy_kept():
        encoder: Any = av.CodecContext.create("libsvtav1", "w")
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base = Fraction(1, 25)
        encoder.options = {"crf": str(crf), "preset": "8"}
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        packets = list(encoder.encode(frame)) + list(encoder.encode(None))
    return b"".join(bytes(packet) for packet in packets)


def decode_av1_still(data: bytes) -> FrameArray:
    """The picture in ``data``; ``StillError`` when there is none."""
    import av

    decoder: Any = av.CodecContext.create("libdav1d", "r")
    decoder.thread_count = 1  # dav1d's frame threads were seen to wait on damaged input
    decoded = []
    try:
        decoded += decoder.decode(av.Packet(data))
        decoded += decoder.decode(None)
    except (av.error.FFmpegError, ValueError) as error:
        raise StillError(f"AV1 still does not decode: {error}") from None
    if not decoded:
        raise StillError("AV1 still holds no picture")
    return np.asarray(decoded[0].to_ndarray(format="rgb24"), dtype=np.uint8)


def av1_still(image: FrameArray, crf: int) -> tuple[int, FrameArray]:
    """One-frame AV1 encode and decode: (bitstream bytes, decoded)."""
    data = encode_av1_still(image, crf)
    return len(data), decode_av1_still(data)


def av1_still_within(image: FrameArray, budget: int) -> tuple[bytes, int]:
    """The finest AV1 coding of ``image`` within ``budget`` bytes (bisection on the CRF), with
    its CRF; the coarsest (CRF 63) when even that is over."""
    low, high = CRF_RANGE
    best: tuple[bytes, int] | None = None
    while low <= high:
        crf = (low + high) // 2
        data = encode_av1_still(image, crf)
        if len(data) <= budget:
            best, high = (data, crf), crf - 1
        else:
            low = crf + 1
    return best if best is not None else (encode_av1_still(image, CRF_RANGE[1]), CRF_RANGE[1])
