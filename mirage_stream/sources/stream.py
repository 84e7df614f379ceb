"""Segments as a run or a call reads them: each in an ``Envelope`` whose trace carries the
segment and the wall-clock time its last frame was captured.

A camera delivers at its own pace; a file is read as fast as the pipeline takes it, or, with a
``pacer``, released when a camera would have finished capturing each segment (t0 + duration on
the pacer's clock), looped when the config says so. A looped file small enough
(``LOOP_CACHE_BYTES`` of working frames) is decoded once: later passes replay copies of its
segments, as a camera would deliver frames without decoding anything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from mirage_stream.pipeline import Envelope
from mirage_stream.records import source_trace
from mirage_stream.sources.config import InputConfig
from mirage_stream.sources.file_source import FileSource
from mirage_stream.sources.samples import resolve_input
from mirage_stream.types import VideoSegment

LOOP_CACHE_BYTES = 64 * 1024 * 1024


class Pacer(Protocol):
    async def wait_until(self, media_s: float) -> None: ...


class SegmentStream:
    """Opens the input at once (a bad path fails before anything starts) and says what it is."""

    def __init__(
        self,
        config: InputConfig,
        pacer: Pacer | None = None,
        total_seconds: float | None = None,  # of video in all, loops included
    ) -> None:
        self.config = config
        self.pacer = pacer
        self.total_seconds = total_seconds
        self.path: Path = (
            Path(config.camera) if config.camera else resolve_input(config.input or "")
        )
        self._first: FileSource | None = self._open()
        self._kept_pass: list[VideoSegment] | None = None  # a looped file's pass, decoded once
        self.fps = self._first.fps
        self.source_size = self._first.source_size

    def _open(self) -> FileSource:
        if self.config.camera:
            return FileSource.camera(self.config.camera, self.config.frames())
        return FileSource(self.path, self.config.frames())

    async def envelopes(self) -> AsyncIterator[Envelope[VideoSegment]]:
        offset, index = 0.0, 0
        while True:
            last_end = offset
            async for segment, capture_cpu_ms in self._one_pass():
                t0 = offset + segment.t0
                if self.pacer is not None and not self.config.camera:
                    await self.pacer.wait_until(t0 + segment.duration)
                if self.total_seconds is not None and t0 >= self.total_seconds:
                    return
                shifted = VideoSegment(index, segment.frames, segment.fps, t0, segment.detail)
                trace = source_trace(shifted)
                trace.cpu_ms["capture"] = capture_cpu_ms
                yield Envelope(shifted, trace)
                index += 1
                last_end = t0 + segment.duration
            if not self.config.loop or self.config.camera:
                return
            offset = last_end

    async def _one_pass(self) -> AsyncIterator[tuple[VideoSegment, float]]:
        """The input's segments once, each with the CPU milliseconds it took: replayed when an
        earlier pass was kept whole, else decoded (and kept, for a looped file, while they fit
        in ``LOOP_CACHE_BYTES``)."""
        if self._kept_pass is not None:
            for segment in self._kept_pass:
                # A copy: a stage may write into its segment's frames.
                yield await asyncio.to_thread(_timed_copy, segment)
            return
        source, self._first = self._first or self._open(), None
        keeping: list[VideoSegment] | None = (
            [] if self.config.loop and not self.config.camera else None
        )
        size, read_ms = 0, 0.0
        async for segment in source.segments(self.config.segment_s):
            spent_ms = source.read_cpu_ms - read_ms
            read_ms = source.read_cpu_ms
            size += segment.frames.nbytes + sum(d.image.nbytes for d in segment.detail)
            if keeping is not None and size <= LOOP_CACHE_BYTES:
                kept, copy_ms = await asyncio.to_thread(_timed_copy, segment)
                keeping.append(kept)  # kept apart from what the stages get
                spent_ms += copy_ms
            elif keeping is not None:
                keeping = None  # too long to hold: every pass decodes
            yield segment, spent_ms
        self._kept_pass = keeping

    def close(self) -> None:
        if self._first is not None:
            self._first.close()
            self._first = None


def _timed_copy(segment: VideoSegment) -> tuple[VideoSegment, float]:
    """A copy of ``segment``'s frames, and the CPU milliseconds it took (off the event loop:
    a call's CPU on the loop is its signalling and transport alone)."""
    cpu_start = time.thread_time()
    copied = VideoSegment(
        segment.index, segment.frames.copy(), segment.fps, segment.t0, segment.detail
    )
    return copied, (time.thread_time() - cpu_start) * 1000.0
