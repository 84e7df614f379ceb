"""Segments from a live WebRTC video track: the camera of the sender page, sent by the browser
to the sender process over a loopback peer connection.

A browser camera delivers frames at its own, varying rate. Each segment has a fixed number of
frame slots (``fps * segment_s``); a slot takes the newest camera frame captured by its time, so
every segment has the same length and rate as a file's, and the sender pipeline runs on it
unchanged. A track's first segment is shorter (``FIRST_SEGMENT_S``): the far end's first
picture waits for half a second of camera, not a whole segment. The page may reload or the
camera stop: the track then ends, the segment in progress is sent as far as it got, and the
stream waits for the next track.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from mirage_stream.errors import InputError
from mirage_stream.options import WORKING_HEIGHT, WORKING_WIDTH
from mirage_stream.pipeline import Envelope
from mirage_stream.records import source_trace
from mirage_stream.sources.file_source import (
    crop_to_aspect,
    detail_frame,
    detail_indices,
    fit_frame,
)
from mirage_stream.types import DetailFrame, FrameArray, VideoSegment

log = logging.getLogger(__name__)

WAITING = "waiting for the camera"
LIVE = "live"
STOPPED = "camera stopped: waiting for the page to send it again"
FRAME_TIMEOUT_S = 1.5  # a track without a frame this long counts as stopped
FIRST_SEGMENT_S = 0.5  # a track's first segment (``TrackSegmentsConfig.first_segment_s``)


@dataclass(frozen=True)
class TrackSegmentsConfig:
    width: int = WORKING_WIDTH
    height: int = WORKING_HEIGHT
    segment_s: float = 2.0
    fps: float = 25.0  # the segments' frame rate, whatever the camera's
    # A track's first segment, shorter: the far end sees a picture sooner after the camera
    # starts (a 2 s segment alone holds the first frame back 2 s). None: FIRST_SEGMENT_S, or
    # the segment length where that is shorter.
    first_segment_s: float | None = None

    def __post_init__(self) -> None:
        if not 0.1 <= self.segment_s <= 30:
            raise InputError(f"--segment-s must be in [0.1, 30] seconds, got {self.segment_s}")
        first = self.first_segment_s
        if first is not None and not 0.1 <= first <= self.segment_s:
            raise InputError(
                f"the first segment must be in [0.1, --segment-s] seconds, got {first}"
            )
        if not 1 <= self.fps <= 60:
            raise InputError(f"fps must be in [1, 60], got {self.fps}")

    @property
    def slots(self) -> int:
        return max(1, round(self.segment_s * self.fps))

    @property
    def first_slots(self) -> int:
        first = self.first_segment_s or min(FIRST_SEGMENT_S, self.segment_s)
        return max(1, round(first * self.fps))


@dataclass
class _Slots:
    """The segment being filled."""

    frames: list[FrameArray]
    detail: list[DetailFrame]
    keep_detail: frozenset[int]
    wanted: int  # frames in the segment when full


class TrackSegments:
    """Cuts whichever camera track is attached into segments; a new track replaces the old."""

    def __init__(self, config: TrackSegmentsConfig) -> None:
        self.config = config
        self.state = WAITING
        self.camera_started_at: float | None = None  # wall clock of the first camera frame
        self.source_size: tuple[int, int] | None = None
        self.frames_received = 0
        self.tracks_ended = 0
        self._tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
        self._index = 0
        self._t0 = 0.0  # where the next segment starts in the call's media time

    def attach(self, track: MediaStreamTrack) -> None:
        """The page's camera track (a reload sends a new one; the newest wins)."""
        while not self._tracks.empty():
            self._tracks.get_nowait().stop()
        self._tracks.put_nowait(track)

    def _new_slots(self, first: bool = False) -> _Slots:
        wanted = self.config.first_slots if first else self.config.slots
        return _Slots([], [], frozenset(detail_indices(wanted)), wanted)

    def _fill(self, slots: _Slots, frame: VideoFrame) -> None:
        """Bring one camera frame to the working size (and keep it at source size where the
        segment keeps a detail frame); runs off the event loop."""
        rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
        self.source_size = (rgb.shape[1], rgb.shape[0])
        crop = crop_to_aspect(rgb, self.config.width, self.config.height)
        slot = len(slots.frames)
        slots.frames.append(fit_frame(crop, self.config.width, self.config.height))
        if slot in slots.keep_detail and crop.shape[1] > self.config.width:
            slots.detail.append(detail_frame(slot, crop))

    def _segment(self, slots: _Slots) -> Envelope[VideoSegment]:
        config = self.config
        segment = VideoSegment(
            index=self._index,
            frames=np.stack(slots.frames),
            fps=config.fps,
            t0=self._t0,
            detail=tuple(slots.detail),
        )
        self._index += 1
        self._t0 += len(slots.frames) / config.fps
        return Envelope(segment, source_trace(segment))

    async def envelopes(self) -> AsyncIterator[Envelope[VideoSegment]]:
        """Segments for as long as the caller reads: across camera stops and page reloads."""
        while True:
            track = await self._tracks.get()
            self.state = LIVE
            async for envelope in self._segments_of(track):
                yield envelope
            self.tracks_ended += 1
            if self._tracks.empty():
                self.state = STOPPED

    async def _segments_of(self, track: MediaStreamTrack) -> AsyncIterator[Envelope[VideoSegment]]:
        step = 1.0 / self.config.fps
        slots = self._new_slots(first=True)
        previous: VideoFrame | None = None
        next_slot_at: float | None = None  # media time (the frame's own clock) of the next slot
        while True:
            try:
                frame = await asyncio.wait_for(track.recv(), FRAME_TIMEOUT_S)
            except MediaStreamError:
                break
            except TimeoutError:
                # The page stopped its camera (the connection stays up): say so, send what
                # there is, and go on with this track unless the page sent a new one.
                self.state = STOPPED
                if slots.frames:
                    yield self._segment(slots)
                    slots = self._new_slots()
                if not self._tracks.empty():
                    break
                continue
            if not isinstance(frame, VideoFrame) or frame.time is None:
                continue
            self.state = LIVE
            self.frames_received += 1
            if self.camera_started_at is None:
                self.camera_started_at = time.time()
            if next_slot_at is None or frame.time - next_slot_at > self.config.segment_s:
                # The first frame, or the camera paused: start from now rather than fill
                # segments with one stale picture.
                next_slot_at = frame.time
                previous = None
            # Every slot due before this frame was captured shows the frame before it.
            while next_slot_at < frame.time or (previous is None and next_slot_at <= frame.time):
                await asyncio.to_thread(self._fill, slots, previous or frame)
                next_slot_at += step
                if len(slots.frames) == slots.wanted:
                    yield self._segment(slots)
                    slots = self._new_slots()
            previous = frame
        if slots.frames:  # the camera stopped mid-segment: send what there is
            yield self._segment(slots)
