"""Rate-distortion facts about each shipped codec setting, for the sender's rate adapter.

A keyframe's expected distortion at a bit error rate p is modelled as
    D(p) = D_clean + P_sym(p) * D_sym,   P_sym(p) = 1 - (1 - p)^b,
where b is the bits per symbol and D_sym the extra MSE when every symbol is damaged. D_clean and
D_sym are measured here on held-out frames (``mirage-stream calibrate-codecs``) and stored in
``quality.json`` beside the shipped weights.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from channel_sim import flip_bits
from mirage_stream.codecs import codec_settings, make_codec
from mirage_stream.codecs.learned.codecs import WEIGHTS_DIR
from mirage_stream.errors import InputError
from mirage_stream.types import FrameArray

QUALITY_FILE = WEIGHTS_DIR / "quality.json"
CALIBRATION_BER = 0.05


def modelled_settings() -> list[str]:
    """The settings whose distortion is modelled (``quality.json``): every variant the
    learned codecs ship (``CodecBackend.variants``), each measured by ``calibrate``."""
    return codec_settings(("vq", "ae"))


@dataclass(frozen=True)
class CodecQuality:
    """One codec setting's cost and its distortion model (MSE in 8-bit RGB units)."""

    setting: str  # name:variant, as make_codec takes it
    keyframe_bytes: int
    bits_per_symbol: int
    clean_mse: float
    damaged_symbol_mse: float  # extra MSE if every symbol were damaged

    def expected_mse(self, bit_error_rate: float) -> float:
        """The model above at bit error rate ``bit_error_rate``."""
        damaged = 1.0 - (1.0 - bit_error_rate) ** self.bits_per_symbol
        return self.clean_mse + damaged * self.damaged_symbol_mse


def _mse(a: FrameArray, b: FrameArray) -> float:
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def calibrate(
    setting: str, frames: list[FrameArray], ber: float = CALIBRATION_BER, seed: int = 0
) -> CodecQuality:
    """Measure ``setting`` on ``frames`` clean and with bits flipped at ``ber``."""
    codec = make_codec(setting)
    rng = np.random.default_rng(seed)
    clean, noisy = [], []
    bits = 0
    for frame in frames:
        size = (frame.shape[1], frame.shape[0])
        encoded = codec.encode(frame)
        symbols = encoded.grid[0] * encoded.grid[1]
        bits = max(1, round(8 * len(encoded.data) / max(1, symbols)))
        clean.append(_mse(frame, codec.decode(encoded, size)))
        flipped, _ = flip_bits(encoded.data, ber, rng)
        damaged = type(encoded)(**{**asdict(encoded), "data": flipped})
        noisy.append(_mse(frame, codec.decode(damaged, size, damaged=True)))
    hit = 1.0 - (1.0 - ber) ** bits
    return CodecQuality(
        setting=setting,
        keyframe_bytes=codec.payload_bytes(),
        bits_per_symbol=bits,
        clean_mse=float(np.mean(clean)),
        damaged_symbol_mse=max(0.0, float(np.mean(noisy) - np.mean(clean)) / hit),
    )


def save_quality(table: list[CodecQuality], path: Path = QUALITY_FILE) -> None:
    rows = [asdict(row) for row in table]
    path.write_text(
        json.dumps({"calibration_ber": CALIBRATION_BER, "codecs": rows}, indent=2) + "\n"
    )


def load_quality(path: Path = QUALITY_FILE) -> dict[str, CodecQuality]:
    """The stored table, by setting; a clear error if it is missing or malformed."""
    try:
        rows = json.loads(path.read_text())["codecs"]
        table = {row["setting"]: CodecQuality(**row) for row in rows}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"codec quality table {path} unreadable ({error}); "
            "rebuild it with `mirage-stream calibrate-codecs`"
        ) from None
    if not table or any(not math.isfinite(q.clean_mse) for q in table.values()):
        raise InputError(f"codec quality table {path} is empty or holds non-finite values")
    return table
