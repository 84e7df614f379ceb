"""Network personalisation: choose, per segment, what to send so that it fits a latency budget.

For each segment the adapter picks the keyframe codec setting (vq codebook K or ae bits q), the
number of keyframes, the caption granularity and how the keyframes travel (best effort with a
light FEC parity, or on the reliable path with the caption) that minimise the expected
distortion among the options whose time on air stays within the budget at a pessimistic SNR.
Time on air follows channel_sim exactly: the protected part's code plan (CRC, Reed-Solomon,
repetition) with enough tries to cover 99.5% of outcomes, the best-effort part with its FEC
parity, at the eq. 7 rate, plus the per-try overhead.

Expected distortion of a segment (MSE, 8-bit units):
    D = D_codec(setting, p_eff) + D_cover(n) + D_caption(granularity)
D_codec is the calibrated codec model (``mirage_stream.codecs.distortion_model``) at the bit
error rate left after the light FEC; D_cover(n) is how far the segment's frames are from the
nearest of n keyframes (Lab thumbnails; with n = 0 the receiver's last keyframe); D_caption is
the price the sender puts on a less detailed caption. The SNR estimate comes from the
receiver's feedback; the plan uses estimate - z * sigma, sigma the spread of recent SNR
changes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
from scipy import stats

from channel_sim import bit_error_rate, plan_code, shannon_throughput_bps
from mirage_stream.codecs.distortion_model import CodecQuality
from mirage_stream.sender.keyframes import thumbnail_distance
from mirage_stream.sender.snr_tracker import SnrTracker
from mirage_stream.types import ChannelFeedback, Granularity, SegmentPlan

RS_BLOCK = 255
RELIABLE = -1  # in a list of light-FEC parities: the keyframes go on the reliable path instead
# A motion track's protected bytes in the hints: six face landmarks and two hands over six
# samples (``wire.track_bits``) with their msgpack framing.
TRACK_BYTES = 100
_FALLBACK_MSE = 255.0**2 / 4  # a keyframe-less receiver shows grey: about this far from anything


@dataclass(frozen=True)
class LinkModel:
    """The channel as the adapter models it: channel_sim's settings for the link."""

    bandwidth_hz: float = 20e6
    ber_model: str = "mirage"
    per_try_overhead_s: float = 0.0
    max_tries: int = 8
    wire_overhead_bytes: int = 60  # header, hints, framing, keyframe metadata
    tries_quantile: float = 0.995  # tries covered in the time budget


@lru_cache(maxsize=4096)
def _protected_cost(
    block_bytes: int, ber: float, max_tries: int, quantile: float
) -> tuple[int, int]:
    """(bits per try, tries to budget) for the reliable part."""
    plan = plan_code(block_bytes, ber, max_tries)
    failure = plan.try_failure
    tries = 1
    while tries < max_tries and failure**tries > 1.0 - quantile:
        tries += 1
    return plan.channel_bits, tries


def light_fec_residual_ber(ber: float, parity: int) -> float:
    """Bit error rate left after the keyframes' light RS FEC (t = parity / 2 byte errors per
    255-byte block): a block decodes clean unless more than t of its bytes are hit, and a failed
    block passes its bytes through as they arrived."""
    if parity == 0 or ber <= 0:
        return ber
    byte_error = 1.0 - (1.0 - ber) ** 8
    failure = float(stats.binom.sf(parity // 2, RS_BLOCK, byte_error))
    return ber * failure


def coded_best_effort_bytes(data_bytes: int, parity: int) -> int:
    if parity == 0 or data_bytes == 0:
        return data_bytes
    blocks = math.ceil(data_bytes / (RS_BLOCK - parity))
    return data_bytes + blocks * parity


def time_on_air_s(
    link: LinkModel, protected_bytes: int, best_effort_bytes: int, parity: int, snr_db: float
) -> float:
    """Seconds on air for one segment at ``snr_db``, budgeting the tries quantile."""
    ber = bit_error_rate(snr_db, link.ber_model)
    rate = shannon_throughput_bps(link.bandwidth_hz, snr_db)
    return air_time_s(link, protected_bytes, best_effort_bytes, parity, ber, rate)


def air_time_s(
    link: LinkModel,
    protected_bytes: int,
    best_effort_bytes: int,
    parity: int,
    ber: float,
    rate: float,
) -> float:
    # Rounding the BER to 3 significant digits lets one code plan serve nearby SNRs.
    bits_per_try, tries = _protected_cost(
        protected_bytes, float(f"{ber:.3g}"), link.max_tries, link.tries_quantile
    )
    best_effort_bits = 8 * coded_best_effort_bytes(best_effort_bytes, parity)
    return (tries * bits_per_try + best_effort_bits) / rate + tries * link.per_try_overhead_s


def coverage_mse(
    thumbnails: Sequence[np.ndarray], count: int, reference: np.ndarray | None
) -> float:
    """Mean squared Lab distance from each thumbnail to the nearest of ``count`` greedily
    spread keyframes (k-centre); with ``count`` 0, to ``reference`` (the receiver's last one)."""
    if count == 0 and reference is None:
        return _FALLBACK_MSE
    if not thumbnails:
        return 0.0
    if count == 0:
        assert reference is not None
        return float(np.mean([thumbnail_distance(t, reference) ** 2 for t in thumbnails]))
    centre = np.mean(thumbnails, axis=0)
    chosen = [min(thumbnails, key=lambda t: thumbnail_distance(t, centre))]
    while len(chosen) < count:
        chosen.append(max(thumbnails, key=lambda t: min(thumbnail_distance(t, c) for c in chosen)))
    return float(np.mean([min(thumbnail_distance(t, c) for c in chosen) ** 2 for t in thumbnails]))


@dataclass
class AirtimeRateAdapter:
    """Chooses a ``SegmentPlan`` per segment and learns the channel from feedback."""

    qualities: dict[str, CodecQuality]
    budget_s: float
    link: LinkModel = field(default_factory=LinkModel)
    initial_snr_db: float = -10.0
    max_keyframes: int = 2
    fec_parities: tuple[int, ...] = (0, 8, 16, 32)
    caption_bytes: dict[Granularity, int] = field(
        default_factory=lambda: {
            Granularity.SHORT: 60,
            Granularity.NORMAL: 160,
            Granularity.DETAILED: 260,
        }
    )
    caption_mse: dict[Granularity, float] = field(
        default_factory=lambda: {
            Granularity.SHORT: 60.0,
            Granularity.NORMAL: 15.0,
            Granularity.DETAILED: 0.0,
        }
    )
    _snr: SnrTracker = field(init=False)
    _last_setting: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.budget_s) and self.budget_s > 0):
            raise ValueError(f"latency budget must be positive, got {self.budget_s}")
        if not self.qualities:
            raise ValueError("the rate adapter needs at least one codec setting")
        self._snr = SnrTracker(self.initial_snr_db)

    def observe(self, feedback: ChannelFeedback) -> None:
        """Take the receiver's report for a segment (SNR estimate, delivery, damage)."""
        self._snr.observe(feedback.snr_db)
        if feedback.keyframe_damaged or not feedback.delivered:
            self._last_setting = None  # the receiver has no clean keyframe to reuse

    def planned_snr_db(self) -> float:
        return self._snr.planned_snr_db()

    def record_caption_bytes(self, granularity: Granularity, compressed_bytes: int) -> None:
        """Keep a running estimate of caption size per granularity (exponential average)."""
        old = self.caption_bytes[granularity]
        self.caption_bytes[granularity] = round(0.8 * old + 0.2 * compressed_bytes)

    def plan(
        self,
        thumbnails: Sequence[np.ndarray] = (),
        last_sent: np.ndarray | None = None,
        scene_cut: bool = False,
    ) -> SegmentPlan:
        """The lowest-distortion option that fits the budget at the planned SNR; if none fits,
        the fastest option, marked ``within_budget=False``."""
        snr = self.planned_snr_db()
        ber = bit_error_rate(snr, self.link.ber_model)
        rate = shannon_throughput_bps(self.link.bandwidth_hz, snr)
        residual = {parity: light_fec_residual_ber(ber, parity) for parity in self.fec_parities}
        reuse_ok = last_sent is not None and self._last_setting is not None and not scene_cut
        best: SegmentPlan | None = None
        fastest: SegmentPlan | None = None
        for count in range(0, self.max_keyframes + 1):
            cover = coverage_mse(thumbnails, count, last_sent if reuse_ok else None)
            if count == 0:
                kept = self._last_setting if reuse_ok else None
                settings = [kept or next(iter(self.qualities))]
            else:
                settings = list(self.qualities)
            for setting, granularity in itertools.product(settings, Granularity):
                quality = self.qualities[setting]
                protected = self.caption_bytes[granularity] + self.link.wire_overhead_bytes * (
                    1 + count
                )
                keyframe_bytes = count * quality.keyframe_bytes
                # Each light-FEC parity on best-effort symbols, and (-1) the reliable path.
                for parity in (*self.fec_parities, RELIABLE) if count else (0,):
                    reliable = parity == RELIABLE
                    seconds = (
                        air_time_s(self.link, protected + keyframe_bytes, 0, 0, ber, rate)
                        if reliable
                        else air_time_s(self.link, protected, keyframe_bytes, parity, ber, rate)
                    )
                    damage = 0.0 if reliable else residual[parity]
                    codec_mse = quality.expected_mse(damage) if reuse_ok or count else 0.0
                    option = SegmentPlan(
                        codec=setting,
                        keyframes=count,
                        granularity=granularity,
                        keyframe_fec_parity=0 if reliable else parity,
                        planned_snr_db=snr,
                        predicted_time_on_air_s=seconds,
                        predicted_mse=codec_mse + cover + self.caption_mse[granularity],
                        within_budget=seconds <= self.budget_s,
                        keyframes_protected=reliable,
                    )
                    if fastest is None or seconds < fastest.predicted_time_on_air_s:
                        fastest = option
                    if option.within_budget and (
                        best is None or option.predicted_mse < best.predicted_mse
                    ):
                        best = option
        chosen = best or fastest
        assert chosen is not None
        # The track is sent when it fits what the plan leaves of the budget; it never
        # displaces a keyframe or caption words.
        track_s = air_time_s(self.link, TRACK_BYTES, 0, 0, ber, rate)
        chosen = replace(
            chosen,
            motion_track=chosen.within_budget
            and chosen.predicted_time_on_air_s + track_s <= self.budget_s,
        )
        if chosen.keyframes:
            self._last_setting = chosen.codec
        return chosen
