"""``mirage-stream run``: the whole chain on a video file, offline, into a folder."""

from __future__ import annotations

import argparse
import sys

from mirage_stream.cli.common import Subcommands, run_async
from mirage_stream.pipeline import SegmentTrace


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "run",
        help="run the whole chain on a video file, offline",
        description="Cut the input into segments, caption each, encode a keyframe, send the "
        "payload over the simulated channel and generate the segment back. Writes "
        "generated.mp4, side_by_side.mp4 (source | generated), report.json and "
        "config.json into --out.",
    )
    from mirage_stream.run import RunConfig

    RunConfig.add_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-segment progress lines")
    parser.set_defaults(handler=_run)


def _progress(trace: SegmentTrace) -> None:
    bit_errors = 0 if trace.link is None else trace.link.bit_errors
    psnr = "  n/a" if trace.psnr_db is None else f"{trace.psnr_db:5.2f}"
    print(
        f"segment {trace.index:>3}: {trace.payload_bytes.get('total', 0):>4} B on the wire, "
        f"{bit_errors:>4} bit errors, PSNR {psnr} dB | {(trace.caption or '')[:70]}",
        file=sys.stderr,
        flush=True,
    )


def _run(args: argparse.Namespace) -> int:
    from mirage_stream.run import RunConfig, run_file

    config = RunConfig.from_args(args)
    print(
        f"mirage-stream run: {args.input} at SNR {args.snr_db:g} dB -> {args.out}", file=sys.stderr
    )
    result = run_async(run_file(config, on_segment=None if args.quiet else _progress))
    totals = result.report.totals
    print(
        f"done: {totals.segments_played}/{totals.segments} segments, "
        f"{totals.payload_bytes} B sent for {totals.raw_bytes} B of raw video "
        f"(data speed-up {totals.data_speedup}x, latency speed-up {totals.latency_speedup}x), "
        f"mean PSNR {totals.mean_psnr_db} dB, real-time factor {totals.real_time_factor} "
        f"({totals.wall_s} s for {totals.video_s} s of video)\n"
        f"report: {result.report_path}",
        file=sys.stderr,
    )
    return 0
