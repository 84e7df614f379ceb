"""Generated frames to the browser: a frame feed played at the video's rate as a WebRTC track.

The page measures when each segment really appears. The first frame of a segment leaves with
its RTP timestamp moved ``MARK_TICKS * (1 + index % SEGMENT_MARKS)`` ticks (of 90 kHz; steps of
MARK_TICKS because aiortc's conversion to RTP time may round a tick away) off the frame grid and
the next frame back on it, so the page, which sees each frame's RTP timestamp as it is shown,
finds segment starts (and the index modulo SEGMENT_MARKS) without any change to the picture and
without the clock drifting; the server matches the mark to the segment it sent.
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from aiortc import MediaStreamTrack
from av import VideoFrame

from mirage_stream.types import FrameArray

_CLOCK_RATE = 90_000
_WAITING_GREY = 48
_OUTPUT_FPS = 25.0
_FRAME_TICKS = round(_CLOCK_RATE / _OUTPUT_FPS)
SEGMENT_MARKS = 63  # segment indices told apart on the page
MARK_TICKS = 4  # 4 * 64 ticks: well under half a frame step (3600), so marks and returns differ


@dataclass(frozen=True)
class SegmentStart:
    """When a segment's first frame went out to the watchers."""

    index: int
    captured_at: float | None  # the sender's wall clock (last frame of the segment captured)
    sent_at: float  # wall clock


class FrameFeed:
    """The receiver's playout: each segment's frames get wall-clock show times, back to back at
    the video's rate, whether or not a browser is watching (a watcher sees the frame due now).
    More than ``max_seconds`` scheduled ahead means the receiver is behind: the oldest frames go.
    """

    def __init__(
        self,
        width: int,
        height: int,
        fps: float = 25.0,
        max_seconds: float = 4.0,
        clock: Callable[[], float] = time.monotonic,  # show times; tests pass their own
    ):
        self.width, self.height, self.fps = width, height, fps
        self.max_seconds = max_seconds
        self._clock = clock
        # (show time, frame, the segment it starts or None)
        self._scheduled: collections.deque[tuple[float, FrameArray, SegmentStart | None]] = (
            collections.deque()
        )
        self._end = 0.0
        self.last: FrameArray = np.full((height, width, 3), _WAITING_GREY, np.uint8)
        self.frames_dropped = 0
        self.segments_cut = 0  # segments whose first frame was dropped to keep up
        self.starts: collections.deque[SegmentStart] = collections.deque(maxlen=4 * SEGMENT_MARKS)

    def push(
        self,
        frames: np.ndarray,
        fps: float,
        index: int | None = None,
        captured_at: float | None = None,
    ) -> float:
        """Schedule a segment's frames; returns the seconds until its first frame shows.

        When the frames waiting would run past ``max_seconds``, the oldest waiting frames are
        dropped and the rest rescheduled from now: the newest segment is never delayed by a
        backlog longer than the bound.
        """
        now = self._clock()
        self._advance(now)  # with no page watching, nothing else lets shown frames go
        self.fps = fps
        start = max(now, self._end)
        first = None if index is None else SegmentStart(index, captured_at, 0.0)
        marks = [first, *([None] * (len(frames) - 1))]
        if start - now + len(frames) / fps > self.max_seconds:
            waiting = [(frame, mark) for _, frame, mark in self._scheduled]
            waiting += list(zip(frames, marks, strict=True))
            keep = max(len(frames), int(self.max_seconds * fps))
            self.frames_dropped += max(0, len(waiting) - keep)
            # A segment whose first frame goes was cut short (or never shown): counted.
            self.segments_cut += sum(1 for _, mark in waiting[:-keep] if mark is not None)
            waiting = waiting[-keep:]
            self._scheduled = collections.deque(
                (now + i / fps, frame, mark) for i, (frame, mark) in enumerate(waiting)
            )
            self._end = now + len(waiting) / fps
            return max(0.0, (len(waiting) - len(frames)) / fps)
        pairs = zip(frames, marks, strict=True)
        self._scheduled.extend(
            (start + i / fps, frame, mark) for i, (frame, mark) in enumerate(pairs)
        )
        self._end = start + len(frames) / fps
        return start - now

    def next_marked(self) -> tuple[FrameArray, SegmentStart | None]:
        """The frame due now, and the segment whose first frame became due since the last
        call (recorded in ``starts`` with the time it went out)."""
        started = self._advance(self._clock())  # before reading ``last``: it moves it
        return self.last, started

    def _advance(self, now: float) -> SegmentStart | None:
        """Let every frame due by ``now`` go (the newest stays as ``last``); the newest
        segment start among them, recorded in ``starts``."""
        started: SegmentStart | None = None
        while self._scheduled and self._scheduled[0][0] <= now:
            _, self.last, mark = self._scheduled.popleft()
            if mark is not None:
                started = SegmentStart(mark.index, mark.captured_at, time.time())
                self.starts.append(started)
        return started

    def shown(self, mark: int, shown_at: float) -> SegmentStart | None:
        """The segment a page saw start (its index modulo SEGMENT_MARKS) at ``shown_at``: the
        newest with that residue sent before then."""
        for start in reversed(self.starts):
            if start.index % SEGMENT_MARKS == mark and start.sent_at <= shown_at + 0.05:
                return start
        return None

    @property
    def queued_s(self) -> float:
        return max(0.0, self._end - self._clock())


class FeedTrack(MediaStreamTrack):
    """A video track showing the feed that ``feed_of`` names now (the newest call), at its rate."""

    kind = "video"

    def __init__(self, feed_of: Callable[[], FrameFeed]) -> None:
        super().__init__()
        self.feed_of = feed_of
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> VideoFrame:
        clock = asyncio.get_running_loop().time  # the loop's monotonic clock (virtual in tests)
        if self._start is None:
            self._start = clock()
        # A fixed output rate; the feed picks the frame due at each tick.
        due = self._start + self._count / _OUTPUT_FPS
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        image, started = self.feed_of().next_marked()
        frame = VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        mark = 0 if started is None else MARK_TICKS * (1 + started.index % SEGMENT_MARKS)
        frame.pts = self._count * _FRAME_TICKS + mark
        frame.time_base = fractions.Fraction(1, _CLOCK_RATE)
        self._count += 1
        return frame


def encode_jpeg(image: FrameArray, quality: int = 85) -> bytes:
    """An RGB picture as JPEG bytes, for the pages' keyframe views."""
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data)
