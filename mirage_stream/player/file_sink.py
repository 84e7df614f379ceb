"""Plays generated segments into files: the generated video and a source | generated view."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mirage_stream.metrics import psnr_db
from mirage_stream.metrics.faces import faces_found
from mirage_stream.metrics.fidelity import held_keyframes
from mirage_stream.metrics.ghosting import ghosting
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.player.video_writer import VideoWriter
from mirage_stream.records import DecodeRecord, EvaluationRecord, source_of
from mirage_stream.types import GeneratedSegment


@dataclass
class FileSink:
    """Writes ``generated.mp4`` and, when the trace carries the source, ``side_by_side.mp4``.

    Frame timestamps come from each segment's t0, so a dropped segment leaves a gap in time
    (the player holds the last frame) instead of shifting everything after it.
    """

    out_dir: Path
    generated_name: str = "generated.mp4"
    side_by_side_name: str = "side_by_side.mp4"
    _generated: VideoWriter | None = field(default=None, init=False)
    _side_by_side: VideoWriter | None = field(default=None, init=False)
    # Writes and the close run on worker threads; when a write fails (disk full) the pipeline
    # closes the sink while another write may still be muxing: one at a time, or the muxer
    # is freed under a running write (a crash, not an error).
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    # The previous segment's last decoded keyframe (frame number in the run, image).
    _last_keyframe: tuple[int, npt.NDArray[np.uint8]] | None = field(default=None, init=False)

    def _write(self, segment: GeneratedSegment, trace: SegmentTrace) -> None:
        with self._lock:
            self._write_locked(segment, trace)

    def _write_locked(self, segment: GeneratedSegment, trace: SegmentTrace) -> None:
        frames = segment.frames
        height, width = frames.shape[1:3]
        first_pts = round(segment.t0 * segment.fps)
        if self._generated is None:
            self._generated = VideoWriter(
                self.out_dir / self.generated_name, segment.fps, width, height
            )
        self._generated.write(frames, first_pts)
        source = source_of(trace)
        if source is None or source.frames.shape[1:3] != frames.shape[1:3]:
            return
        count = min(source.num_frames, segment.frames.shape[0])
        trace.attach(self._evaluated(source.frames[:count], frames[:count], trace, first_pts))
        if self._side_by_side is None:
            self._side_by_side = VideoWriter(
                self.out_dir / self.side_by_side_name, segment.fps, 2 * width, height
            )
        pairs = np.concatenate([source.frames[:count], frames[:count]], axis=2)
        self._side_by_side.write(pairs, first_pts)

    def _evaluated(
        self,
        source: npt.NDArray[np.uint8],
        frames: npt.NDArray[np.uint8],
        trace: SegmentTrace,
        first_pts: int,
    ) -> EvaluationRecord:
        """PSNR and faces against the source, beside the hold-the-keyframe baseline on the same
        frames and the double images between keyframes (this segment's and the previous
        segment's last, which the first frames are generated from)."""
        decoded = trace.record(DecodeRecord)
        keyframes = [
            pair
            for pair in (() if decoded is None else decoded.keyframes)
            if pair[1].shape == frames.shape[1:]
        ]
        hold_psnr = psnr_db(source, held_keyframes(keyframes, len(frames))) if keyframes else None
        previous = self._last_keyframe
        bracketing = (
            keyframes if previous is None else [(previous[0] - first_pts, previous[1]), *keyframes]
        )
        ghosts, looked_at = ghosting(frames, bracketing)
        if keyframes:
            index, image = max(keyframes, key=lambda pair: pair[0])
            self._last_keyframe = (first_pts + index, image)
        return EvaluationRecord(
            psnr_db(source, frames),
            faces_found(source, frames),
            hold_psnr_db=hold_psnr,
            ghost_pixels=ghosts,
            ghost_looked_at=looked_at,
        )

    async def consume(self, segment: GeneratedSegment, trace: SegmentTrace) -> None:
        await asyncio.to_thread(self._write, segment, trace)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            writers, self._generated, self._side_by_side = (
                (self._generated, self._side_by_side),
                None,
                None,
            )
            errors = []
            for writer in writers:
                if writer is not None:
                    try:
                        writer.close()
                    except OSError as error:  # keep closing the other file
                        errors.append(error)
            if errors:
                raise errors[0]
        self._generated = self._side_by_side = None
