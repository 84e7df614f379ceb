"""Reliable caption delivery, SNR processes and the packet layer."""

import math

import numpy as np
import pytest

from channel_sim import (
    ConstantSnr,
    GaussMarkovSnr,
    GilbertElliottSnr,
    PacketConfig,
    ScheduleSnr,
    TraceSnr,
    bit_error_rate,
    fragment,
    plan_code,
    reassemble,
    send_packets,
    send_reliably,
    simulate_delivery,
)
from channel_sim.reliable import decode_codewords, encode_block


@pytest.mark.parametrize("ber", [0.0, 1e-3, 0.0081, 0.114, 0.25])
def test_reliable_delivery_is_exact(ber):
    rng = np.random.default_rng(11)
    block = rng.bytes(400)
    delivery = send_reliably(block, ber, rng)
    assert delivery.block == block
    assert delivery.tries >= 1
    assert delivery.channel_bits == delivery.tries * delivery.plan.channel_bits


def test_plan_meets_its_targets():
    cheap = plan_code(400, 1e-3)
    assert cheap.overhead_ratio <= 0.30
    harsh = plan_code(400, bit_error_rate(-10.0, "mirage"))
    assert harsh.residual_failure <= 1e-9 and harsh.repetition > 1
    with pytest.raises(ValueError):
        plan_code(400, 0.5)
    with pytest.raises(ValueError):
        plan_code(0, 0.01)


def test_simulation_agrees_with_the_plan():
    """Mean tries measured over many blocks lies within a two-sided 99.9% interval of the
    plan's exact prediction (tries - 1 ~ about Binomial(trials, try_failure))."""
    from scipy import stats

    ber = 0.05
    stats_ = simulate_delivery(4000, 400, ber, np.random.default_rng(3))
    plan = stats_.plan
    assert stats_.undetected_errors == 0 and stats_.failed == 0
    retries = stats_.total_tries - stats_.trials
    low, high = stats.binom.interval(0.999, stats_.trials, plan.try_failure)
    assert low <= retries <= high * 1.1 + 2  # second retries are rarer still
    assert stats_.overhead_ratio == pytest.approx(
        stats_.total_tries * plan.channel_bits / (8 * 400 * 4000) - 1
    )


def test_decoder_shortcut_matches_the_real_decoder():
    """The simulator skips RS decoding when a codeword has at most parity/2 byte errors; the
    real decoder must return the block in exactly those cases, and fail or miscorrect (caught
    by the CRC) beyond."""
    rng = np.random.default_rng(8)
    plan = plan_code(120, 0.02)
    radius = plan.parity_bytes // 2
    for errors in (0, radius - 1, radius, radius + 1, radius + 6):
        block = rng.bytes(120)
        coded = np.frombuffer(encode_block(block, plan), np.uint8)
        codewords = coded.reshape(plan.codeword_bytes, plan.codewords).T.copy()
        for row in codewords:
            where = rng.choice(plan.codeword_bytes, size=errors, replace=False)
            row[where] ^= rng.integers(1, 256, size=errors, dtype=np.uint8)
        decoded = decode_codewords(codewords, plan)
        if errors <= radius:
            assert decoded == block
        else:
            assert decoded is None or decoded != block


def test_snr_processes_are_reproducible_and_bounded():
    walk = GaussMarkovSnr(mean_db=0.0, std_db=3.0, rho=0.9, seed=4)
    series = np.array([walk.snr_db(i) for i in range(4000)])
    assert walk.snr_db(17) == GaussMarkovSnr(0.0, 3.0, 0.9, seed=4).snr_db(17)
    # stationary mean 0 and std 3: wide two-sided bounds for 4000 correlated samples
    assert abs(series.mean()) < 1.0 and 2.5 < series.std() < 3.5
    lag1 = np.corrcoef(series[:-1], series[1:])[0, 1]
    assert 0.85 < lag1 < 0.95

    ge = GilbertElliottSnr(good_db=10.0, bad_db=-10.0, p_good_to_bad=0.1, p_bad_to_good=0.3)
    states = np.array([ge.snr_db(i) for i in range(8000)])
    assert set(np.unique(states)) == {-10.0, 10.0}
    assert abs((states == -10.0).mean() - 0.25) < 0.05  # stationary bad share 0.1 / 0.4

    assert ScheduleSnr((1.0, 2.0)).snr_db(3) == 2.0
    assert ScheduleSnr((1.0, 2.0), cycle=False).snr_db(9) == 2.0
    assert ConstantSnr(-10.0).snr_db(5) == -10.0


def test_trace_file_parsing(tmp_path):
    good = tmp_path / "trace.csv"
    good.write_text("# measured\ntime_s,snr_db\n0,-3.5\n2,1.0\n\n4,7\n")
    trace = TraceSnr.from_csv(good)
    assert trace.values_db == (-3.5, 1.0, 7.0) and trace.snr_db(10) == 7.0
    bare = tmp_path / "bare.csv"
    bare.write_text("-1\n-2\n")
    assert TraceSnr.from_csv(bare).values_db == (-1.0, -2.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("snr_db\n3\nloud\n")
    with pytest.raises(ValueError, match=r"bad.csv:3: snr_db 'loud'"):
        TraceSnr.from_csv(bad)
    infinite = tmp_path / "inf.csv"
    infinite.write_text("inf\n")
    with pytest.raises(ValueError, match="not finite"):
        TraceSnr.from_csv(infinite)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ConstantSnr(math.nan),
        lambda: GaussMarkovSnr(0.0, -1.0),
        lambda: GaussMarkovSnr(0.0, 1.0, rho=1.0),
        lambda: GilbertElliottSnr(0.0, -5.0, p_good_to_bad=0.0),
        lambda: ScheduleSnr(()),
        lambda: PacketConfig(loss_rate=1.5),
        lambda: PacketConfig(mtu_bytes=0),
    ],
)
def test_bad_parameters_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_fragment_and_reassemble():
    data = bytes(range(256)) * 10
    pieces = fragment(data, 1000)
    assert [len(p) for _, p in pieces] == [1000, 1000, 560]
    outcomes = send_packets(data, 0.0, 1e6, np.random.default_rng(0), PacketConfig(1000))
    assert reassemble(outcomes, len(data)) == (data, [])
    arrivals = [p.arrival_s for p in outcomes]
    assert arrivals == sorted(arrivals) and arrivals[-1] == pytest.approx(8 * (2560 + 120) / 1e6)


def test_packet_loss_rate_is_honoured():
    from scipy import stats

    rng = np.random.default_rng(12)
    config = PacketConfig(mtu_bytes=10, loss_rate=0.2, jitter_s=0.01, delay_s=0.05)
    outcomes = send_packets(bytes(20_000), 0.0, 1e9, rng, config)
    lost = sum(p.lost for p in outcomes)
    low, high = stats.binom.interval(0.999, len(outcomes), 0.2)
    assert low <= lost <= high
    assert min(p.arrival_s for p in outcomes) >= 0.05
    _, missing = reassemble(outcomes, 20_000)
    assert len(missing) == lost


def test_unprotected_header_bits_turn_bit_errors_into_loss():
    rng = np.random.default_rng(2)
    config = PacketConfig(mtu_bytes=100, ber_loss_bits=320)
    outcomes = send_packets(bytes(100_000), 0.114, 1e6, rng, config)
    assert all(p.lost for p in outcomes)  # (1 - 0.114)^320 is about 1e-17
