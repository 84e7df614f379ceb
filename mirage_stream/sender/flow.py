"""Dense optical flow of a segment (Farneback), split into camera and subject motion; and the
mouth's motion against its face."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.sender.colours import strong_colour
from mirage_stream.sender.detectors import Box
from mirage_stream.types import FrameArray, MotionHints

# Flow is measured at this width: enough for global motion, cheap on two cores.
_FLOW_WIDTH = 160


_FLOW_PAIRS = 6
_MIN_BACKGROUND = 0.15  # of the frame: less than this outside objects is no background to fit


def _gray_small(frame: FrameArray) -> npt.NDArray[np.uint8]:
    scale = _FLOW_WIDTH / frame.shape[1]
    size = (_FLOW_WIDTH, max(8, round(frame.shape[0] * scale)))
    gray = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
    return np.asarray(gray, dtype=np.uint8)


@dataclass(frozen=True)
class FlowPair:
    """Global motion of one frame pair (camera) and what moves against it (subjects)."""

    dx: float
    dy: float
    zoom: float
    activity: float  # mean residual flow magnitude
    subject_dx: float  # mean residual flow over the moving mask
    subject_dy: float
    subject_share: float  # fraction of the frame in the moving mask
    moving_objects: int  # connected moving regions of at least 1% of the frame
    subject_x: float = 0.5  # centre of the moving mask, fractions of width and height
    subject_y: float = 0.5
    start: int = 0  # index of the pair's first frame
    subject_colour: str = ""  # the strong colour of what moves ("" for none or several)
    background_share: float = 1.0  # of the frame, outside detected objects: the camera fit's
    # The zoom fitted on the left and on the right half alone: a true zoom grows (or shrinks)
    # both; content sliding across one part of the view (a conveyor belt) does not.
    zoom_halves: tuple[float, float] = (0.0, 0.0)


def _pair_starts(count: int, pairs: int, cuts: tuple[int, ...]) -> list[int]:
    """Frame pairs spread over the segment, skipping pairs that straddle a scene cut."""
    if count < 2:
        return []
    wanted = np.linspace(0, count - 2, num=min(pairs, count - 1)).round().astype(int)
    usable = [int(start) for start in wanted if start + 1 not in cuts]
    if not usable:
        usable = [start for start in range(count - 1) if start + 1 not in cuts][:1]
    return sorted(set(usable))


Foreground = Callable[[int], list[tuple[float, float, float, float]]]


def _background(
    foreground: Foreground | None, start: int, height: int, width: int
) -> npt.NDArray[np.bool_]:
    """Pixels outside the objects detected near frame ``start`` (boxes widened by a tenth)."""
    background = np.ones((height, width), dtype=bool)
    for x, y, w, h in foreground(start) if foreground is not None else ():
        left, right = int((x - w / 10) * width), int(np.ceil((x + w * 1.1) * width))
        top, bottom = int((y - h / 10) * height), int(np.ceil((y + h * 1.1) * height))
        background[max(0, top) : bottom, max(0, left) : right] = False
    return background


def measure_flow(
    frames: npt.NDArray[np.uint8],
    pairs: int = _FLOW_PAIRS,
    cuts: tuple[int, ...] = (),
    foreground: Foreground | None = None,
) -> list[FlowPair]:
    """Dense optical flow (Farneback) on ``pairs`` consecutive frame pairs, split into camera
    and subject motion.

    A least-squares fit of u = dx + z (x - cx), v = dy + z (y - cy) gives translation and zoom
    per frame, over the background only when ``foreground`` gives the boxes (fractions of the
    frame) of objects detected near a frame: people walking towards a fixed camera then do not
    read as a zoom. What the fit leaves is local motion. Pixels whose residual exceeds both 1 pixel
    and three times the median residual form the moving mask. Values are per frame at the
    frames' own resolution.
    """
    scale = frames.shape[2] / _FLOW_WIDTH
    estimates = []
    for start in _pair_starts(frames.shape[0], pairs, cuts):
        before, after = _gray_small(frames[start]), _gray_small(frames[start + 1])
        flow = np.asarray(
            cv2.calcOpticalFlowFarneback(before, after, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]
        )
        height, width = before.shape
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        xc, yc = xs - (width - 1) / 2, ys - (height - 1) / 2
        u, v = flow[..., 0], flow[..., 1]
        background = _background(foreground, start, height, width)
        background_share = float(background.mean())
        if background_share < _MIN_BACKGROUND:  # objects fill the view: fit on all of it
            background[:] = True
        bu, bv, bx, by = u[background], v[background], xc[background], yc[background]
        dx, dy = float(np.median(bu)), float(np.median(bv))
        radial = float(np.sum(bx * bx + by * by))
        zoom = float(np.sum(bx * (bu - dx) + by * (bv - dy)) / radial)
        halves = []
        for side in (bx < 0, bx >= 0):
            spread = float(np.sum(bx[side] ** 2 + by[side] ** 2))
            fit = np.sum(bx[side] * (bu[side] - dx) + by[side] * (bv[side] - dy))
            halves.append(float(fit / spread) if spread else 0.0)
        ru, rv = u - dx - zoom * xc, v - dy - zoom * yc
        residual = np.hypot(ru, rv)
        moving = residual > max(1.0 / scale, 3.0 * float(np.median(residual)))
        share = float(moving.mean())
        count, _, stats, _ = cv2.connectedComponentsWithStats(
            moving.astype(np.uint8), connectivity=8
        )
        regions = int(np.sum(stats[1:count, cv2.CC_STAT_AREA] >= 0.01 * moving.size))
        rows, cols = np.nonzero(moving)
        colour_frame = cv2.resize(frames[start + 1], (width, height), interpolation=cv2.INTER_AREA)
        estimates.append(
            FlowPair(
                dx=dx * scale,
                dy=dy * scale,
                zoom=zoom,
                activity=float(residual.mean()) * scale,
                subject_dx=float(ru[moving].mean()) * scale if share else 0.0,
                subject_dy=float(rv[moving].mean()) * scale if share else 0.0,
                subject_share=share,
                moving_objects=regions,
                subject_x=float(cols.mean() / width) if share else 0.5,
                subject_y=float(rows.mean() / height) if share else 0.5,
                start=start,
                subject_colour=(
                    strong_colour(np.asarray(colour_frame)[moving], frames[start + 1])
                    if share
                    else ""
                ),
                background_share=background_share,
                zoom_halves=(halves[0], halves[1]),
            )
        )
    return estimates


def camera_motion(estimates: list[FlowPair]) -> MotionHints:
    """The median of per-pair camera motion: robust to one pair spoiled by a flash or a cut."""
    if not estimates:
        return MotionHints()
    values = np.median([[e.dx, e.dy, e.zoom, e.activity] for e in estimates], axis=0)
    return MotionHints(
        dx=float(values[0]), dy=float(values[1]), zoom=float(values[2]), activity=float(values[3])
    )


def camera_shake(estimates: list[FlowPair]) -> float:
    """Spread (RMS about the median) of the per-pair camera translation: a shaking camera moves
    back and forth, a panning one steadily."""
    if len(estimates) < 3:
        return 0.0
    moves = np.array([[e.dx, e.dy] for e in estimates])
    spread = moves - np.median(moves, axis=0)
    return float(np.sqrt(np.mean(np.sum(spread * spread, axis=1))))


def mouth_motion(before: FrameArray, after: FrameArray, face: Box) -> tuple[float, float]:
    """Residual flow in the mouth region and in the eye region of ``face`` (pixels).

    The face's own motion (its median flow) is removed first, so a head that moves or a camera
    that pans leaves both near zero; a talking mouth moves against the rest of the face.
    """
    crop = (slice(face.y, face.y + face.height), slice(face.x, face.x + face.width))
    a = cv2.cvtColor(np.ascontiguousarray(before[crop]), cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(np.ascontiguousarray(after[crop]), cv2.COLOR_RGB2GRAY)
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 2, 9, 3, 5, 1.1, 0)  # type: ignore[call-overload]
    flow = np.asarray(flow) - np.median(np.asarray(flow).reshape(-1, 2), axis=0)
    residual = np.hypot(flow[..., 0], flow[..., 1])
    h, w = residual.shape
    mouth = residual[int(0.68 * h) : int(0.95 * h), int(0.25 * w) : int(0.75 * w)]
    eyes = residual[int(0.2 * h) : int(0.5 * h), int(0.15 * w) : int(0.85 * w)]
    return float(mouth.mean()), float(eyes.mean())


def _majority(values: list[str]) -> str:
    """The value more than half of ``values`` share, else ""."""
    for value in set(values):
        if value and values.count(value) * 2 > len(values):
            return value
    return ""


def subject_motion(flow: list[FlowPair]) -> tuple[float, float, float, int, float, float]:
    """Median subject motion over the frame pairs: (dx, dy, share of the frame, regions,
    centre x, centre y)."""
    if not flow:
        return 0.0, 0.0, 0.0, 0, 0.5, 0.5
    share = float(np.median([pair.subject_share for pair in flow]))
    regions = int(np.median([pair.moving_objects for pair in flow]))
    dx = float(np.median([pair.subject_dx for pair in flow]))
    dy = float(np.median([pair.subject_dy for pair in flow]))
    x = float(np.median([pair.subject_x for pair in flow]))
    y = float(np.median([pair.subject_y for pair in flow]))
    return dx, dy, share, regions, x, y


def majority_colour(flow: list[FlowPair]) -> str:
    """The moving subject's colour most frame pairs agree on (more than half), else ""."""
    return _majority([pair.subject_colour for pair in flow])
