"""``bench receiver``: receiver cost, generation queue depth, caption consistency per style."""

from __future__ import annotations

import argparse

from mirage_stream.cli.common import Subcommands, print_json, stderr_progress
from mirage_stream.options import add_json_argument


def register(benches: Subcommands) -> None:
    from mirage_stream.run import RunConfig

    parser = benches.add_parser(
        "receiver",
        help="receiver cost, generation queue depth, caption consistency per style and codec",
        description="Run the whole chain on --input (every option of `run` applies) and report "
        "the receiver's rtf (decode, prompt and generation seconds per second of video), per "
        "stage, the generation queue's deepest fill, sbert (caption consistency: the offline "
        "captioner on source and generated video, compared with Sentence-BERT, mean over "
        "segments) and styles, a Table-5-like list of sbert per style and codec.",
    )
    # Every run writes into a scratch folder: no --out.
    RunConfig.add_arguments(parser, default_input="sample:carphone", with_out=False)
    parser.add_argument(
        "--styles",
        default=None,
        help="comma-separated styles for the styles table; default every preset "
        "(none, cinematic, animation, oil-painting)",
    )
    parser.add_argument(
        "--style-codecs", default="vq,ae", help="codecs for the styles table; default vq,ae"
    )
    parser.add_argument(
        "--labels",
        default=None,
        help="score the facts found in the source and in the generated video against "
        "hand-written labels: caption-set:NAME (a clip of the composed set; pass its video, "
        "written by bench caption-set, as --input), real:NAME (a clip of the real-footage set; "
        "pass its file under footage/real, or the excerpt bench caption --clips DIR writes, as "
        "--input) or a labels file with one clip",
    )
    add_json_argument(parser)
    parser.set_defaults(handler=_receiver)


def _receiver(args: argparse.Namespace) -> int:
    from mirage_stream.bench.receiver import STYLES, ReceiverBenchConfig, bench_receiver
    from mirage_stream.run import RunConfig

    config = ReceiverBenchConfig(
        run=RunConfig.from_args(args),
        styles=tuple(args.styles.split(",")) if args.styles else STYLES,
        style_codecs=tuple(args.style_codecs.split(",")),
        labels=args.labels,
    )
    result = bench_receiver(config, progress=stderr_progress("bench receiver"))
    if args.json:
        print_json(result)
        return 0
    print(
        f"receiver on {result.input}: rtf {result.rtf}, generation queue depth max "
        f"{result.queue_depth_max}, SBERT {result.sbert}"
    )
    for row in result.styles:
        print(f"  {row.style:>13} {row.codec:>3}: SBERT {row.sbert}")
    for side, scored in (result.label_facts or {}).items():
        print(f"  facts of the {side} against the labels: {len(scored.false_statements)} false")
    return 0
