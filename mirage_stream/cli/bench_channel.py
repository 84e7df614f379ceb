"""``bench channel``: channel_sim against theory, bit-corruption speed, caption delivery."""

from __future__ import annotations

import argparse

from mirage_stream.cli.common import Subcommands, print_json, stderr_progress
from mirage_stream.options import add_json_argument, add_plot_argument, add_seed_argument


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "channel",
        help="channel_sim vs theory, bit-corruption speed, caption delivery",
        description="Monte-Carlo BER of every model against its closed form from -10 to +10 dB, "
        "bit-corruption throughput on one core at BER 0.1 and 1e-5, and reliable "
        "delivery of 400-byte captions at SNR -10 dB and at BER 1e-3.",
    )
    parser.add_argument(
        "--trials", type=int, default=100_000, help="captions per delivery test; default 100000"
    )
    parser.add_argument(
        "--ber-bits", type=int, default=2_000_000, help="bits per BER point; default 2000000"
    )
    add_seed_argument(parser)
    add_json_argument(parser)
    add_plot_argument(parser, "BER against SNR (theory and Monte Carlo)")
    parser.set_defaults(handler=_channel)


def _channel(args: argparse.Namespace) -> int:
    from mirage_stream.bench.channel import bench_channel, plot_ber

    say = stderr_progress("bench channel")
    result = bench_channel(trials=args.trials, ber_bits=args.ber_bits, seed=args.seed, progress=say)
    if args.plot:
        plot_ber(result.ber, args.plot)
        say(f"BER plot written to {args.plot}")
    if args.json:
        print_json(result)
        return 0
    for row in result.ber:
        print(
            f"{row.model:>6} {row.snr_db:>6.1f} dB  theory {row.theory:.3e}  "
            f"measured {row.measured:.3e}  ({row.bits} bits)"
        )
    print(
        f"bit corruption: {result.throughput_mbit_s['0.1']:.0f} Mbit/s at BER 0.1, "
        f"{result.throughput_mbit_s['1e-05']:.0f} Mbit/s at BER 1e-5"
    )
    for key, c in (("caption", result.caption), ("caption_low_ber", result.caption_low_ber)):
        print(
            f"{key}: {c.trials} x {c.bytes} B at BER {c.ber:.3g}: "
            f"{c.undetected_errors} undetected, {c.failed} failed, "
            f"mean tries {c.mean_tries:.4f}, overhead {c.overhead_ratio:.3f}"
        )
    return 0
