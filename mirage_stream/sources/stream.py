"""Segments as a run or a call reads them: each in an ``Envelope`` whose trace carries the
segment and the wall-clock time its last frame was captured.

A camera delivers at its own pace; a file is read as fast as the pipeline takes it, or, with a
``pacer``, released when a camera would have finished capturing each segment (t0 + duration on
the pacer's clock), looped when the config says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from mirage_stream.pipeline import Envelope
from mirage_stream.records import source_trace
from mirage_stream.sources.config import InputConfig
from mirage_stream.sources.file_source import FileSource
from mirage_stream.sources.samples import resolve_input
from mirage_stream.types import VideoSegment


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
        self.fps = self._first.fps
        self.source_size = self._first.source_size

    def _open(self) -> FileSource:
        if self.config.camera:
            return FileSource.camera(self.config.camera, self.config.frames())
        return FileSource(self.path, self.config.frames())

    async def envelopes(self) -> AsyncIterator[Envelope[VideoSegment]]:
        offset, index = 0.0, 0
        while True:
            source, self._first = self._first or self._open(), None
            last_end = offset
            async for segment in source.segments(self.config.segment_s):
                t0 = offset + segment.t0
                if self.pacer is not None and not self.config.camera:
                    await self.pacer.wait_until(t0 + segment.duration)
                if self.total_seconds is not None and t0 >= self.total_seconds:
                    return
                shifted = VideoSegment(index, segment.frames, segment.fps, t0, segment.detail)
                yield Envelope(shifted, source_trace(shifted))
                index += 1
                last_end = t0 + segment.duration
            if not self.config.loop or self.config.camera:
                return
            offset = last_end

    def close(self) -> None:
        if self._first is not None:
            self._first.close()
            self._first = None
