"""``bench caption``: the offline captioner's claims scored against hand-written labels."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirage_stream.bench import quiet
from mirage_stream.cli.common import Subcommands, print_json, stderr_progress
from mirage_stream.options import add_json_argument


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "caption",
        help="caption truth: per-fact precision and recall against labels, false statements",
        description="Caption every clip of the labelled evaluation sets with the sender and "
        "score every claim against the clip's hand-written labels. Two sets: real (camera "
        "footage from public repositories, footage/real in a clone, split into tune and test "
        "sources) and composed (22 clips this project builds: parts of the shipped samples and "
        "scenes composed from images that installed packages ship). Reports, per set, for the "
        "tune and the test half and in all: segments, per-fact precision and recall, "
        "false_statements (claims a label contradicts, with their sentence), people_recall "
        "(clips with someone at least 30 px tall at source resolution), count_accuracy, "
        "vehicle_recall, hands_recall, the caller's face (expression_recall, looks_recall, "
        "glasses_recall: of the labelled expressions, head directions and glasses, the share "
        "said), setting_accuracy, action_recall, walking_recall and the sender's rtf (analysis "
        "and caption seconds per second of video). With --input, one video scored against "
        "--labels.",
    )
    parser.add_argument(
        "--input",
        default=None,
        help="one video (a path or sample:NAME) instead of the evaluation set; needs --labels",
    )
    parser.add_argument(
        "--labels",
        default=None,
        help="with --input: caption-set:NAME, real:NAME or a labels file with one clip; without: a "
        "labels file to use instead of the shipped one",
    )
    parser.add_argument(
        "--split", choices=("tune", "test", "all"), default="all", help="default all"
    )
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        choices=("composed", "real"),
        default=None,
        help="which evaluation set (repeat for both; default both): composed = scenes this "
        "project composed, real = camera footage from outside it (footage/real in a clone)",
    )
    parser.add_argument(
        "--clips", default=None, help="folder to write (and reuse) the clips in; default: scratch"
    )
    add_json_argument(parser)
    parser.set_defaults(handler=_caption)

    maker = benches.add_parser(
        "caption-set",
        help="write the caption evaluation set's clips (and a contact sheet) to a folder",
        description="Write every clip of the labelled evaluation set to --out in the container "
        "its recipe names, and with --sheet a PNG contact sheet (first, middle and last frame "
        "of each clip) for checking the labels by eye.",
    )
    maker.add_argument("--out", required=True, help="folder for the clips")
    maker.add_argument("--sheet", default=None, help="write a contact sheet PNG here")
    maker.set_defaults(handler=_make_set)


def _caption(args: argparse.Namespace) -> int:
    from mirage_stream.bench.caption import CaptionBenchConfig, bench_caption

    config = CaptionBenchConfig(
        input=args.input,
        labels=args.labels,
        split=args.split,
        sets=tuple(args.sets or ("composed", "real")),
        clips_dir=Path(args.clips) if args.clips else None,
    )
    say = quiet if args.json else stderr_progress("bench caption")
    result = bench_caption(config, progress=say)
    if args.json:
        print_json(result)
        return 0
    for set_name, halves in result.sets.items():
        for name, scored in halves.items():
            print(
                f"{set_name} {name}: {scored.clips} clips, {len(scored.false_statements)} "
                f"false statements, people recall {scored.people_recall}, count accuracy "
                f"{scored.count_accuracy}, vehicle recall {scored.vehicle_recall}, hands "
                f"recall {scored.hands_recall}, face: expressions "
                f"{scored.expression_recall}, looks {scored.looks_recall}, glasses "
                f"{scored.glasses_recall}, setting accuracy {scored.setting_accuracy}, "
                f"rtf {scored.rtf}"
            )
            if name == "all":
                continue
            for wrong in scored.false_statements:
                print(f"  false ({wrong.clip}): {wrong.sentence}")
    return 0


def _make_set(args: argparse.Namespace) -> int:
    from mirage_stream.bench.caption_set import contact_sheet, load_caption_set, write_clip

    clips = load_caption_set()
    out = Path(args.out)
    for clip in clips:
        print(write_clip(clip, out))
    if args.sheet:
        print(contact_sheet(clips, Path(args.sheet)))
    return 0
