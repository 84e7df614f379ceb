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
    from mirage_stream.records import EvaluationRecord, LinkRecord, caption_of

    carried, evaluated = trace.record(LinkRecord), trace.record(EvaluationRecord)
    bit_errors = 0 if carried is None else carried.report.bit_errors
    wire_bytes = 0 if carried is None else carried.payload_bytes.get("total", 0)
    psnr = "  n/a" if evaluated is None else f"{evaluated.psnr_db:5.2f}"
    print(
        f"segment {trace.index:>3}: {wire_bytes:>4} B on the wire, "
        f"{bit_errors:>4} bit errors, PSNR {psnr} dB | {(caption_of(trace) or '')[:70]}",
        file=sys.stderr,
        flush=True,
    )


def _run(args: argparse.Namespace) -> int:
    from mirage_stream.run import RunConfig, run_file
    from mirage_stream.sources import resolve_input

    config = RunConfig.from_args(args)
    if config.input.input is not None:  # a missing file says so before any progress line
        resolve_input(config.input.input)
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
