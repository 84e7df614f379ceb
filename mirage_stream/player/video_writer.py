"""An H.264 mp4 writer on PyAV with timestamps taken from the caller."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def frame_rate(fps: float) -> Fraction:
    """A rational frame rate: 29.97 becomes 30000/1001, 25.0 becomes 25."""
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """Writes RGB frames at given frame numbers (pts in units of 1/fps) into an mp4."""

    def __init__(self, path: Path, fps: float, width: int, height: int, crf: int = 20) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(path), mode="w")
        rate = frame_rate(fps)
        self._time_base = 1 / rate
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width = width
        self._stream.height = height
        self._stream.pix_fmt = "yuv420p"
        self._stream.codec_context.time_base = self._time_base
        self._stream.options = {"crf": str(crf), "preset": "veryfast"}
        self._last_pts = -1
        self._last_image: np.ndarray | None = None
        self.frames_written = 0
        self.frames_held = 0  # repeats of the last frame that filled gaps
        self._broken = False  # a write failed: the file is lost, only closing is safe

    def _mux(self, image: np.ndarray, pts: int) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = pts
        frame.time_base = self._time_base
        try:
            self._container.mux(self._stream.encode(frame))
        except OSError:
            self._broken = True
            raise
        self._last_pts = pts
        self._last_image = image
        self.frames_written += 1

    def write(self, frames: np.ndarray, first_pts: int) -> None:
        """Write ``frames`` (F, H, W, 3) starting at frame number ``first_pts``.

        A gap before ``first_pts`` (a segment skipped or lost) is filled by holding the last
        frame, so the file plays gaplessly and every later frame keeps its timestamp.
        """
        if self._last_image is not None:
            for pts in range(self._last_pts + 1, first_pts):
                self._mux(self._last_image, pts)
                self.frames_held += 1
        for offset, image in enumerate(frames):
            # A pts that goes back would make an invalid file: shift forward instead.
            self._mux(image, max(first_pts + offset, self._last_pts + 1))

    def close(self) -> None:
        try:
            # After a failed write (disk full), flushing the encoder into the muxer crashes
            # FFmpeg (a segmentation fault, seen with PyAV 18.1): close without it.
            if not self._broken:
                self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()
