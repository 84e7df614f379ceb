"""``bench portrait``: the caller as the receiver shows them, against AV1 and H.264."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirage_stream.cli.common import Subcommands, print_json, stderr_progress
from mirage_stream.options import add_json_argument


def register(benches: Subcommands) -> None:
    parser = benches.add_parser(
        "portrait",
        help="the person in a call: identity, expression and bytes against AV1 and H.264",
        description="Run the whole chain on each --input (comma-separated; any video, "
        "sample:NAME, portrait:NAME for a clip of footage/portrait/, or portrait:test / tune / "
        "all for a half of that set) with and without the caller's reference and face track, "
        "code the same frames with AV1 and H.264 (coarsest quantiser, size and rate lowered "
        "until they fit) and as held AV1 stills, at Mirage's bytes and at ten times them, and "
        "score every --sample-every-th frame with dlib's face recogniser: identity distance "
        "(under 0.6: the same person), same_person_share, found_share, landmark_error (68 "
        "points over the eye distance), mouth_correlation, face PSNR/SSIM; per clip also "
        "bytes per segment split into reference, face track and the rest, the track's kbit/s "
        "and the sender's and receiver's milliseconds per frame. Needs the bench extra "
        "(pip install -e '.[bench]': dlib-bin, face-recognition-models).",
    )
    parser.add_argument(
        "--input",
        default="portrait:test",
        help="comma-separated inputs (see above); default %(default)s",
    )
    parser.add_argument(
        "--sample-every",
        type=int,
        default=5,
        metavar="N",
        help="score every N-th frame; default %(default)s",
    )
    parser.add_argument(
        "--no-baselines",
        action="store_true",
        help="score Mirage with and without the portrait only (no AV1 / H.264)",
    )
    parser.add_argument(
        "--snr-db", type=float, default=-10.0, help="channel SNR in dB; default %(default)s"
    )
    parser.add_argument(
        "--pingpong-seconds",
        type=float,
        default=None,
        metavar="S",
        help="play each input forwards, backwards, forwards... to S seconds: a long call "
        "from a short clip, without the cut a loop would make",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="read at most this many seconds of each input",
    )
    parser.add_argument(
        "--figure",
        default=None,
        metavar="PNG",
        help="draw the first three inputs at three moments each: source | received without "
        "the portrait | with it",
    )
    add_json_argument(parser)
    parser.set_defaults(handler=_portrait)


def _portrait(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from mirage_stream.bench.portrait import PortraitBenchConfig, bench_portrait
    from mirage_stream.errors import InputError
    from mirage_stream.link.config import ChannelConfig
    from mirage_stream.run import RunConfig
    from mirage_stream.sources.config import InputConfig

    inputs = tuple(name.strip() for name in args.input.split(",") if name.strip())
    if not inputs:
        raise InputError("--input: give at least one input")
    template = RunConfig(
        input=InputConfig(input="sample:carphone", max_seconds=args.max_seconds),
        out=Path("unused"),
        channel=replace(ChannelConfig(), snr_db=args.snr_db),
    )
    config = PortraitBenchConfig(
        inputs=inputs,
        sample_every=args.sample_every,
        baselines=not args.no_baselines,
        pingpong_s=args.pingpong_seconds,
        run=template,
    )
    result = bench_portrait(
        config,
        progress=stderr_progress("bench portrait"),
        figure=Path(args.figure) if args.figure else None,
    )
    if args.json:
        print_json(result.to_json())
        return 0
    for clip in result.clips:
        for scheme in clip.schemes:
            s = scheme.scores
            shown = (
                "no face scored"
                if s is None
                else (
                    f"same person {s.same_person_share:.2f}, distance {s.mean_distance}, found "
                    f"{s.found_share:.2f}, landmarks {s.landmark_error:.3f}, mouth r "
                    f"{s.mouth_correlation}"
                )
            )
            per_segment = f"{scheme.bytes_per_segment:8.0f} B/seg"
            print(f"{clip.input:>28} {scheme.scheme:>20}: {per_segment}, {shown}")
    return 0
