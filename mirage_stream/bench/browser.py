"""A real browser for the call bench and the browser tests: Debian's chromium, headless, driven by
Playwright (never its own browser download), with a fake camera that plays a Y4M file made from
any video PyAV reads.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import av
import numpy as np

from mirage_stream.errors import InputError
from mirage_stream.sources.samples import resolve_input

MAX_CAMERA_SECONDS = 20.0  # the browser loops the file; longer clips only cost disk


def find_chromium() -> str:
    """The chromium executable, or a clear error saying how to get one."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path is not None:
            return path
    raise InputError(
        "no chromium found: install Debian's (apt-get install chromium) or put one on PATH"
    )


def write_fake_camera(
    spec: str, path: Path, seconds: float = MAX_CAMERA_SECONDS
) -> tuple[int, int]:
    """Write the first ``seconds`` of a video (a path or sample:NAME) as a Y4M file that
    chromium plays as its camera (yuv420p at the video's own rate and even size). PyAV's own
    yuv4mpegpipe muxer refuses raw frames, so the header and frames are written here."""
    source = resolve_input(spec)
    try:
        container = av.open(str(source))
    except (av.error.FFmpegError, OSError) as error:
        raise InputError(f"{source} is not a video PyAV can read ({error})") from None
    with container:
        if not container.streams.video:
            raise InputError(f"{source} has no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = round(float(rate)) if rate else 25
        width = stream.codec_context.width // 2 * 2
        height = stream.codec_context.height // 2 * 2
        written = 0
        with path.open("wb") as out:
            out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
            for frame in container.decode(video=0):
                if written >= seconds * fps:
                    break
                rgb = np.ascontiguousarray(
                    frame.to_ndarray(format="rgb24")[:height, :width], dtype=np.uint8
                )
                yuv = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
                out.write(b"FRAME\n")
                out.write(yuv.to_ndarray().tobytes())
                written += 1
    if written == 0:
        raise InputError(f"{source} holds no decodable video frames")
    return width, height


def camera_args(y4m: Path | None) -> list[str]:
    """Chromium flags: headless-friendly, and the Y4M as the camera (none: camera denied)."""
    args = ["--no-sandbox", "--disable-features=WebRtcHideLocalIpsWithMdns"]
    if y4m is not None:
        args += [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}",
        ]
    return args


async def launch(playwright: Any, y4m: Path | None) -> Any:
    """A headless chromium whose camera plays ``y4m``."""
    return await playwright.chromium.launch(executable_path=find_chromium(), args=camera_args(y4m))


def _children(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for child in parents.get(current, []):
            found.append(child)
            todo.append(child)
    return found


def descendants_cpu_s() -> float | None:
    """CPU seconds used so far by this process's descendants still running (the browser and
    its renderers); None where /proc is not there to read."""
    if not Path("/proc/self/stat").exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _children(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks
