"""The simulated channel's settings (eq. 5-9): SNR and how it moves, bandwidth, BER model,
fixed overhead, the seed of the bit flips; with their options and the SNR processes by name."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from channel_sim import (
    BER_MODELS,
    AwgnBitChannel,
    ConstantSnr,
    GaussMarkovSnr,
    GilbertElliottSnr,
    SnrProcess,
    TraceSnr,
)
from mirage_stream.errors import InputError
from mirage_stream.options import DEFAULT_SEED, add_seed_argument, positive_float
from mirage_stream.registry import Registry

SNR_RANGE_DB = (-30.0, 40.0)

# channel_sim keeps its models in a plain table (it knows nothing of options); here they are
# backends like the others.
_BER_SUMMARIES = {
    "mirage": "the paper's eq. 8-9, Eb/N0 = SNR / log2(1 + SNR)",
    "bpsk": "uncoded BPSK, Q(sqrt(2 SNR))",
    "qpsk": "Gray-coded QPSK, Q(sqrt(SNR))",
    "16qam": "Gray-coded square 16-QAM with hard decisions, exact",
}
BER_MODEL_CHOICES: Registry[Callable[[float], float]] = Registry("BER model", "--ber-model")
for _name, _ber_of_snr in BER_MODELS.items():
    BER_MODEL_CHOICES.add(_name, _BER_SUMMARIES[_name], _ber_of_snr)


def _trace(config: ChannelConfig) -> SnrProcess:
    if not config.snr_trace:
        raise InputError("--snr-process trace needs --snr-trace PATH")
    try:
        return TraceSnr.from_csv(Path(config.snr_trace))
    except (ValueError, OSError) as error:
        raise InputError(f"--snr-trace: {error}") from None


SNR_PROCESSES: Registry[Callable[[ChannelConfig], SnrProcess]] = Registry(
    "SNR process", "--snr-process"
)
SNR_PROCESSES.add("constant", "every segment at --snr-db", lambda c: ConstantSnr(c.snr_db))
SNR_PROCESSES.add(
    "random-walk",
    "Gauss-Markov around --snr-db, spread --snr-std-db",
    lambda c: GaussMarkovSnr(c.snr_db, c.snr_std_db, seed=c.seed),
)
SNR_PROCESSES.add(
    "gilbert-elliott",
    "good state --snr-db, bad state --snr-bad-db",
    lambda c: GilbertElliottSnr(c.snr_db, c.snr_bad_db, seed=c.seed),
)
SNR_PROCESSES.add(
    "trace",
    "one SNR per segment from the --snr-trace CSV",
    _trace,
    needs=("a CSV of SNRs in dB: --snr-trace FILE",),
    requires=("--snr-trace PATH",),
)


@dataclass(frozen=True)
class ChannelConfig:
    snr_db: float = -10.0
    snr_process: str = "constant"
    snr_std_db: float = 3.0  # random-walk spread around snr_db
    snr_bad_db: float = -15.0  # gilbert-elliott bad state (snr_db is the good state)
    snr_trace: str | None = None  # CSV with a snr_db column, for snr_process "trace"
    bandwidth_hz: float = 20e6
    ber_model: str = "mirage"
    overhead_ms: float = 0.0
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        low, high = SNR_RANGE_DB
        if not (math.isfinite(self.snr_db) and low <= self.snr_db <= high):
            raise InputError(f"--snr-db must be a number in [{low:g}, {high:g}], got {self.snr_db}")
        if not (math.isfinite(self.bandwidth_hz) and self.bandwidth_hz > 0):
            raise InputError(f"--bandwidth-hz must be positive, got {self.bandwidth_hz}")
        if not (math.isfinite(self.overhead_ms) and self.overhead_ms >= 0):
            raise InputError(f"--overhead-ms must be non-negative, got {self.overhead_ms}")
        BER_MODEL_CHOICES.check(self.ber_model)
        SNR_PROCESSES.check(self.snr_process, {"--snr-trace": self.snr_trace})

    def snr(self) -> SnrProcess:
        """The per-segment SNR these settings describe."""
        try:
            return SNR_PROCESSES.factory(self.snr_process)(self)
        except ValueError as error:
            if isinstance(error, InputError):
                raise
            raise InputError(str(error)) from None

    def channel(self) -> AwgnBitChannel:
        return AwgnBitChannel(self.bandwidth_hz, self.ber_model, self.overhead_ms / 1000.0)

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser, *, processes: bool = True) -> None:
        """The channel's options; ``processes=False`` keeps one constant SNR (single-shot
        benches)."""
        defaults = ChannelConfig  # each default lives in its field, once
        group = parser.add_argument_group("channel")
        group.add_argument(
            "--snr-db",
            type=float,
            default=defaults.snr_db,
            help="channel SNR in dB, P_S / sigma^2 (eq. 6); default %(default)s, the paper's "
            "worst case",
        )
        if processes:
            group.add_argument(
                "--snr-process",
                default=defaults.snr_process,
                help=f"per-segment SNR: {SNR_PROCESSES.help()}; default %(default)s",
            )
            group.add_argument(
                "--snr-std-db",
                type=float,
                default=defaults.snr_std_db,
                help="random-walk spread in dB; default %(default)s",
            )
            group.add_argument(
                "--snr-bad-db",
                type=float,
                default=defaults.snr_bad_db,
                help="gilbert-elliott bad-state SNR in dB; default %(default)s",
            )
            group.add_argument(
                "--snr-trace",
                default=None,
                help="CSV file with one SNR per segment (column snr_db, or the last column); "
                "implies --snr-process trace",
            )
        group.add_argument(
            "--bandwidth-hz",
            type=positive_float,
            default=defaults.bandwidth_hz,
            help="channel bandwidth b in eq. 7, T = b log2(1 + SNR); default %(default).0f",
        )
        group.add_argument(
            "--ber-model",
            default=defaults.ber_model,
            help=f"bit error rate model: {BER_MODEL_CHOICES.help()}; default %(default)s",
        )
        group.add_argument(
            "--overhead-ms",
            type=float,
            default=defaults.overhead_ms,
            help="fixed time on air added per payload (framing, scheduling); default %(default)s",
        )
        add_seed_argument(parser)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ChannelConfig:
        # Single-shot benches have no process flags: the fields' defaults then. A trace given
        # with the default process means the process that reads it.
        trace = getattr(args, "snr_trace", None)
        process = getattr(args, "snr_process", cls.snr_process)
        if trace and process == cls.snr_process:
            process = SNR_PROCESSES.taking("--snr-trace") or process
        return cls(
            snr_db=args.snr_db,
            snr_process=process,
            snr_std_db=getattr(args, "snr_std_db", cls.snr_std_db),
            snr_bad_db=getattr(args, "snr_bad_db", cls.snr_bad_db),
            snr_trace=trace,
            bandwidth_hz=args.bandwidth_hz,
            ber_model=args.ber_model,
            overhead_ms=args.overhead_ms,
            seed=args.seed,
        )
