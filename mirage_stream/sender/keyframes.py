"""Keyframe selection (eq. 4): score candidate frames, pick a diverse few, or none at all.

Score(m_t, u_S) = w_sharp s_t + w_exp e_t + w_face f_t + w_rep r_t + w_nov n_t (+ w_rel c_t),
with every term in [0, 1]: s sharpness relative to the segment's sharpest candidate, e exposure,
f the size of the largest visible face, r how representative the frame is of the segment (its
thumbnail near the segment's mean), n novelty against the last keyframe sent, c an optional
caption relevance (CLIP). Frames are chosen greedily, each pick's score reduced by its
similarity to frames already chosen (diversity). When the whole segment still looks like the
last keyframe sent and has no cut, no keyframe is sent: the receiver reuses the one it has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mirage_stream.sender.analysis import SegmentAnalysis
from mirage_stream.sender.faces_seen import FrameFeatures
from mirage_stream.sender.shots import shot_spans
from mirage_stream.types import FrameArray, Keyframe, VideoSegment

# Scores each frame's relevance to the caption in [0, 1] (for example CLIP similarity).
RelevanceScorer = Callable[[Sequence[FrameArray], str], Sequence[float]]


@dataclass(frozen=True)
class ScoreWeights:
    sharpness: float = 1.0
    exposure: float = 0.5
    face: float = 1.0
    representative: float = 1.0
    novelty: float = 0.5
    relevance: float = 1.0
    diversity: float = 1.5  # penalty per unit similarity to an already chosen keyframe


@dataclass(frozen=True)
class KeyframeChoice:
    """The keyframes to send, or none with the reason the receiver can do without."""

    keyframes: tuple[Keyframe, ...]
    skipped_reason: str = ""


class KeyframeSelector(Protocol):
    @property
    def name(self) -> str: ...

    def select(
        self, segment: VideoSegment, analysis: SegmentAnalysis, max_keyframes: int, caption: str
    ) -> KeyframeChoice: ...

    def forget_last_sent(self) -> None: ...

    @property
    def last_sent(self) -> npt.NDArray[np.float32] | None: ...


def thumbnail_distance(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """RMS difference of two Lab thumbnails, in 8-bit Lab units."""
    return float(np.sqrt(np.mean((a - b) ** 2)))


def _similarity(distance: float, scale: float) -> float:
    return float(np.exp(-distance / scale))


@dataclass
class ScoredKeyframeSelector:
    """Eq. 4 with the features of ``SegmentAnalysis``; remembers the last keyframe it sent.

    ``unchanged_distance`` (Lab RMS) decides that a segment looks like the last keyframe sent:
    sensor noise and small head motion stay under it, a pan of a few pixels per frame over a
    segment does not. At most ``max_reuse`` segments in a row go without a keyframe, so a
    receiver that lost one recovers.
    """

    weights: ScoreWeights = field(default_factory=ScoreWeights)
    unchanged_distance: float = 6.0
    similarity_scale: float = 10.0
    max_reuse: int = 4
    relevance: RelevanceScorer | None = None
    name: str = "scored"
    _last_sent: npt.NDArray[np.float32] | None = field(default=None, init=False)
    _reused_in_row: int = field(default=0, init=False)

    @property
    def last_sent(self) -> npt.NDArray[np.float32] | None:
        """Thumbnail of the last keyframe sent (what the receiver would reuse)."""
        return self._last_sent

    def forget_last_sent(self) -> None:
        """Send a keyframe next time (the receiver reported the last one damaged or missing)."""
        self._last_sent = None

    def scores(self, analysis: SegmentAnalysis, caption: str, segment: VideoSegment) -> list[float]:
        """The eq. 4 score of each candidate frame, before diversity."""
        candidates = analysis.candidates
        w = self.weights
        sharpest = max(max(c.sharpness for c in candidates), 1e-6)
        relevance = (
            list(self.relevance([segment.frames[c.index] for c in candidates], caption))
            if self.relevance is not None
            else [0.0] * len(candidates)
        )
        scores = []
        for candidate, relevant in zip(candidates, relevance, strict=True):
            face = max((box.width / segment.width for box in candidate.faces), default=0.0)
            representative = _similarity(
                thumbnail_distance(candidate.thumbnail, analysis.mean_thumbnail),
                self.similarity_scale,
            )
            novelty = (
                1.0
                - _similarity(
                    thumbnail_distance(candidate.thumbnail, self._last_sent), self.similarity_scale
                )
                if self._last_sent is not None
                else 0.0
            )
            scores.append(
                w.sharpness * candidate.sharpness / sharpest
                + w.exposure * candidate.exposure
                + w.face * min(1.0, face / 0.3)
                + w.representative * representative
                + w.novelty * novelty
                + w.relevance * float(relevant)
            )
        return scores

    def _unchanged(self, analysis: SegmentAnalysis) -> bool:
        if self._last_sent is None or analysis.cut_frames:
            return False
        if self._reused_in_row >= self.max_reuse:
            return False
        farthest = max(
            thumbnail_distance(c.thumbnail, self._last_sent) for c in analysis.candidates
        )
        return farthest < self.unchanged_distance

    def select(
        self, segment: VideoSegment, analysis: SegmentAnalysis, max_keyframes: int, caption: str
    ) -> KeyframeChoice:
        if max_keyframes <= 0:
            self._reused_in_row += 1
            return KeyframeChoice((), "no keyframe fits the budget")
        if self._unchanged(analysis):
            self._reused_in_row += 1
            return KeyframeChoice((), "scene unchanged since the last keyframe sent")
        base = self.scores(analysis, caption, segment)
        remaining = list(zip(analysis.candidates, base, strict=True))
        chosen = _one_per_shot(remaining, analysis.cut_frames, segment.num_frames, max_keyframes)
        remaining = [item for item in remaining if item not in chosen]
        while remaining and len(chosen) < max_keyframes:

            def penalised(item: tuple[FrameFeatures, float]) -> float:
                closest = max(
                    (
                        _similarity(
                            thumbnail_distance(item[0].thumbnail, c.thumbnail),
                            self.similarity_scale,
                        )
                        for c, _ in chosen
                    ),
                    default=0.0,
                )
                return item[1] - self.weights.diversity * closest

            best = max(remaining, key=penalised)
            if chosen and penalised(best) < 0.5 * chosen[0][1]:
                break  # what is left repeats what is chosen: extra bytes would buy little
            chosen.append((best[0], penalised(best)))
            remaining.remove(best)
        chosen.sort(key=lambda item: item[0].index)
        self._last_sent = chosen[-1][0].thumbnail
        self._reused_in_row = 0
        return KeyframeChoice(
            tuple(
                Keyframe(frame_index=f.index, image=segment.frames[f.index], score=score)
                for f, score in chosen
            )
        )


def _one_per_shot(
    scored: list[tuple[FrameFeatures, float]],
    cuts: tuple[int, ...],
    count: int,
    max_keyframes: int,
) -> list[tuple[FrameFeatures, float]]:
    """The best candidate of each shot, longest shots first, when the segment has cuts: the
    receiver cuts between keyframes where the caption says the shot changes, so a shot
    without a keyframe is generated from another shot's picture. With one keyframe there is
    nothing to share out: the best frame overall wins."""
    if not cuts or max_keyframes < 2:
        return []
    shots = sorted(shot_spans(count, cuts), key=lambda shot: shot[0] - shot[1])
    picks: list[tuple[FrameFeatures, float]] = []
    for start, end in shots[:max_keyframes]:
        inside = [item for item in scored if start <= item[0].index < end]
        if inside:
            picks.append(max(inside, key=lambda item: item[1]))
    return picks
