"""The offline generator's in-betweens: a flow-guided morph between two pictures that slides
what the flow follows and cuts where it does not, so two pictures that disagree are never
shown blended (no double images)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.types import FrameArray


def _flow(a: FrameArray, b: FrameArray) -> npt.NDArray[np.float32]:
    """Dense flow from a to b (DIS, medium preset): where each pixel of a went in b."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    gray_a = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    gray_b = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    return np.asarray(dis.calc(gray_a, gray_b, None), dtype=np.float32)


def pull(image: FrameArray, flow: npt.NDArray[np.float32], amount: float) -> FrameArray:
    """Backward-warp ``image`` by ``amount`` of ``flow`` (sampled at the target pixel)."""
    height, width = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.asarray(
        cv2.remap(
            image,
            xs - amount * flow[..., 0],
            ys - amount * flow[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        ),
        dtype=np.uint8,
    )


def _trusted_flow(
    flow: npt.NDArray[np.float32], reverse: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """``flow`` where it is trustworthy, fading to 0 (hold still) where it is not.

    The forward-backward check of Sundaram, Brox and Keutzer (ECCV 2010): following the flow
    and then the reverse flow from where it lands should come back, |w + w_r(x + w)|^2 <
    0.01 (|w|^2 + |w_r(x + w)|^2) + 0.5. Where it does not (occlusions, flow that lost
    the object) a warp would drag pixels into a smear."""
    height, width = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    landed = np.asarray(
        cv2.remap(
            reverse,
            np.asarray(xs + flow[..., 0], np.float32),
            np.asarray(ys + flow[..., 1], np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        ),
        np.float32,
    )
    round_trip = np.sum((flow + landed) ** 2, axis=2)
    bound = 0.01 * (np.sum(flow**2, axis=2) + np.sum(landed**2, axis=2)) + 0.5
    trusted = cv2.GaussianBlur((round_trip < bound).astype(np.float32), (0, 0), 2.0)
    return np.asarray(flow * trusted[..., None], np.float32)


# Grey levels between the two warped keyframes at which a pixel stops being a blend of both and
# shows the nearer one alone: below AGREE they show the same thing (blending it is smooth), at
# DISAGREE they clearly do not (blending it would be a double image). Round values, chosen
# before any clip was looked at; DISAGREE is metrics.ghosting's threshold.
AGREE_GREY = 12.0
DISAGREE_GREY = 24.0
# A disagreeing area is taken whole from one picture, grown by this share of the width (so a
# face is one face, not a patchwork of two).
DISAGREEMENT_GROWTH = 0.04
# When, half-way, the warped keyframes still disagree over more than this share of the
# pixels where the keyframes differ, the flow did not explain the change: cut at the midpoint.
UNEXPLAINED_SHARE = 1 / 3


def _grey(image: FrameArray) -> npt.NDArray[np.float32]:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), np.float32)


def _disagreement(a: FrameArray, b: FrameArray) -> npt.NDArray[np.float32]:
    """0 where a and b show the same thing, 1 where they clearly do not, the areas grown."""
    difference = cv2.GaussianBlur(np.abs(_grey(a) - _grey(b)), (0, 0), 1.5)
    apart = np.clip((difference - AGREE_GREY) / (DISAGREE_GREY - AGREE_GREY), 0.0, 1.0)
    side = max(3, int(DISAGREEMENT_GROWTH * a.shape[1]) | 1)
    grown = cv2.dilate(apart, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    return np.asarray(cv2.GaussianBlur(grown, (0, 0), side / 4), np.float32)


def blend_without_ghosts(a: FrameArray, b: FrameArray, weight_b: float) -> FrameArray:
    """``a`` and ``b`` mixed by ``weight_b`` where they agree, and the nearer one alone (b
    above ``weight_b`` 0.5) where they disagree: two pictures that differ are cut between,
    never cross-faded into a double image."""
    apart = _disagreement(a, b)
    nearer = 1.0 if weight_b > 0.5 else 0.0  # a tie goes to a, as the hold baseline does
    weight = ((1.0 - apart) * weight_b + apart * nearer)[..., None]
    mixed = a.astype(np.float32) * (1.0 - weight) + b.astype(np.float32) * weight
    return np.asarray(np.clip(mixed + 0.5, 0, 255), np.uint8)


def _flow_explains(
    a: FrameArray,
    b: FrameArray,
    forward: npt.NDArray[np.float32],
    backward: npt.NDArray[np.float32],
) -> bool:
    """Whether the trusted flow accounts for what changed from a to b: half-way, the two
    warped keyframes agree over most of the pixels where the keyframes differ."""
    changed = np.abs(_grey(a) - _grey(b)) >= DISAGREE_GREY
    if not changed.any():
        return True
    half_a, half_b = pull(a, forward, 0.5), pull(b, backward, 0.5)
    still_apart = np.abs(_grey(half_a) - _grey(half_b)) >= DISAGREE_GREY
    return float(np.count_nonzero(still_apart & changed)) <= UNEXPLAINED_SHARE * float(
        np.count_nonzero(changed)
    )


def explained_flows(
    a: FrameArray, b: FrameArray
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None:
    """The trusted flows a->b and b->a, or None when they explain too little of the change
    (``_flow_explains``): then a and b are two different pictures to cut between."""
    raw_forward, raw_backward = _flow(a, b), _flow(b, a)
    forward = _trusted_flow(raw_forward, raw_backward)
    backward = _trusted_flow(raw_backward, raw_forward)
    return (forward, backward) if _flow_explains(a, b, forward, backward) else None


def morph(
    a: FrameArray, b: FrameArray, steps: int, progress: Sequence[float] | None = None
) -> list[FrameArray]:
    """``steps`` in-between frames from a to b, flow-guided: a pushed forward along a->b and b
    pulled back along b->a (only where the flow passes the forward-backward check), mixed
    where the two agree and cut where they do not, so moving things slide instead of fading
    and what the flow could not follow never shows twice. When the flow explains too little
    of the change, the whole picture cuts. ``progress``: how far from a to b each step is, in
    [0, 1] (the sender's keyframe timing); evenly spaced when not given, so a cut falls at the
    midpoint."""
    if steps <= 0:
        return []
    shares = [s / (steps + 1) for s in range(1, steps + 1)] if progress is None else progress
    if len(shares) != steps:
        raise ValueError(f"{len(shares)} progress values for {steps} steps")
    flows = explained_flows(a, b)
    if flows is None:
        return [a if share <= 0.5 else b for share in shares]
    return slide(a, b, shares, *flows)


def slide(
    a: FrameArray,
    b: FrameArray,
    shares: Sequence[float],
    forward: npt.NDArray[np.float32],
    backward: npt.NDArray[np.float32],
) -> list[FrameArray]:
    frames = []
    for share in shares:
        from_a = pull(a, forward, share)
        from_b = pull(b, backward, 1.0 - share)
        frames.append(blend_without_ghosts(from_a, from_b, share))
    return frames
