"""channel_sim: the wireless link of the Mirage paper (eq. 5-9, 15), as small stateless blocks.

Conventions (used everywhere in this package):

* SNR is the ratio of received signal power to noise power per symbol, SNR = Es/N0 = P_S / sigma^2
  (eq. 6). Functions take it in dB (``snr_db``) or linear (``snr``); names say which.
* Noise is complex circular Gaussian, n ~ CN(0, sigma^2) (eq. 5): I and Q each carry sigma^2 / 2.
  Constellations have unit average energy, so sigma^2 = 1 / SNR.
* Eb/N0 = SNR / (bits per symbol) for the textbook modulations; the paper's ``mirage`` model
  instead sets Eb/N0 = SNR / log2(1 + SNR) (eq. 8-9).
* Throughput is Shannon's T = b log2(1 + SNR) (eq. 7); time on air = bits / T + fixed overhead.
* Randomness comes only from a ``numpy.random.Generator`` passed in: one seed, one run.
"""

from channel_sim.arq import DeliveryStatistics, ReliableDelivery, send_reliably, simulate_delivery
from channel_sim.ber import (
    BER_MODELS,
    ber_16qam,
    ber_bpsk,
    ber_mirage,
    ber_qpsk,
    bit_error_rate,
    q_function,
)
from channel_sim.capacity import shannon_throughput_bps, time_on_air_s
from channel_sim.channel import AwgnBitChannel, Transmission
from channel_sim.corrupt import flip_bits, flip_bits_in_spans, flip_in_place
from channel_sim.modem import MODEMS, add_awgn, simulate_ber
from channel_sim.packets import PacketConfig, fragment, reassemble, send_packets
from channel_sim.reliable import CodePlan, plan_code
from channel_sim.snr_process import (
    ConstantSnr,
    GaussMarkovSnr,
    GilbertElliottSnr,
    ScheduleSnr,
    SnrProcess,
    TraceSnr,
)
from channel_sim.snr_units import db_to_linear, linear_to_db

__all__ = [
    "BER_MODELS",
    "MODEMS",
    "AwgnBitChannel",
    "CodePlan",
    "ConstantSnr",
    "DeliveryStatistics",
    "GaussMarkovSnr",
    "GilbertElliottSnr",
    "PacketConfig",
    "ReliableDelivery",
    "ScheduleSnr",
    "SnrProcess",
    "TraceSnr",
    "Transmission",
    "add_awgn",
    "ber_16qam",
    "ber_bpsk",
    "ber_mirage",
    "ber_qpsk",
    "bit_error_rate",
    "db_to_linear",
    "flip_bits",
    "flip_bits_in_spans",
    "flip_in_place",
    "fragment",
    "linear_to_db",
    "plan_code",
    "q_function",
    "reassemble",
    "send_packets",
    "send_reliably",
    "shannon_throughput_bps",
    "simulate_ber",
    "simulate_delivery",
    "time_on_air_s",
]
