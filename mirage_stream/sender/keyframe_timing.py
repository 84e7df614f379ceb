"""Keyframe timing: when, between two keyframes, the picture changes from one to the other.

The receiver sees only the keyframes, so it has to guess how the frames between them go from
the first to the second; a guess of "evenly" (a linear morph) or "half-way" (a cut at the
midpoint) is wrong whenever the change happens early or late (a speaker who turns at the end
of the gap), and then it is worse than holding a keyframe. The sender has every frame, so it
says when: for the frames f_t strictly between keyframes A and B, the least-squares share of
the way from A to B,

    p(t) = <f_t - A, B - A> / |B - A|^2, clipped to [0, 1],

on small grey versions of the frames (the shape of the change, not its detail), read at
``TIMING_POINTS`` evenly spaced times and sent in ``TIMING_LEVELS`` steps: 7 values of 4 bits,
a few bytes per keyframe pair.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.timing import TIMING_LEVELS, TIMING_POINTS, KeyframeTiming
from mirage_stream.types import FrameArray

_SIZE = (64, 48)  # the small grey frames p(t) is measured on
# Keyframes closer than this (mean squared grey difference) show the same picture: nothing to
# time, and p(t) would be noise.
_SAME_PICTURE_MSE = 4.0


def _small(frame: FrameArray) -> npt.NDArray[np.float64]:
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.resize(grey, _SIZE, interpolation=cv2.INTER_AREA), np.float64)


def change_progress(
    frames: Sequence[FrameArray] | npt.NDArray[np.uint8], start: int, end: int
) -> list[float] | None:
    """p(t) for every frame from ``start`` to ``end`` (both included: 0 and 1), or None when
    the two keyframes show the same picture."""
    first, last = _small(frames[start]), _small(frames[end])
    direction = last - first
    energy = float(np.sum(direction**2))
    if energy / direction.size < _SAME_PICTURE_MSE:
        return None
    shares = [
        float(np.clip(np.sum((_small(frames[t]) - first) * direction) / energy, 0.0, 1.0))
        for t in range(start + 1, end)
    ]
    return [0.0, *shares, 1.0]


def keyframe_timing(
    frames: Sequence[FrameArray] | npt.NDArray[np.uint8], indices: Sequence[int]
) -> tuple[KeyframeTiming, ...]:
    """The timing of each consecutive pair of keyframes (frame ``indices`` of ``frames``) with
    frames between them and a change to time, quantised as it travels."""
    timings = []
    ordered = sorted(set(indices))
    for start, end in itertools.pairwise(ordered):
        if end - start < 2:
            continue
        progress = change_progress(frames, start, end)
        if progress is None:
            continue
        times = np.arange(start, end + 1)
        points = start + (end - start) * np.arange(1, TIMING_POINTS + 1) / (TIMING_POINTS + 1)
        sampled = np.interp(points, times, progress)
        quantised = tuple(round(float(share) * TIMING_LEVELS) / TIMING_LEVELS for share in sampled)
        timings.append(KeyframeTiming(start, end, quantised))
    return tuple(timings)
