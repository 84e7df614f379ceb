"""Shannon throughput and time on air (eq. 7)."""

from __future__ import annotations

import math

from channel_sim.snr_units import check_finite, db_to_linear


def shannon_throughput_bps(bandwidth_hz: float, snr_db: float) -> float:
    """Eq. 7: T = b log2(1 + SNR), in bit/s, for bandwidth b in Hz and SNR in dB."""
    bandwidth_hz = check_finite("bandwidth_hz", bandwidth_hz)
    if bandwidth_hz <= 0:
        raise ValueError(f"bandwidth_hz must be positive, got {bandwidth_hz!r}")
    return bandwidth_hz * math.log2(1.0 + db_to_linear(snr_db))


def time_on_air_s(
    bits: int, bandwidth_hz: float, snr_db: float, per_payload_overhead_s: float = 0.0
) -> float:
    """Seconds to send ``bits`` at the eq. 7 rate, plus a fixed per-payload overhead.

    The overhead stands for everything the capacity formula leaves out (framing, scheduling,
    propagation); the paper's tables imply about 1.9 ms, and it is zero unless stated.
    """
    if bits < 0:
        raise ValueError(f"bits must be non-negative, got {bits!r}")
    overhead = check_finite("per_payload_overhead_s", per_payload_overhead_s)
    if overhead < 0:
        raise ValueError(f"per_payload_overhead_s must be non-negative, got {overhead!r}")
    return bits / shannon_throughput_bps(bandwidth_hz, snr_db) + overhead
