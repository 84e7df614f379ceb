"""How each segment's keyframe symbols cross the link, when no rate adapter decides.

Three ways, from cheapest at a good SNR: best effort (the paper's: the symbols are exposed to
bit flips), best effort with light Reed-Solomon FEC (parity bytes per 255-byte block), or the
reliable path the caption takes (CRC, Reed-Solomon, repetition sized to the BER, ARQ).
``auto`` picks the one with the least time on air (eq. 7, retries budgeted) whose expected
keyframe distortion, by the codec's calibrated model (``codecs/distortion_model.py``), stays within
``max_loss_db`` of the clean keyframe's. At -10 dB (BER 0.11) only the reliable path keeps the
keyframe clean; at +10 dB (BER 0.008) light FEC does; at higher SNR nothing is needed.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace

from channel_sim import bit_error_rate
from mirage_stream.codecs.distortion_model import CodecQuality
from mirage_stream.sender.airtime_adapter import LinkModel, light_fec_residual_ber, time_on_air_s
from mirage_stream.sender.snr_tracker import SnrTracker
from mirage_stream.types import SemanticPayload
from mirage_stream.wire import encode_payload_image

LIGHT_FEC_PARITIES = (8, 16, 32, 64)
# A codec without a calibrated distortion model counts as ruined by any BER above this.
UNMODELLED_BER = 1e-4


class KeyframeProtection(enum.Enum):
    AUTO = "auto"  # the cheapest way that keeps the keyframe within max_loss_db of clean
    BEST_EFFORT = "best-effort"  # the paper's: symbols exposed (optionally --keyframe-fec)
    RELIABLE = "reliable"  # always on the reliable path


@dataclass(frozen=True)
class ProtectionChoice:
    parity: int
    reliable: bool
    time_on_air_s: float
    expected_loss_db: float


@dataclass
class ProtectionPolicy:
    """Chooses the protection of each payload's keyframes at the planned SNR."""

    qualities: dict[str, CodecQuality]
    link: LinkModel = field(default_factory=LinkModel)
    snr: SnrTracker = field(default_factory=SnrTracker)
    max_loss_db: float = 1.0

    def _loss_db(self, setting: str, ber: float) -> float:
        quality = self.qualities.get(setting)
        if quality is None:
            return 0.0 if ber <= UNMODELLED_BER else math.inf
        return 10.0 * math.log10(quality.expected_mse(ber) / quality.clean_mse)

    def choose(self, setting: str, protected_bytes: int, symbol_bytes: int) -> ProtectionChoice:
        """The cheapest option within the loss bound for a payload whose keyframe symbols
        are ``symbol_bytes`` and whose other parts are ``protected_bytes``."""
        snr_db = self.snr.planned_snr_db()
        ber = bit_error_rate(snr_db, self.link.ber_model)
        options = [
            ProtectionChoice(
                parity,
                False,
                time_on_air_s(self.link, protected_bytes, symbol_bytes, parity, snr_db),
                self._loss_db(setting, light_fec_residual_ber(ber, parity)),
            )
            for parity in (0, *LIGHT_FEC_PARITIES)
        ]
        options.append(
            ProtectionChoice(
                0, True, time_on_air_s(self.link, protected_bytes + symbol_bytes, 0, 0, snr_db), 0.0
            )
        )
        good = [option for option in options if option.expected_loss_db <= self.max_loss_db]
        return min(good, key=lambda option: option.time_on_air_s)

    def apply(self, payload: SemanticPayload, setting: str) -> SemanticPayload:
        """``payload`` with the chosen protection of its keyframes."""
        if not payload.keyframes:
            return payload
        image = encode_payload_image(payload)
        symbols = sum(length for _, length in image.exposed_spans)
        choice = self.choose(setting, len(image.data) - symbols, symbols)
        return replace(
            payload, keyframe_fec_parity=choice.parity, keyframes_protected=choice.reliable
        )
