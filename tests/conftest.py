"""Shared fixtures: small synthetic videos and the short real clip used end to end."""

from __future__ import annotations

import faulthandler
import os
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from mirage_stream.sources import FileSource, SourceConfig, sample_path
from mirage_stream.types import VideoSegment


def pytest_configure(config: pytest.Config) -> None:
    """A native crash (a segmentation fault in FFmpeg, OpenCV, torch) prints every thread's
    Python stack to the terminal, not into a capture file lost with the process."""
    config.stash[_CRASH_FD] = os.dup(sys.__stderr__.fileno() if sys.__stderr__ else 2)
    faulthandler.enable(file=config.stash[_CRASH_FD], all_threads=True)


_CRASH_FD = pytest.StashKey[int]()


@pytest.fixture(autouse=True)
def _crash_stacks_stay_on(request: pytest.FixtureRequest) -> None:
    """A library may put its own SIGSEGV handler in place of ours: ours again for each test."""
    faulthandler.enable(file=request.config.stash[_CRASH_FD], all_threads=True)


def textured_image(
    height: int = 240, width: int = 320, seed: int = 0, cell: int = 16
) -> np.ndarray:
    """A smooth random colour field (detail at ``cell`` pixels) with a red block."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(height // cell + 2, width // cell + 2, 3))
    coarse = coarse.astype(np.float32)
    import cv2

    smooth = cv2.resize(coarse, (width + 32, height + 32), interpolation=cv2.INTER_CUBIC)
    smooth = smooth[16 : 16 + height, 16 : 16 + width]
    smooth[height // 3 : height // 2, width // 4 : width // 2] = (240, 40, 40)  # a red block
    return np.clip(smooth, 0, 255).astype(np.uint8)


def panning_segment(dx: int, dy: int, frames: int = 12, fps: float = 25.0) -> VideoSegment:
    """Frames of a large textured image seen through a window moving by (-dx, -dy) per frame,
    so that content appears to move by (+dx, +dy) per frame."""
    big = textured_image(400, 480, seed=3)
    stack = []
    for t in range(frames):
        x0, y0 = 80 - dx * t, 80 - dy * t
        stack.append(big[y0 : y0 + 240, x0 : x0 + 320])
    return VideoSegment(index=0, frames=np.stack(stack), fps=fps, t0=0.0)


def write_video(path: Path, frames: np.ndarray, fps: int = 25, codec: str = "libx264") -> Path:
    """Write RGB frames to ``path`` with PyAV (any container its suffix names)."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="session")
def carphone_frames() -> np.ndarray:
    """The first 30 frames of the carphone sample at 320x240."""
    source = FileSource(sample_path("carphone"), SourceConfig(max_seconds=1.0))
    try:
        return np.stack(source.read_frames(30))
    finally:
        source.close()


@pytest.fixture(scope="session")
def tiny_ltx(tmp_path_factory):
    """LTX-Video image-to-video from tiny random-weight components, saved like a real model."""
    from tests.tiny_pipelines import build

    pipeline = build("ltx")
    folder = tmp_path_factory.mktemp("tiny-ltx")
    pipeline.save_pretrained(folder)
    return folder
