"""Video file source: decodes any container PyAV reads and brings frames to the working size."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from mirage_stream.errors import InputError
from mirage_stream.options import WORKING_HEIGHT, WORKING_WIDTH
from mirage_stream.sources.worker_owned import ClosedError, WorkerOwned
from mirage_stream.types import DetailFrame, FrameArray, VideoSegment

log = logging.getLogger(__name__)

_CAMERA_FORMATS = {"linux": "v4l2", "darwin": "avfoundation", "win32": "dshow"}


def camera_format(platform: str) -> str:
    """PyAV's capture format for a native camera on ``platform`` (``sys.platform``)."""
    for prefix, input_format in _CAMERA_FORMATS.items():
        if platform.startswith(prefix):
            return input_format
    raise InputError(
        f"--camera: no native camera input for platform {platform!r}; "
        "use --camera browser (the camera page) instead"
    )


_FALLBACK_FPS = 25.0


@dataclass(frozen=True)
class SourceConfig:
    """Working resolution and how much of the input to read."""

    width: int = WORKING_WIDTH
    height: int = WORKING_HEIGHT
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        for what, side in (("width", self.width), ("height", self.height)):
            if not 16 <= side <= 4096 or side % 2:
                raise InputError(f"{what} must be an even number in [16, 4096], got {side}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise InputError(f"max_seconds must be positive, got {self.max_seconds}")


_DETAIL_FRAMES = 4  # source-resolution frames kept per segment for the people detectors
_DETAIL_MAX_WIDTH = 1280  # larger sources are brought down to this (cost of the detectors)


def crop_to_aspect(frame: FrameArray, width: int, height: int) -> FrameArray:
    """The centred part of ``frame`` with the aspect ratio of ``width`` x ``height``."""
    src_h, src_w = frame.shape[:2]
    target_aspect = width / height
    if src_w / src_h > target_aspect:
        crop_w = max(1, round(src_h * target_aspect))
        x0 = (src_w - crop_w) // 2
        frame = frame[:, x0 : x0 + crop_w]
    else:
        crop_h = max(1, round(src_w / target_aspect))
        y0 = (src_h - crop_h) // 2
        frame = frame[y0 : y0 + crop_h]
    return frame


def fit_frame(frame: FrameArray, width: int, height: int) -> FrameArray:
    """Centre-crop ``frame`` to the target aspect ratio, then resize to ``width`` x ``height``.

    Cropping rather than stretching keeps shapes (faces, wheels) undistorted for the captioner.
    """
    frame = crop_to_aspect(frame, width, height)
    if frame.shape[1] == width and frame.shape[0] == height:
        return np.ascontiguousarray(frame)
    shrinking = frame.shape[1] > width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(frame, (width, height), interpolation=interpolation), np.uint8)


def detail_indices(count: int) -> list[int]:
    """Which of a segment's ``count`` frames are kept at source resolution."""
    return [int(i) for i in np.unique(np.linspace(0, count - 1, _DETAIL_FRAMES).round())]


def detail_frame(index: int, crop: FrameArray) -> DetailFrame:
    """One source-resolution frame for the people detectors, capped at 1280 wide."""
    if crop.shape[1] > _DETAIL_MAX_WIDTH:
        size = (_DETAIL_MAX_WIDTH, round(crop.shape[0] * _DETAIL_MAX_WIDTH / crop.shape[1]))
        crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), np.uint8)
    return DetailFrame(index, np.ascontiguousarray(crop))


def detail_frames(crops: list[FrameArray], working_width: int) -> tuple[DetailFrame, ...]:
    """A few evenly spaced frames at source resolution, when it has more pixels than the
    working size."""
    if not crops or crops[0].shape[1] <= working_width:
        return ()
    return tuple(detail_frame(index, crops[index]) for index in detail_indices(len(crops)))


@dataclass
class _Decoding:
    """An open container and the frame generator decoding it: native state that only the
    thread reading frames may touch (see ``WorkerOwned``)."""

    container: av.container.InputContainer
    frames: Generator[FrameArray, None, None]

    def close(self) -> None:
        self.frames.close()  # leaves PyAV's decode loop before its container goes
        self.container.close()


class FileSource:
    """Frames of one video file at the working resolution, segment by segment.

    Frames are read on whichever thread calls (``segments`` uses worker threads); ``close`` may
    come from any thread at any time and frees the container only once no read is in progress.
    """

    def __init__(
        self,
        path: Path,
        config: SourceConfig | None = None,
        input_format: str | None = None,
        options: dict[str, str] | None = None,
    ) -> None:
        self.path = path
        self.config = config or SourceConfig()
        self.read_cpu_ms = 0.0  # CPU spent decoding and fitting frames, by whichever thread
        try:
            container = av.open(str(path), format=input_format, options=options or {})
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as error:
            what = "camera" if input_format else "video PyAV can read"
            raise InputError(f"{path} is not a {what} ({error})") from None
        if not container.streams.video:
            container.close()
            raise InputError(f"{path} has no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if rate is None or float(rate) <= 0:
            log.warning("%s states no frame rate; assuming %.0f fps", path, _FALLBACK_FPS)
            self.fps = _FALLBACK_FPS
        else:
            self.fps = float(rate)
        self.source_size = (stream.codec_context.width, stream.codec_context.height)
        stream.thread_type = "AUTO"
        self._decoding = WorkerOwned(_Decoding(container, self._decode(container)), _Decoding.close)

    @classmethod
    def camera(
        cls, device: str, config: SourceConfig | None = None, platform: str = sys.platform
    ) -> FileSource:
        """A native camera through PyAV, read with the platform's capture format (v4l2 on
        Linux, avfoundation on macOS, dshow on Windows); frames arrive at the camera's pace."""
        input_format = camera_format(platform)
        if input_format == "v4l2" and not Path(device).exists():
            raise InputError(f"--camera: no device at {device}")
        if input_format not in av.formats_available:
            raise InputError(
                f"--camera: this PyAV build has no {input_format} input; "
                "use --camera browser (the camera page) instead"
            )
        name = device
        if input_format == "dshow" and not device.startswith("video="):
            name = f"video={device}"
        try:
            return cls(Path(name), config, input_format=input_format, options={"framerate": "25"})
        except InputError as error:
            if "busy" in str(error).lower():
                raise InputError(
                    f"--camera: {device} is busy (another program is using it)"
                ) from None
            raise

    def _decode(self, container: av.container.InputContainer) -> Generator[FrameArray, None, None]:
        limit = (
            None if self.config.max_seconds is None else round(self.config.max_seconds * self.fps)
        )
        produced = 0
        try:
            for frame in container.decode(video=0):
                if limit is not None and produced >= limit:
                    return
                rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                yield crop_to_aspect(rgb, self.config.width, self.config.height)
                produced += 1
        except av.error.FFmpegError as error:
            # A damaged tail should not lose the frames decoded so far.
            log.warning("%s: decoding stopped after %d frames (%s)", self.path, produced, error)

    def _read_crops(self, count: int) -> list[FrameArray]:
        """Up to ``count`` next frames, cropped; none once the source is closed."""
        crops: list[FrameArray] = []
        try:
            with self._decoding.use() as decoding:
                for crop in decoding.frames:
                    crops.append(crop)
                    if len(crops) == count:
                        break
        except ClosedError:
            return []
        return crops

    def _fit(self, crop: FrameArray) -> FrameArray:
        return fit_frame(crop, self.config.width, self.config.height)

    def read_frames(self, count: int) -> list[FrameArray]:
        """Up to ``count`` next frames at the working size (fewer at the end of the file)."""
        return [self._fit(crop) for crop in self._read_crops(count)]

    def _detail(self, crops: list[FrameArray]) -> tuple[DetailFrame, ...]:
        return detail_frames(crops, self.config.width)

    def close(self) -> None:
        """Free the container: now, or when the read in progress on another thread ends."""
        self._decoding.close()

    def _frames_per_segment(self, segment_s: float) -> int:
        if not segment_s > 0:
            raise InputError(f"segment length must be positive, got {segment_s}")
        return max(1, round(segment_s * self.fps))

    def _next_segment(self, index: int, frames_per_segment: int) -> VideoSegment | None:
        cpu_start = time.thread_time()
        try:
            return self._decode_segment(index, frames_per_segment)
        finally:
            self.read_cpu_ms += (time.thread_time() - cpu_start) * 1000.0

    def _decode_segment(self, index: int, frames_per_segment: int) -> VideoSegment | None:
        crops = self._read_crops(frames_per_segment)
        if not crops:
            if index == 0 and not self._decoding.closed:
                raise InputError(f"{self.path} holds no decodable video frames")
            return None
        return VideoSegment(
            index=index,
            frames=np.stack([self._fit(crop) for crop in crops]),
            fps=self.fps,
            t0=index * frames_per_segment / self.fps,
            detail=self._detail(crops),
        )

    def iter_segments(self, segment_s: float) -> Iterator[VideoSegment]:
        """Segments of ``segment_s`` seconds, decoded on the caller's thread (benches)."""
        frames_per_segment = self._frames_per_segment(segment_s)
        index = 0
        while (segment := self._next_segment(index, frames_per_segment)) is not None:
            yield segment
            index += 1

    async def segments(self, segment_s: float) -> AsyncIterator[VideoSegment]:
        """Cut the file into segments of ``segment_s`` seconds; decoding runs off the event loop."""
        frames_per_segment = self._frames_per_segment(segment_s)
        index = 0
        try:
            while True:
                segment = await asyncio.to_thread(self._next_segment, index, frames_per_segment)
                if segment is None:
                    break
                yield segment
                index += 1
        finally:
            self.close()
