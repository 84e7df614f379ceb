"""channel_sim: the wireless link of the Mirage paper (eq. 5-9), as small stateless blocks.

Conventions (used everywhere in this package):

* SNR is the ratio of received signal power to noise power per symbol, SNR = P_S / sigma^2
  (eq. 6). Functions take it either in dB (``snr_db``) or linear (``snr``); names say which.
* Noise is complex circular Gaussian, n ~ CN(0, sigma^2 I) (eq. 5): each of I and Q carries
  sigma^2 / 2.
* A BER model maps SNR (dB) to a bit error probability. ``mirage`` is the paper's eq. 9, which
  sets Eb/N0 = SNR / log2(1 + SNR); ``bpsk`` is textbook uncoded BPSK with Eb/N0 = SNR.
* Randomness comes only from a ``numpy.random.Generator`` passed in, so one seed makes a run
  reproducible.
"""

from channel_sim.ber import BER_MODELS, ber_bpsk, ber_mirage, bit_error_rate
from channel_sim.capacity import shannon_throughput_bps, time_on_air_s
from channel_sim.channel import AwgnBitChannel, Transmission
from channel_sim.corrupt import flip_bits, flip_bits_in_spans
from channel_sim.snr import db_to_linear, linear_to_db

__all__ = [
    "BER_MODELS",
    "AwgnBitChannel",
    "Transmission",
    "ber_bpsk",
    "ber_mirage",
    "bit_error_rate",
    "db_to_linear",
    "flip_bits",
    "flip_bits_in_spans",
    "linear_to_db",
    "shannon_throughput_bps",
    "time_on_air_s",
]
