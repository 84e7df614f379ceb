"""Cancels readers of a FileSource while its worker thread is inside FFmpeg, many times over.

Run as a program (``python tests/cancel_mid_decode.py VIDEO ROUNDS``) so that a use-after-free,
which kills the process with SIGSEGV, fails the calling test instead of the whole suite. Prints
``ok ROUNDS`` when every round ended cleanly.
"""

from __future__ import annotations

import asyncio
import random
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mirage_stream.sources import FileSource, SourceConfig


def write_noise_clip(path: Path, frames: int = 40, width: int = 960, height: int = 540) -> Path:
    """Noise decodes slowly (every block coded): each segment keeps the worker in FFmpeg long
    enough for a cancel to land inside it."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(25))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for _ in range(frames):
            image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


async def cancel_once(path: Path, after_s: float) -> None:
    source = FileSource(path, SourceConfig())

    async def read_all() -> None:
        async for _ in source.segments(1.0):
            pass

    reader = asyncio.create_task(read_all())
    await asyncio.sleep(after_s)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)


async def cancel_many(path: Path, rounds: int) -> None:
    chance = random.Random(1)
    for _ in range(rounds):
        await cancel_once(path, chance.uniform(0.0, 0.1))
    await asyncio.sleep(0.5)  # the last worker finishes (and closes) while the process lives


if __name__ == "__main__":
    video, rounds = Path(sys.argv[1]), int(sys.argv[2])
    if not video.exists():
        write_noise_clip(video)
    asyncio.run(cancel_many(video, rounds))
    print("ok", rounds)
