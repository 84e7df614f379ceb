"""Measurements of a segment that the offline captioner turns into words.

Each function measures one thing with OpenCV and returns numbers, not prose.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.sender.colours import small_hsv, strong_colour
from mirage_stream.types import FrameArray, MotionHints

# Flow is measured at this width: enough for global motion, cheap on two cores.
_FLOW_WIDTH = 160
_FLOW_PAIRS = 6


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels."""

    x: int
    y: int
    width: int
    height: int


T = TypeVar("T")


def _one_per_thread(factory: Callable[[], T]) -> Callable[[], T]:
    """``factory()`` made once per thread. OpenCV's detectors keep scratch state inside the
    object, so one shared by two threads (the sender's analysis and the player's face check
    run at once) corrupts memory and crashes; loading one per thread is cheap."""
    local = threading.local()

    def get() -> T:
        made: T | None = getattr(local, "made", None)
        if made is None:
            made = factory()
            local.made = made
        return made

    return get


@_one_per_thread
def _face_cascade() -> cv2.CascadeClassifier:
    path = str(cv2.data.haarcascades) + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV face cascade missing at {path}")
    return cascade


def detect_faces(frame: FrameArray, work_width: int = 200) -> list[Box]:
    """Frontal faces found by OpenCV's Haar cascade, largest first, in ``frame``'s pixels.

    The cascade runs on a copy ``work_width`` pixels wide (faces under about 30 pixels at
    320x240 are missed): it costs a quarter of the full-size search on two cores.
    """
    scale = min(1.0, work_width / frame.shape[1])
    size = (max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale)))
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA) if scale < 1 else frame
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    min_side = max(20, min(gray.shape) // 10)
    boxes = _face_cascade().detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
    )
    faces = [
        Box(round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        for x, y, w, h in boxes
    ]
    return sorted(faces, key=lambda box: box.width * box.height, reverse=True)


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


def _pair_starts(count: int, pairs: int, cuts: tuple[int, ...]) -> list[int]:
    """Frame pairs spread over the segment, skipping pairs that straddle a scene cut."""
    if count < 2:
        return []
    wanted = np.linspace(0, count - 2, num=min(pairs, count - 1)).round().astype(int)
    usable = [int(start) for start in wanted if start + 1 not in cuts]
    if not usable:
        usable = [start for start in range(count - 1) if start + 1 not in cuts][:1]
    return sorted(set(usable))


def measure_flow(
    frames: npt.NDArray[np.uint8], pairs: int = _FLOW_PAIRS, cuts: tuple[int, ...] = ()
) -> list[FlowPair]:
    """Dense optical flow (Farneback) on ``pairs`` consecutive frame pairs, split into camera
    and subject motion.

    A least-squares fit of u = dx + z (x - cx), v = dy + z (y - cy) gives translation and zoom
    per frame; what the fit leaves is local motion. Pixels whose residual exceeds both 1 pixel
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
        dx, dy = float(np.median(u)), float(np.median(v))
        radial = float(np.sum(xc * xc + yc * yc))
        zoom = float(np.sum(xc * (u - dx) + yc * (v - dy)) / radial)
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


def mean_brightness(frames: npt.NDArray[np.uint8]) -> float:
    """Mean Rec.601 luma over the segment, in [0, 1]."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return float((frames[:, ::4, ::4].astype(np.float32) @ weights).mean() / 255.0)


def sharpness(frame: FrameArray) -> float:
    """Variance of the Laplacian of the grey image: high for crisp frames, low for blurred ones."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


@_one_per_thread
def people_detector() -> cv2.HOGDescriptor:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())  # type: ignore[attr-defined]
    return hog


def scene_cuts(frames: npt.NDArray[np.uint8], threshold: float = 0.35) -> tuple[int, ...]:
    """Indices of frames that start a new shot: the hue-saturation histogram jumps.

    Bhattacharyya distance between consecutive frames' 16x8 HS histograms (at 80x60); within a
    shot it stays below about 0.1 even under fast motion, across a cut it rises above 0.35.
    """
    histograms = []
    for frame in frames:
        small = cv2.resize(frame, (80, 60), interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
        histograms.append(cv2.normalize(hist, hist).flatten())
    return tuple(
        index + 1
        for index in range(len(histograms) - 1)
        if cv2.compareHist(histograms[index], histograms[index + 1], cv2.HISTCMP_BHATTACHARYYA)
        > threshold
    )


def shot_spans(count: int, cuts: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) frame ranges of the shots of a ``count``-frame segment cut at ``cuts``."""
    edges = [0, *sorted(c for c in cuts if 0 < c < count), count]
    return list(itertools.pairwise(edges))


def shot_of(index: int, cuts: Sequence[int]) -> int:
    """Which shot (0 = the first) frame ``index`` belongs to."""
    return sum(index >= cut for cut in cuts)


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


def sky_share(frame: FrameArray) -> float:
    """Share of the top third that looks like sky: blue, or colourless and bright (overcast),
    smooth, and clearly brighter than the lower half (a white wall or table fills both)."""
    hsv = small_hsv(frame).astype(np.int32)
    top = hsv[:20]
    hue, sat, val = top[..., 0], top[..., 1], top[..., 2]
    blue = (hue >= 90) & (hue <= 130) & (sat > 40) & (val > 140)
    overcast = (sat < 30) & (val > 185)
    gray = cv2.cvtColor(
        cv2.resize(frame, (80, 60), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY
    )
    smooth = np.abs(cv2.Laplacian(gray, cv2.CV_32F))[:20] < 6
    sky = (blue | overcast) & smooth
    if not sky.any() or float(val[sky].mean()) - float(hsv[30:, :, 2].mean()) < 40:
        return 0.0
    return float(sky.mean())


def vegetation_share(frame: FrameArray) -> float:
    """Share of the frame in saturated greens (grass, trees)."""
    hsv = small_hsv(frame).astype(np.int32)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return float(((hue >= 30) & (hue <= 85) & (sat > 70) & (val > 50)).mean())


def vivid_share(frame: FrameArray) -> float:
    """Share of strongly saturated, well-lit pixels: high in animation, low in most footage."""
    hsv = small_hsv(frame)
    return float(((hsv[..., 1] > 128) & (hsv[..., 2] > 100)).mean())


def flat_area_noise(frames: npt.NDArray[np.uint8]) -> float:
    """Frame-to-frame grey-level change in the smoothest 30% of the image (median over a few
    pairs): sensor noise and compression grain in camera footage, near zero in renders."""
    values = []
    for start in np.unique(np.linspace(0, frames.shape[0] - 2, num=3).round().astype(int)):
        if start + 1 >= frames.shape[0]:
            break
        a = cv2.cvtColor(frames[start], cv2.COLOR_RGB2GRAY).astype(np.float32)
        b = cv2.cvtColor(frames[start + 1], cv2.COLOR_RGB2GRAY).astype(np.float32)
        gradient = np.hypot(cv2.Sobel(a, cv2.CV_32F, 1, 0), cv2.Sobel(a, cv2.CV_32F, 0, 1))
        smooth = gradient <= np.percentile(gradient, 30)
        # Clipped so that a subject moving through a flat area does not pass for noise.
        values.append(float(np.minimum(np.abs(b - a)[smooth], 8.0).mean()))
    return float(np.median(values)) if values else 0.0


def exposure(frame: FrameArray) -> float:
    """1 for a well-exposed frame, down to 0 for a black or white one: penalises clipped pixels
    and a mean far from mid-grey."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[::2, ::2]
    clipped = float(((gray < 8) | (gray > 247)).mean())
    offset = abs(float(gray.mean()) / 255.0 - 0.5) * 2.0
    return max(0.0, 1.0 - clipped - 0.5 * offset)


def thumbnail(frame: FrameArray) -> npt.NDArray[np.float32]:
    """A 16x12 CIE Lab thumbnail, flattened: frames that look alike are close in it."""
    small = cv2.resize(frame, (16, 12), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2LAB), dtype=np.float32).ravel()
