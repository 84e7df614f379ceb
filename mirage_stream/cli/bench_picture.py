"""``bench picture``: the source next to what the receiver shows, at each SNR."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirage_stream.cli.common import Subcommands, print_json, stderr_progress
from mirage_stream.errors import InputError
from mirage_stream.options import add_json_argument
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.config import InputConfig


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "picture",
        help="what a person sees: source | received at each SNR, with PSNR, faces, time on air",
        description="Run the whole chain on each --input at each --snr-db (every sender and "
        "receiver option of `run` applies; --input also takes real:NAME, a clip of the "
        "real-footage set) and report per run mean_psnr_db, hold_psnr_db (the nearest "
        "decoded keyframe held, same frames), above_hold_db, ghosting (double-image share), "
        "face_found_rate, payload_bytes_per_segment, time_on_air_ms_per_segment and max, "
        "keyframes_protected_share and bit_errors; --figure draws the middle frame of the "
        "first segment: source | received at each SNR, one row per input.",
    )
    # --input as in `run`, here also a comma-separated list; likewise --snr-db.
    InputConfig.add_arguments(parser, default_input="sample:carphone,sample:bikes")
    parser.add_argument(
        "--snr-db", default="-10,10", help="comma-separated channel SNRs in dB; default -10,10"
    )
    SenderConfig.add_arguments(parser)
    ReceiverConfig.add_arguments(parser)
    parser.add_argument(
        "--real-set",
        choices=("tune", "test", "all"),
        default=None,
        help="also run every clip of that half of the real-footage set (footage/real/, a clone "
        "of the repository); a single clip is --input real:NAME",
    )
    parser.add_argument(
        "--compare-track",
        action="store_true",
        help="run each input twice, without and with the sender's motion track (rows gain "
        "motion_track); the figure then shows, per input, the frame of the first segment the "
        "track changed most: source | received without | with the track",
    )
    parser.add_argument("--figure", default=None, metavar="PNG", help="draw the picture grid")
    add_json_argument(parser)
    parser.set_defaults(handler=_picture)


def _picture(args: argparse.Namespace) -> int:
    from mirage_stream.bench.picture import PictureBenchConfig, bench_picture
    from mirage_stream.run import RunConfig

    try:
        snrs = tuple(float(value) for value in args.snr_db.split(","))
    except ValueError:
        raise InputError(f"--snr-db must be comma-separated numbers, got {args.snr_db!r}") from None
    inputs = tuple(name.strip() for name in args.input.split(",") if name.strip())
    template = RunConfig(
        input=InputConfig.from_args(
            argparse.Namespace(
                **{**vars(args), "input": inputs[0] if inputs else "sample:carphone"}
            )
        ),
        out=Path("unused"),
        sender=SenderConfig.from_args(args),
        receiver=ReceiverConfig.from_args(args),
    )
    config = PictureBenchConfig(
        inputs=inputs,
        snrs_db=snrs,
        run=template,
        real_set=args.real_set,
        compare_track=args.compare_track,
    )
    say = stderr_progress("bench picture")
    result = bench_picture(config, Path(args.figure) if args.figure else None, progress=say)
    if args.json:
        print_json(result)
        return 0
    for row in result.rows:
        print(
            f"{row.input:>18} {row.snr_db:>6g} dB: PSNR {row.mean_psnr_db} dB (hold "
            f"{row.hold_psnr_db} dB, ghosting {row.ghosting}), faces "
            f"{row.face_found_rate}, {row.payload_bytes_per_segment} B and "
            f"{row.time_on_air_ms_per_segment} ms on air per segment"
        )
    return 0
