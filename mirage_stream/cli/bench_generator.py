"""``bench generator``: a real image-to-video model's cost in this pipeline."""

from __future__ import annotations

import argparse

from mirage_stream.cli.common import Subcommands, print_json
from mirage_stream.options import add_json_argument


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "generator",
        help="seconds per generated second, first call, peak memory of an image-to-video model",
        description="Load --model (a diffusers pipeline folder or hub id in the local cache) or "
        "build --architecture NAME with --random-weights (the full-size published "
        "configuration, nothing downloaded; the frames are then meaningless), and time "
        "image-to-video generation at --width x --height, --frames, --steps (guidance off, as "
        "distilled models run). bf16 on a GPU when there is one, float32 on CPU. Prints "
        "s_per_generated_s, first_frame_s, peak_memory_mb (CUDA, else RSS), device, params "
        "(the denoiser's), text_encoder_s (once per prompt) and notes.",
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--model", default=None, help="a diffusers pipeline: folder or hub id")
    group.add_argument(
        "--architecture",
        default=None,
        help="ltx-2b (image-to-video), ltx-2b-condition (each segment continues the last), "
        "ltx-tiny, ltx-tiny-condition (tests)",
    )
    parser.add_argument("--random-weights", action="store_true", help="with --architecture")
    parser.add_argument("--width", type=int, default=768, help="default 768")
    parser.add_argument("--height", type=int, default=512, help="default 512")
    parser.add_argument("--frames", type=int, default=49, help="8k + 1; default 49")
    parser.add_argument("--steps", type=int, default=8, help="default 8 (distilled LTX)")
    parser.add_argument(
        "--repeats", type=int, default=2, help="timed calls after the first; default %(default)s"
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where the model runs (auto: cuda when torch sees a GPU); default %(default)s",
    )
    add_json_argument(parser)
    parser.set_defaults(handler=_generator)


def _generator(args: argparse.Namespace) -> int:
    from mirage_stream.bench.generator import GeneratorBenchConfig, bench_generator

    result = bench_generator(
        GeneratorBenchConfig(
            model=args.model,
            architecture=args.architecture,
            random_weights=args.random_weights,
            width=args.width,
            height=args.height,
            frames=args.frames,
            steps=args.steps,
            repeats=args.repeats,
            device=args.device,
        )
    )
    if args.json:
        print_json(result)
        return 0
    print(
        f"{result.model} on {result.device} ({result.dtype}): "
        f"{result.s_per_generated_s} s per generated second, first call "
        f"{result.first_frame_s} s, peak {result.peak_memory_mb} MB, "
        f"{result.params:,} parameters"
    )
    for note in result.notes:
        print(f"  note: {note}")
    return 0
