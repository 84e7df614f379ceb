import itertools
import math

import numpy as np
import pytest
from scipy import stats

from channel_sim import (
    AwgnBitChannel,
    ber_bpsk,
    ber_mirage,
    bit_error_rate,
    db_to_linear,
    flip_bits,
    flip_bits_in_spans,
    linear_to_db,
    shannon_throughput_bps,
    time_on_air_s,
)


def test_paper_ber_differs_from_bpsk_as_paper_md_states():
    assert bit_error_rate(-10, "mirage") == pytest.approx(0.114, abs=5e-4)
    assert bit_error_rate(-10, "bpsk") == pytest.approx(0.327, abs=5e-4)
    assert bit_error_rate(10, "mirage") == pytest.approx(0.0081, abs=5e-5)
    assert bit_error_rate(10, "bpsk") == pytest.approx(3.87e-6, rel=0.01)


def test_ber_models_decrease_with_snr():
    for model in ("mirage", "bpsk"):
        values = [bit_error_rate(snr, model) for snr in range(-10, 11, 2)]
        assert all(a > b for a, b in itertools.pairwise(values))
        assert all(0 < v < 0.5 for v in values)


def test_db_round_trip():
    for snr_db in (-10.0, 0.0, 7.5):
        assert linear_to_db(db_to_linear(snr_db)) == pytest.approx(snr_db)


def test_table1_raw_latency_within_one_percent():
    # Table 1's raw size, 32,415.88 KiB, is 144 frames of 320x240 RGB (PAPER.md: "about 141").
    raw_bits = round(32_415.88 * 1024) * 8
    assert raw_bits == pytest.approx(144 * 320 * 240 * 24, rel=1e-3)
    latency_ms = 1000 * time_on_air_s(raw_bits, 20e6, -10.0)
    assert latency_ms == pytest.approx(96_899.14, rel=0.01)


def test_throughput_is_eq7():
    assert shannon_throughput_bps(1e6, 0.0) == pytest.approx(1e6)  # log2(1 + 1) = 1
    assert time_on_air_s(1000, 1e6, 0.0, per_payload_overhead_s=0.002) == pytest.approx(0.003)


@pytest.mark.parametrize(
    "call",
    [
        lambda: bit_error_rate(math.nan),
        lambda: bit_error_rate(math.inf),
        lambda: bit_error_rate(0.0, "nonsense"),
        lambda: shannon_throughput_bps(-1.0, 0.0),
        lambda: time_on_air_s(-1, 1e6, 0.0),
        lambda: AwgnBitChannel(bandwidth_hz=0.0),
        lambda: AwgnBitChannel(ber_model="nonsense"),
        lambda: AwgnBitChannel().send(b"", 0.0, np.random.default_rng(0)),
        lambda: flip_bits(b"abc", 1.5, np.random.default_rng(0)),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize("ber", [0.114, 0.01, 0.0081])
def test_flip_count_inside_two_sided_binomial_interval(ber):
    rng = np.random.default_rng(1234)
    data = bytes(20_000)  # 160,000 bits
    damaged, errors = flip_bits(data, ber, rng)
    measured = int(np.unpackbits(np.frombuffer(damaged, dtype=np.uint8)).sum())
    assert measured == errors
    low, high = stats.binom.interval(0.999, len(data) * 8, ber)
    assert low <= errors <= high


def test_flips_are_spread_uniformly_over_bit_positions():
    rng = np.random.default_rng(7)
    damaged, errors = flip_bits(bytes(50_000), 0.05, rng)
    per_position = np.unpackbits(np.frombuffer(damaged, dtype=np.uint8)).reshape(-1, 8).sum(axis=0)
    # each of the 8 bit positions gets Binomial(50,000, 0.05) flips
    low, high = stats.binom.interval(0.999, 50_000, 0.05)
    assert np.all((per_position >= low) & (per_position <= high))
    assert per_position.sum() == errors


def test_zero_ber_changes_nothing_and_ber_one_flips_everything():
    rng = np.random.default_rng(0)
    data = bytes(range(256))
    assert flip_bits(data, 0.0, rng) == (data, 0)
    inverted, errors = flip_bits(data, 1.0, rng)
    assert errors == 256 * 8
    assert inverted == bytes(255 - b for b in data)


def test_flips_stay_inside_spans():
    rng = np.random.default_rng(3)
    data = bytes(1000)
    damaged, errors = flip_bits_in_spans(data, [(100, 50), (600, 200)], 0.3, rng)
    changed = np.flatnonzero(np.frombuffer(damaged, dtype=np.uint8))
    assert errors > 0
    assert np.all(((changed >= 100) & (changed < 150)) | ((changed >= 600) & (changed < 800)))
    with pytest.raises(ValueError):
        flip_bits_in_spans(data, [(990, 20)], 0.1, rng)


def test_same_seed_same_damage():
    data = bytes(5000)
    a = flip_bits(data, 0.05, np.random.default_rng(42))
    b = flip_bits(data, 0.05, np.random.default_rng(42))
    assert a == b


def test_channel_reports_what_it_did():
    channel = AwgnBitChannel(bandwidth_hz=20e6, per_payload_overhead_s=0.001)
    data = bytes(range(250)) * 2
    sent = channel.send(data, -10.0, np.random.default_rng(5), exposed_spans=[(100, 300)])
    assert sent.ber == pytest.approx(ber_mirage(0.1))
    assert sent.bits_sent == 4000 and sent.bits_exposed == 2400
    assert sent.delivered and sent.received is not None
    received = np.frombuffer(sent.received, np.uint8)
    flipped = np.unpackbits(received ^ np.frombuffer(data, np.uint8))
    assert sent.bit_errors == int(flipped.sum()) > 0
    assert flipped[: 100 * 8].sum() == 0 and flipped[400 * 8 :].sum() == 0  # protected: intact
    assert sorted(sent.exposed_error_bits[0]) == list(np.flatnonzero(flipped) - 800)
    # 200 protected bytes at BER 0.114 need heavy protection, all of it charged to the air
    assert sent.protected_channel_bits > 5 * 1600
    rate = 20e6 * math.log2(1.1)
    expected = (sent.protected_channel_bits + 2400) / rate + sent.tries * 0.001
    assert sent.time_on_air_s == pytest.approx(expected)
    assert ber_bpsk(0.0) == pytest.approx(0.5)


def test_channel_without_exposed_spans_delivers_everything_intact():
    sent = AwgnBitChannel().send(b"caption" * 50, -5.0, np.random.default_rng(1))
    assert sent.received == b"caption" * 50 and sent.bit_errors == 0 and sent.bits_exposed == 0


def test_light_keyframe_fec_repairs_a_good_channel_and_costs_its_parity():
    from channel_sim.channel import protect_light, recover_light

    rng = np.random.default_rng(21)
    span = rng.bytes(300)  # two RS blocks
    assert recover_light(protect_light(span, 16), 300, 16) == span
    plain = AwgnBitChannel()
    light = AwgnBitChannel(keyframe_fec_parity=32)
    clean = {"plain": 0, "light": 0}
    for _ in range(200):
        for name, channel in (("plain", plain), ("light", light)):
            sent = channel.send(span, 12.0, rng, exposed_spans=[(0, 300)])
            clean[name] += sent.received == span
    # at +12 dB the mirage BER is 2.6e-3: unprotected, 300 B arrive intact 0.2% of the time
    # (expected 0.4 of 200); with 32 parity bytes per block (16 byte errors corrected, about 5
    # expected in a full block) nearly always
    assert clean["light"] >= 195 and clean["plain"] <= 5
    on_air = light.send(span, 12.0, rng, exposed_spans=[(0, 300)]).time_on_air_s
    assert on_air > plain.send(span, 12.0, rng, exposed_spans=[(0, 300)]).time_on_air_s
    with pytest.raises(ValueError):
        AwgnBitChannel(keyframe_fec_parity=3)


def test_light_fec_gives_back_damaged_bytes_when_it_cannot_repair():
    from channel_sim.channel import protect_light, recover_light

    span = bytes(range(200))
    coded = bytearray(protect_light(span, 4))
    for i in range(0, 200, 10):
        coded[i] ^= 0xFF  # 20 byte errors: far beyond 2 correctable
    recovered = recover_light(bytes(coded), 200, 4)
    assert len(recovered) == 200 and recovered != span
    # the decoder either gives up (20 wrong bytes) or miscorrects, moving at most 2 more
    assert sum(a != b for a, b in zip(recovered, span, strict=True)) <= 22
