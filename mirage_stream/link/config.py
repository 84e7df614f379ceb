"""The simulated channel's settings (eq. 5-9): SNR and how it moves, bandwidth, BER model,
fixed overhead, the seed of the bit flips; with their options and the SNR processes by name."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass, field
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
from mirage_stream.registry import BackendOptions, NoOptions, Registry

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


@dataclass(frozen=True)
class RandomWalkOptions:
    """``--snr-process random-walk``: how far the Gauss-Markov SNR strays from --snr-db."""

    std_db: float = 3.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.std_db) and self.std_db >= 0):
            raise InputError(f"--snr-std-db must be non-negative, got {self.std_db}")

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument(
            "--snr-std-db",
            type=float,
            default=cls.std_db,
            help="the random walk's spread in dB; default %(default)s",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RandomWalkOptions:
        return cls(args.snr_std_db)


@dataclass(frozen=True)
class BadStateOptions:
    """``--snr-process gilbert-elliott``: the bad state's SNR (--snr-db is the good state's)."""

    bad_db: float = -15.0

    def __post_init__(self) -> None:
        low, high = SNR_RANGE_DB
        if not (math.isfinite(self.bad_db) and low <= self.bad_db <= high):
            raise InputError(f"--snr-bad-db must be in [{low:g}, {high:g}], got {self.bad_db}")

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument(
            "--snr-bad-db",
            type=float,
            default=cls.bad_db,
            help="the bad state's SNR in dB; default %(default)s",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BadStateOptions:
        return cls(args.snr_bad_db)


@dataclass(frozen=True)
class TraceOptions:
    """``--snr-process trace``: the CSV with one SNR per segment."""

    path: str

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument(
            "--snr-trace",
            default=None,
            metavar="CSV",
            help="CSV file with one SNR per segment (column snr_db, or the last column); "
            "given alone, it implies --snr-process trace",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TraceOptions:
        return cls(args.snr_trace)


def _random_walk(config: ChannelConfig) -> SnrProcess:
    options = config.snr_process_options
    assert isinstance(options, RandomWalkOptions)  # ChannelConfig checks the class
    return GaussMarkovSnr(config.snr_db, options.std_db, seed=config.seed)


def _gilbert_elliott(config: ChannelConfig) -> SnrProcess:
    options = config.snr_process_options
    assert isinstance(options, BadStateOptions)
    return GilbertElliottSnr(config.snr_db, options.bad_db, seed=config.seed)


def _trace(config: ChannelConfig) -> SnrProcess:
    options = config.snr_process_options
    assert isinstance(options, TraceOptions)
    try:
        return TraceSnr.from_csv(Path(options.path))
    except (ValueError, OSError) as error:
        raise InputError(f"--snr-trace: {error}") from None


SNR_PROCESSES: Registry[Callable[[ChannelConfig], SnrProcess]] = Registry(
    "SNR process", "--snr-process"
)
SNR_PROCESSES.add("constant", "every segment at --snr-db", lambda c: ConstantSnr(c.snr_db))
SNR_PROCESSES.add(
    "random-walk",
    "Gauss-Markov around --snr-db, spread --snr-std-db",
    _random_walk,
    options=RandomWalkOptions,
)
SNR_PROCESSES.add(
    "gilbert-elliott",
    "good state --snr-db, bad state --snr-bad-db",
    _gilbert_elliott,
    options=BadStateOptions,
)
SNR_PROCESSES.add(
    "trace",
    "one SNR per segment from the --snr-trace CSV",
    _trace,
    options=TraceOptions,
    needs=("a CSV of SNRs in dB: --snr-trace FILE",),
    requires=("--snr-trace CSV",),
)


@dataclass(frozen=True)
class ChannelConfig:
    snr_db: float = -10.0
    snr_process: str = "constant"
    # The chosen process's own options, of the class its entry names (RandomWalkOptions,
    # BadStateOptions, TraceOptions; none for "constant").
    snr_process_options: BackendOptions = field(default_factory=NoOptions)
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
        SNR_PROCESSES.check(self.snr_process, self.snr_process_options)

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
            SNR_PROCESSES.add_arguments(
                parser, group, defaults.snr_process, "how the SNR moves from segment to segment"
            )
        group.add_argument(
            "--bandwidth-hz",
            type=positive_float,
            default=defaults.bandwidth_hz,
            help="channel bandwidth b in eq. 7, T = b log2(1 + SNR); default %(default).0f",
        )
        BER_MODEL_CHOICES.add_arguments(parser, group, defaults.ber_model, "bit error rate model")
        group.add_argument(
            "--overhead-ms",
            type=float,
            default=defaults.overhead_ms,
            help="fixed time on air added per payload (framing, scheduling); default %(default)s",
        )
        add_seed_argument(parser)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ChannelConfig:
        # Single-shot benches have no process flags: one constant SNR then. A trace given
        # with the default process means the process that reads it.
        process = getattr(args, "snr_process", cls.snr_process)
        if getattr(args, "snr_trace", None) and process == cls.snr_process:
            process = SNR_PROCESSES.taking("--snr-trace") or process
        options = (
            SNR_PROCESSES.options_from_args(process, args)
            if hasattr(args, "snr_process")
            else NoOptions()
        )
        return cls(
            snr_db=args.snr_db,
            snr_process=process,
            snr_process_options=options,
            bandwidth_hz=args.bandwidth_hz,
            ber_model=args.ber_model,
            overhead_ms=args.overhead_ms,
            seed=args.seed,
        )
