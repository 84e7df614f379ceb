"""Generated frames to the browser: a frame feed played at the video's rate as a WebRTC track."""

from __future__ import annotations

import asyncio
import collections
import fractions
import time
from collections.abc import Callable

import numpy as np
from aiortc import MediaStreamTrack
from av import VideoFrame

from mirage_stream.types import FrameArray

_CLOCK_RATE = 90_000
_WAITING_GREY = 48
_OUTPUT_FPS = 25.0


class FrameFeed:
    """The receiver's playout: each segment's frames get wall-clock show times, back to back at
    the video's rate, whether or not a browser is watching (a watcher sees the frame due now).
    More than ``max_seconds`` scheduled ahead means the receiver is behind: the oldest frames go.
    """

    def __init__(self, width: int, height: int, fps: float = 25.0, max_seconds: float = 4.0):
        self.width, self.height, self.fps = width, height, fps
        self.max_seconds = max_seconds
        self._scheduled: collections.deque[tuple[float, FrameArray]] = collections.deque()
        self._end = 0.0
        self.last: FrameArray = np.full((height, width, 3), _WAITING_GREY, np.uint8)
        self.frames_dropped = 0

    def push(self, frames: np.ndarray, fps: float) -> float:
        """Schedule a segment's frames; returns the seconds until its first frame shows.

        When the frames waiting would run past ``max_seconds``, the oldest waiting frames are
        dropped and the rest rescheduled from now: the newest segment is never delayed by a
        backlog longer than the bound.
        """
        now = time.monotonic()
        self.fps = fps
        start = max(now, self._end)
        if start - now + len(frames) / fps > self.max_seconds:
            waiting = [frame for _, frame in self._scheduled] + list(frames)
            keep = max(len(frames), int(self.max_seconds * fps))
            self.frames_dropped += max(0, len(waiting) - keep)
            waiting = waiting[-keep:]
            self._scheduled = collections.deque(
                (now + i / fps, frame) for i, frame in enumerate(waiting)
            )
            self._end = now + len(waiting) / fps
            return max(0.0, (len(waiting) - len(frames)) / fps)
        self._scheduled.extend((start + i / fps, frame) for i, frame in enumerate(frames))
        self._end = start + len(frames) / fps
        return start - now

    def next_frame(self) -> FrameArray:
        """The frame due now (the last one shown while nothing new is due)."""
        now = time.monotonic()
        while self._scheduled and self._scheduled[0][0] <= now:
            self.last = self._scheduled.popleft()[1]
        return self.last

    @property
    def queued_s(self) -> float:
        return max(0.0, self._end - time.monotonic())


class FeedTrack(MediaStreamTrack):
    """A video track showing the feed that ``feed_of`` names now (the newest call), at its rate."""

    kind = "video"

    def __init__(self, feed_of: Callable[[], FrameFeed]) -> None:
        super().__init__()
        self.feed_of = feed_of
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        # A fixed output rate; the feed picks the frame due at each tick.
        due = self._start + self._count / _OUTPUT_FPS
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        image = self.feed_of().next_frame()
        frame = VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = round(self._count * _CLOCK_RATE / _OUTPUT_FPS)
        frame.time_base = fractions.Fraction(1, _CLOCK_RATE)
        self._count += 1
        return frame
