"""``bench codec``: keyframe codecs against AV1 and JPEG at matched bytes, on held-out frames."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirage_stream.cli.common import Subcommands, print_json, stderr_progress
from mirage_stream.options import add_json_argument, add_plot_argument, add_seed_argument
from mirage_stream.sources.config import add_input_argument


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "codec",
        help="keyframe codecs vs AV1 and JPEG at matched bytes, on held-out frames",
        description="On --frames frames of --input at 320x240: bytes, bpp, PSNR, SSIM and "
        "encode+decode time of the vq (every shipped K), ae (q = 2..8) and "
        "thumbnail codecs, and of AV1 and JPEG downscaled to fit --budget-bytes; "
        "plus PSNR of the K=256 codec under bit errors, lattice vs random index "
        "order. --input also takes real:test, real:tune or real:all (--frames spread over "
        "that half of the real-footage set's clips, at least one each) and real:NAME.",
    )
    add_input_argument(parser, "sample:bikes")
    parser.add_argument("--frames", type=int, default=10, help="held-out frames; default 10")
    parser.add_argument(
        "--budget-bytes",
        type=int,
        default=256,
        help="byte budget for AV1 and JPEG; default 256 (K=256 on 16x16)",
    )
    add_seed_argument(parser)
    add_json_argument(parser)
    add_plot_argument(parser, "PSNR against BER for both index orders")
    parser.set_defaults(handler=_codec)


def _codec(args: argparse.Namespace) -> int:
    from mirage_stream.bench.codec import bench_codec, plot_robustness

    say = stderr_progress("bench codec")
    result = bench_codec(
        args.input, frames=args.frames, budget=args.budget_bytes, seed=args.seed, progress=say
    )
    if args.plot and result.robustness is not None:
        plot_robustness(result.robustness, Path(args.plot))
        say(f"robustness plot written to {args.plot}")
    if args.json:
        print_json(result)
        return 0
    for row in result.rows:
        setting = row.K or row.q or row.budget_bytes or ""
        print(
            f"{row.codec:>9} {setting!s:>5} {row.bytes:>9.1f} B  {row.bpp:.4f} bpp  "
            f"PSNR {row.psnr_db:6.2f} dB  SSIM {row.ssim:.3f}  {row.ms:7.1f} ms"
        )
    return 0
