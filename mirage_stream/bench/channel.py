"""``bench channel``: channel_sim checked against theory, its speed, and caption delivery.

* ``ber``: for every BER model and SNR from -10 to +10 dB, the closed form and a Monte-Carlo
  measurement (symbol-level modulate / AWGN / hard decision for bpsk, qpsk, 16qam; the bit-flip
  process for the paper's ``mirage`` model, which is not a physical modulation).
* ``throughput_mbit_s``: bits per second that ``flip_in_place`` corrupts on one core at BER 0.1
  and 1e-5 (best of several runs over an 8 Mbit buffer).
* ``caption``: ``trials`` random 400-byte captions through the reliable chain with ARQ at the
  paper's worst case (SNR -10 dB, ``mirage`` BER 0.114): undetected errors, failures, mean
  tries, overhead and time on air. ``caption_low_ber`` repeats it at BER 1e-3.
* ``table1_raw_latency_ms``: the paper's raw row (32,415.88 KiB) at 20 MHz and -10 dB.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from channel_sim import (
    BER_MODELS,
    MODEMS,
    bit_error_rate,
    flip_in_place,
    shannon_throughput_bps,
    simulate_ber,
    simulate_delivery,
    time_on_air_s,
)
from mirage_stream.bench import Progress, quiet

SNR_POINTS_DB = tuple(float(x) for x in range(-10, 11, 2))
PAPER_RAW_BYTES = round(32_415.88 * 1024)


@dataclass(frozen=True)
class BerRow:
    """One BER model at one SNR: the closed form and the measured rate."""

    model: str
    snr_db: float
    theory: float
    measured: float
    bits: int
    errors: int


@dataclass(frozen=True)
class DeliveryPlan:
    """How the reliable chain protects a caption (repetition, Reed-Solomon, codewords)."""

    repetition: int
    rs_parity_bytes: int
    codewords: int
    codeword_bytes: int
    channel_bits_per_try: int


@dataclass(frozen=True)
class CaptionDelivery:
    """Random captions through the reliable chain with retries at one BER."""

    trials: int
    bytes: int
    snr_db: float | None
    ber: float
    undetected_errors: int
    failed: int
    mean_tries: float
    overhead_ratio: float
    mean_channel_bits: float
    mean_time_on_air_ms: float | None
    predicted_mean_tries: float
    residual_block_error: float
    real_rs_decodes: int
    plan: DeliveryPlan
    seconds: float


@dataclass(frozen=True)
class ChannelBenchResult:
    ber: list[BerRow]
    throughput_mbit_s: dict[str, float]  # BER ("0.1", "1e-05") -> Mbit/s corrupted
    caption: CaptionDelivery  # at the paper's worst case, SNR -10 dB
    caption_low_ber: CaptionDelivery  # at BER 1e-3
    table1_raw_latency_ms: float
    paper_raw_latency_ms: float


def ber_rows(bits: int, seed: int) -> list[BerRow]:
    rng = np.random.default_rng(seed)
    rows = []
    for model in BER_MODELS:
        for snr_db in SNR_POINTS_DB:
            theory = bit_error_rate(snr_db, model)
            if model not in MODEMS:  # no constellation: bits flip at the model's BER
                buffer = np.zeros(bits // 8, dtype=np.uint8)
                errors, counted = flip_in_place(buffer, theory, rng), bits // 8 * 8
            else:
                measured = simulate_ber(model, snr_db, rng, max_bits=bits, target_errors=bits)
                errors, counted = measured.errors, measured.bits
            rows.append(BerRow(model, snr_db, theory, errors / counted, counted, errors))
    return rows


def flip_throughput_mbit_s(ber: float, seed: int, repeats: int = 5) -> float:
    rng = np.random.default_rng(seed)
    buffer = np.zeros(1 << 20, dtype=np.uint8)  # 8 Mbit
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        flip_in_place(buffer, ber, rng)
        best = min(best, time.perf_counter() - start)
    return buffer.size * 8 / best / 1e6


def caption_delivery(
    trials: int,
    block_bytes: int,
    snr_db: float | None,
    ber: float,
    bandwidth_hz: float,
    seed: int,
) -> CaptionDelivery:
    start = time.perf_counter()
    result = simulate_delivery(trials, block_bytes, ber, np.random.default_rng(seed))
    plan = result.plan
    rate_snr = snr_db if snr_db is not None else 10.0
    mean_bits = result.channel_bits / trials
    return CaptionDelivery(
        trials=trials,
        bytes=block_bytes,
        snr_db=snr_db,
        ber=ber,
        undetected_errors=result.undetected_errors,
        failed=result.failed,
        mean_tries=result.mean_tries,
        overhead_ratio=result.overhead_ratio,
        mean_channel_bits=mean_bits,
        mean_time_on_air_ms=None
        if snr_db is None
        else 1000 * time_on_air_s(round(mean_bits), bandwidth_hz, rate_snr),
        predicted_mean_tries=plan.expected_tries,
        residual_block_error=plan.residual_failure,
        real_rs_decodes=result.real_decodes,
        plan=DeliveryPlan(
            repetition=plan.repetition,
            rs_parity_bytes=plan.parity_bytes,
            codewords=plan.codewords,
            codeword_bytes=plan.codeword_bytes,
            channel_bits_per_try=plan.channel_bits,
        ),
        seconds=round(time.perf_counter() - start, 2),
    )


def bench_channel(
    trials: int = 100_000,
    ber_bits: int = 2_000_000,
    bandwidth_hz: float = 20e6,
    seed: int = 0,
    progress: Progress = quiet,
) -> ChannelBenchResult:
    say = progress
    say("BER: Monte Carlo against closed forms")
    rows = ber_rows(ber_bits, seed)
    say("throughput of bit corruption")
    throughput = {key: flip_throughput_mbit_s(float(key), seed) for key in ("0.1", "1e-05")}
    worst_snr = -10.0
    say(f"caption delivery: {trials} captions at SNR {worst_snr} dB")
    caption = caption_delivery(
        trials, 400, worst_snr, bit_error_rate(worst_snr, "mirage"), bandwidth_hz, seed
    )
    say(f"caption delivery: {trials} captions at BER 1e-3")
    low = caption_delivery(trials, 400, None, 1e-3, bandwidth_hz, seed + 1)
    raw_latency = 1000 * PAPER_RAW_BYTES * 8 / shannon_throughput_bps(bandwidth_hz, worst_snr)
    return ChannelBenchResult(rows, throughput, caption, low, raw_latency, 96_899.14)


def plot_ber(rows: list[BerRow], path: str) -> None:
    """BER against SNR, closed forms as lines and Monte-Carlo points as markers, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.4))
    for model in dict.fromkeys(row.model for row in rows):
        mine = [row for row in rows if row.model == model]
        snr = [row.snr_db for row in mine]
        (line,) = axes.semilogy(snr, [row.theory for row in mine], label=f"{model} theory")
        measured = [(row.snr_db, row.measured) for row in mine if row.measured > 0]
        axes.semilogy(*zip(*measured, strict=True), "o", color=line.get_color(), fillstyle="none")
    axes.set_xlabel("SNR = Es/N0 (dB)")
    axes.set_ylabel("bit error rate")
    axes.set_title("channel_sim: closed forms (lines) and Monte Carlo (circles)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
