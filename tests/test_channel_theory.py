"""Monte-Carlo BER against closed forms: two-sided 99% binomial intervals, fixed seeds."""

import numpy as np
import pytest
from scipy import stats

from channel_sim import BER_MODELS, bit_error_rate, flip_in_place, simulate_ber
from channel_sim.ber import ber_16qam, ber_bpsk, ber_qpsk

SNR_POINTS_DB = (-10.0, -6.0, -2.0, 2.0, 6.0, 10.0)


def inside_99(errors: int, bits: int, ber: float) -> bool:
    low, high = stats.binom.interval(0.99, bits, ber)
    return low <= errors <= high


@pytest.mark.parametrize("snr_db", SNR_POINTS_DB)
@pytest.mark.parametrize("modulation", ["bpsk", "qpsk", "16qam"])
def test_symbol_simulator_matches_closed_form(modulation, snr_db):
    seed = int(1000 * (snr_db + 20)) + len(modulation)
    measured = simulate_ber(
        modulation, snr_db, np.random.default_rng(seed), max_bits=3_000_000, target_errors=5_000
    )
    theory = bit_error_rate(snr_db, modulation)
    assert measured.errors > 0
    assert inside_99(measured.errors, measured.bits, theory), (measured, theory)


@pytest.mark.parametrize("snr_db", SNR_POINTS_DB)
def test_mirage_model_flips_at_its_ber(snr_db):
    ber = bit_error_rate(snr_db, "mirage")
    buffer = np.zeros(125_000, dtype=np.uint8)  # one million bits
    errors = flip_in_place(buffer, ber, np.random.default_rng(int(snr_db) + 50))
    assert errors == int(np.unpackbits(buffer).sum())
    assert inside_99(errors, 1_000_000, ber)


def test_every_model_is_covered():
    assert set(BER_MODELS) == {"mirage", "bpsk", "qpsk", "16qam"}


def test_a_channel_that_never_or_always_flips_fails_the_interval():
    bits = 1_000_000
    for snr_db in SNR_POINTS_DB:
        for model in BER_MODELS:
            ber = bit_error_rate(snr_db, model)
            if ber * bits > 5:  # where the interval can tell
                assert not inside_99(0, bits, ber)
            assert not inside_99(bits, bits, ber)


def test_cross_check_against_scikit_commpy():
    """An independent implementation (commpy's modems and AWGN, Es/N0 convention) must agree
    with our closed forms."""
    modulation = pytest.importorskip("commpy.modulation")
    channels = pytest.importorskip("commpy.channels")
    np.random.seed(2026)  # commpy draws its noise from numpy's global generator
    bits = np.random.randint(0, 2, 400_000)
    for modem, closed_form in (
        (modulation.PSKModem(2), ber_bpsk),
        (modulation.PSKModem(4), ber_qpsk),
        (modulation.QAMModem(16), ber_16qam),
    ):
        for snr_db in (-6.0, 0.0, 6.0):
            received = channels.awgn(modem.modulate(bits), snr_db, 1.0)
            errors = int(np.count_nonzero(modem.demodulate(received, "hard") != bits))
            assert inside_99(errors, bits.size, closed_form(10 ** (snr_db / 10)))
