"""``mirage-stream``: run the Mirage chain on a file, benchmark it, or show what is installed."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from mirage_stream.errors import InputError, MirageError
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.sources import SAMPLES

if TYPE_CHECKING:
    from mirage_stream.sender.factory import SenderOptions

log = logging.getLogger("mirage_stream")

T = TypeVar("T")

INPUT_HELP = "a video file (any container PyAV reads) or sample:NAME with NAME one of " + ", ".join(
    sorted(SAMPLES)
)


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed, else on the default asyncio loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def _progress(trace: SegmentTrace) -> None:
    parts = trace.facts.get("payload_bytes", {})
    link = trace.facts.get("link")
    psnr = trace.facts.get("psnr_db")
    print(
        f"segment {trace.index:>3}: {parts.get('total', 0):>4} B on the wire, "
        f"{getattr(link, 'bit_errors', 0):>4} bit errors, "
        f"PSNR {psnr:5.2f} dB | {trace.facts.get('caption', '')[:70]}",
        file=sys.stderr,
        flush=True,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from mirage_stream.run import RunConfig, run_file

    config = RunConfig(
        input=args.input,
        out=Path(args.out),
        snr_db=args.snr_db,
        snr_process=args.snr_process,
        snr_std_db=args.snr_std_db,
        snr_bad_db=args.snr_bad_db,
        snr_trace=args.snr_trace,
        segment_s=args.segment_s,
        width=args.width,
        height=args.height,
        max_seconds=args.max_seconds,
        sender=sender_options(args),
        bandwidth_hz=args.bandwidth_hz,
        overhead_ms=args.overhead_ms,
        seed=args.seed,
        profile=args.profile,
        keyframe_strength=args.keyframe_strength,
        generator=args.generator,
        diffusion_model=args.diffusion_model,
        realtime=args.realtime,
        generation_queue=args.generation_queue,
        damaged_keyframes=args.damaged_keyframes,
        playout_delay_s=args.playout_delay_s,
    )
    print(
        f"mirage-stream run: {args.input} at SNR {args.snr_db:g} dB -> {args.out}", file=sys.stderr
    )
    result = run_async(run_file(config, on_segment=None if args.quiet else _progress))
    totals = result.report["totals"]
    print(
        f"done: {totals['segments_played']}/{totals['segments']} segments, "
        f"{totals['payload_bytes']} B sent for {totals['raw_bytes']} B of raw video "
        f"(data speed-up {totals['data_speedup']}x, "
        f"latency speed-up {totals['latency_speedup']}x), "
        f"mean PSNR {totals['mean_psnr_db']} dB, real-time factor {totals['real_time_factor']} "
        f"({totals['wall_s']} s for {totals['video_s']} s of video)\n"
        f"report: {result.report_path}",
        file=sys.stderr,
    )
    return 0


def _cmd_bench_table1(args: argparse.Namespace) -> int:
    from mirage_stream.bench.table1 import Table1Config, table1

    result = table1(
        Table1Config(
            input=args.input,
            frames=args.frames,
            snr_db=args.snr_db,
            bandwidth_hz=args.bandwidth_hz,
            overhead_ms=args.overhead_ms,
            codecs=tuple(args.codecs.split(",")),
        )
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{'scheme':<34}{'bytes':>12}{'bpp':>10}{'latency ms':>14}{'data x':>12}{'latency x':>12}"
    )
    for row in result["rows"]:
        print(
            f"{row['scheme']:<34}{row['bytes']:>12}{row['bpp']:>10.4f}{row['latency_ms']:>14.2f}"
            f"{row['data_speedup']:>12.1f}{row['latency_speedup']:>12.1f}"
        )
    return 0


def _stderr_progress(prefix: str) -> Callable[[str], None]:
    """Progress lines on stderr, so that --json output on stdout stays clean."""

    def say(message: str) -> None:
        print(f"{prefix}: {message}", file=sys.stderr, flush=True)

    return say


def _cmd_bench_channel(args: argparse.Namespace) -> int:
    from mirage_stream.bench.channel import bench_channel

    say = _stderr_progress("bench channel")
    result = bench_channel(trials=args.trials, ber_bits=args.ber_bits, seed=args.seed, progress=say)
    if args.plot:
        from mirage_stream.bench.channel import plot_ber

        plot_ber(result["ber"], args.plot)
        say(f"BER plot written to {args.plot}")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for row in result["ber"]:
        print(
            f"{row['model']:>6} {row['snr_db']:>6.1f} dB  theory {row['theory']:.3e}  "
            f"measured {row['measured']:.3e}  ({row['bits']} bits)"
        )
    print(
        f"bit corruption: {result['throughput_mbit_s']['0.1']:.0f} Mbit/s at BER 0.1, "
        f"{result['throughput_mbit_s']['1e-05']:.0f} Mbit/s at BER 1e-5"
    )
    for key in ("caption", "caption_low_ber"):
        c = result[key]
        print(
            f"{key}: {c['trials']} x {c['bytes']} B at BER {c['ber']:.3g}: "
            f"{c['undetected_errors']} undetected, {c['failed']} failed, "
            f"mean tries {c['mean_tries']:.4f}, overhead {c['overhead_ratio']:.3f}"
        )
    return 0


def _cmd_bench_codec(args: argparse.Namespace) -> int:
    from mirage_stream.bench.codec import bench_codec, plot_robustness

    say = _stderr_progress("bench codec")
    result = bench_codec(
        args.input, frames=args.frames, budget=args.budget_bytes, seed=args.seed, progress=say
    )
    if args.plot and "robustness" in result:
        plot_robustness(result["robustness"], Path(args.plot))
        say(f"robustness plot written to {args.plot}")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for row in result["rows"]:
        setting = row.get("K") or row.get("q") or row.get("budget_bytes") or ""
        print(
            f"{row['codec']:>9} {setting!s:>5} {row['bytes']:>9.1f} B  {row['bpp']:.4f} bpp  "
            f"PSNR {row['psnr_db']:6.2f} dB  SSIM {row['ssim']:.3f}  {row['ms']:7.1f} ms"
        )
    return 0


def _cmd_bench_sender(args: argparse.Namespace) -> int:
    from mirage_stream.bench.sender import SenderBenchConfig, bench_sender

    config = SenderBenchConfig(
        input=args.input,
        segment_s=args.segment_s,
        max_seconds=args.max_seconds,
        sender=sender_options(args),
    )
    result = bench_sender(config, progress=not args.json)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"sender on {result['input']}: rtf {result['rtf']} ({result['segments']} segments, "
        f"{result['video_s']} s of video), peak RSS {result['peak_rss_mb']} MB, "
        f"{result['bytes_per_segment']} B per segment, "
        f"{result['keyframes_skipped']} keyframes skipped"
    )
    for name, rtf in result["stages"].items():
        print(f"  {name:>8}: {rtf}")
    return 0


def _cmd_bench_receiver(args: argparse.Namespace) -> int:
    from mirage_stream.bench.receiver import STYLES, ReceiverBenchConfig, bench_receiver

    config = ReceiverBenchConfig(
        input=args.input,
        snr_db=args.snr_db,
        codec=args.codec,
        styles=tuple(args.styles.split(",")) if args.styles else STYLES,
        style_codecs=tuple(args.style_codecs.split(",")),
        max_seconds=args.max_seconds,
        seed=args.seed,
    )
    result = bench_receiver(config, progress=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"receiver on {result['input']}: rtf {result['rtf']}, generation queue depth max "
        f"{result['queue_depth_max']}, SBERT {result['sbert']}"
    )
    for row in result["styles"]:
        print(f"  {row['style']:>13} {row['codec']:>3}: SBERT {row['sbert']}")
    return 0


def _cmd_bench_live(args: argparse.Namespace) -> int:
    from mirage_stream.bench.live import LiveBenchConfig, bench_live

    if args.calls < 1 or args.calls > 16:
        raise InputError(f"--calls must be in [1, 16], got {args.calls}")
    config = LiveBenchConfig(
        calls=args.calls,
        input=args.input,
        seconds=args.seconds,
        segment_s=args.segment_s,
        snr_db=args.snr_db,
    )
    result = bench_live(config)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['calls']} calls: g2g p50 {result['g2g_p50_s']} s, p95 {result['g2g_p95_s']} s; "
        f"{result['segments_played']}/{result['segments_sent']} segments played, "
        f"{result['segments_lost']} lost, {result['captions_lost']} captions lost; "
        f"{result['cpu_per_call']} cores per call; "
        f"held in real time: {result['held_real_time']}"
    )
    return 0


def _cmd_bench_rate(args: argparse.Namespace) -> int:
    from mirage_stream.bench.rate import RateBenchConfig, bench_rate, plot_rate

    config = RateBenchConfig(
        input=args.input,
        segments=args.segments,
        budget_ms=args.latency_budget_ms,
        snr_db=args.snr_db,
        snr_std_db=args.snr_std_db,
        snr_bad_db=args.snr_bad_db,
        bandwidth_hz=args.bandwidth_hz,
        seed=args.seed,
    )
    result = bench_rate(config, progress=True)
    if args.plot:
        plot_rate(result, Path(args.plot))
        print(f"bench rate: plot written to {args.plot}", file=sys.stderr)
    for row in result["processes"]:
        row.pop("series")  # per-segment traces: for the plot, too long to print
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for row in result["processes"]:
        print(
            f"{row['process']:>16}: budget met in {row['budget_met_share']:.2%} of "
            f"{row['segments']} segments, p99 time on air {row['p99_time_on_air_ms']:.2f} ms"
        )
    return 0


def _cmd_calibrate_codecs(args: argparse.Namespace) -> int:
    from mirage_stream.bench.codec import held_out_frames
    from mirage_stream.codecs.quality import (
        QUALITY_FILE,
        SHIPPED_SETTINGS,
        calibrate,
        save_quality,
    )

    say = _stderr_progress("calibrate-codecs")
    frames = held_out_frames(args.input, args.frames)
    table = []
    for setting in SHIPPED_SETTINGS:
        say(f"measuring {setting}")
        table.append(calibrate(setting, frames, seed=args.seed))
    out = Path(args.out) if args.out else QUALITY_FILE
    save_quality(table, out)
    say(f"written {out}")
    return 0


def sender_options(args: argparse.Namespace) -> SenderOptions:
    """The sender's flags (see ``add_sender_args``) as ``SenderOptions``."""
    from mirage_stream.sender.factory import SenderOptions

    return SenderOptions(
        captioner=args.captioner,
        vlm_model=args.vlm_model,
        allow_download=args.allow_download,
        clip_model=args.clip_model,
        granularity=args.granularity,
        privacy=args.privacy,
        face_policy=args.faces,
        codec=args.codec,
        max_keyframes=args.max_keyframes,
        keyframe_fec_parity=args.keyframe_fec,
        latency_budget_ms=args.latency_budget_ms,
    )


def _cmd_train_codec(args: argparse.Namespace) -> int:
    import torch

    from mirage_stream.codecs.learned.train import TrainConfig, ae_preset, train, vq_preset

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(max(1, args.threads))
    if args.kind == "vq":
        model_config = vq_preset(args.codebook)
        settings = TrainConfig(
            steps=args.steps, batch_size=args.batch_size, crop_size=(64, 64), seed=args.seed
        )
    else:
        model_config = ae_preset()
        settings = TrainConfig(
            steps=args.steps,
            batch_size=args.batch_size,
            crop_size=(96, 96),
            seed=args.seed,
            quantiser_bits=(2, 3, 4, 6, 8),
        )
    out = Path(args.out)
    start = time.perf_counter()

    def progress(step: int, psnr: float) -> None:
        elapsed = time.perf_counter() - start
        print(
            f"step {step:>6}/{args.steps}  training PSNR {psnr:5.2f} dB  {elapsed:7.1f} s",
            file=sys.stderr,
            flush=True,
        )

    train(model_config, settings, out, device=device, progress=progress)
    print(f"saved {args.kind} weights to {out}", file=sys.stderr)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from channel_sim import BER_MODELS
    from mirage_stream.codecs import available_codecs

    packages = [
        "mirage-stream",
        "aiortc",
        "av",
        "torch",
        "transformers",
        "diffusers",
        "numpy",
        "scipy",
        "uvloop",
        "msgpack",
        "opencv-python-headless",
        "scikit-video",
    ]
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    info = {
        "python": sys.version.split()[0],
        "packages": versions,
        "backends": {
            "captioner": ["measured-facts"],
            "keyframe_selector": ["sharpest"],
            "codec": available_codecs(),
            "generator": ["keyframe-motion"],
            "ber_model": sorted(BER_MODELS),
        },
        "samples": sorted(SAMPLES),
    }
    print(json.dumps(info, indent=2))
    return 0


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _add_channel_args(parser: argparse.ArgumentParser, with_codec: bool = True) -> None:
    parser.add_argument(
        "--snr-db",
        type=float,
        default=-10.0,
        help="channel SNR in dB, P_S / sigma^2 (eq. 6); default -10, the paper's worst case",
    )
    parser.add_argument(
        "--bandwidth-hz",
        type=_positive_float,
        default=20e6,
        help="channel bandwidth b in eq. 7, T = b log2(1 + SNR); default 20e6",
    )
    parser.add_argument(
        "--overhead-ms",
        type=float,
        default=0.0,
        help="fixed time on air added per payload (framing, scheduling); default 0",
    )
    if with_codec:
        parser.add_argument(
            "--codec",
            default="vq",
            help="keyframe codec, name or name:variant: vq (trained FSQ-VAE, K256), ae "
            "(q-bit autoencoder, q8) or thumbnail (baseline); default vq",
        )


def add_sender_args(parser: argparse.ArgumentParser) -> None:
    """What the sender says and sends: captioner, granularity, privacy, keyframes, rate."""
    group = parser.add_argument_group("sender")
    group.add_argument(
        "--captioner",
        default="measured-facts",
        help="measured-facts (offline: faces, people, talking, camera and subject motion, "
        "light, setting, colours, cuts) or vlm (a transformers image-text-to-text model "
        "from --vlm-model); default measured-facts",
    )
    group.add_argument(
        "--vlm-model",
        default=None,
        metavar="PATH_OR_ID",
        help="model folder or hub id for --captioner vlm (read from the local cache only, "
        "unless --allow-download)",
    )
    group.add_argument(
        "--clip-model",
        default=None,
        metavar="PATH_OR_ID",
        help="CLIP folder or hub id: adds caption relevance to the keyframe score (eq. 4)",
    )
    group.add_argument(
        "--allow-download",
        action="store_true",
        help="let --vlm-model and --clip-model download from the hub",
    )
    group.add_argument(
        "--granularity",
        default="normal",
        help="caption detail: short, normal or detailed; default normal",
    )
    group.add_argument(
        "--privacy",
        action="store_true",
        help="captions without identity words (gender, age, ethnicity, skin, hair)",
    )
    group.add_argument(
        "--faces",
        default="keep",
        help="faces in keyframes before encoding: keep, blur or mask; default keep",
    )
    group.add_argument(
        "--max-keyframes",
        type=int,
        default=1,
        help="keyframes per segment, 0-4 (fewer when the scene has not changed); default 1",
    )
    group.add_argument(
        "--keyframe-fec",
        type=int,
        default=0,
        metavar="PARITY",
        help="light FEC on keyframe symbols: Reed-Solomon parity bytes per 255-byte block "
        "(even, 0-64; helps at BER around 1e-3, useless at -10 dB); default 0",
    )
    group.add_argument(
        "--latency-budget-ms",
        type=_positive_float,
        default=None,
        help="turn the rate adapter on: per segment it picks codec, keyframe count, caption "
        "detail and FEC to fit this time on air at the SNR the receiver reports",
    )


def add_receiver_args(parser: argparse.ArgumentParser) -> None:
    """How the receiver renders: profile (identity, style, safety), generator, theta_g."""
    group = parser.add_argument_group("receiver")
    group.add_argument(
        "--profile",
        default=None,
        metavar="TOML",
        help="receiver profile: [identity] mode keep|anonymise|substitute, persona; [style] "
        "preset none|cinematic|animation|oil-painting, text, lighting, colour; [safety] "
        "blocked_words, negative_prompt (see README)",
    )
    group.add_argument(
        "--generator",
        default="offline",
        help="offline (keyframe motion, styles, fast) or diffusion (diffusers image-to-video "
        "from --diffusion-model); default offline",
    )
    group.add_argument(
        "--diffusion-model",
        default=None,
        metavar="PATH_OR_ID",
        help="diffusers pipeline folder or cached hub id for --generator diffusion",
    )
    group.add_argument(
        "--keyframe-strength",
        type=float,
        default=1.0,
        help="lambda in [0, 1]: how closely generation follows the keyframe; default 1",
    )
    group.add_argument(
        "--damaged-keyframes",
        default="best-effort",
        help="a keyframe whose CRC failed: best-effort (decode it anyway) or last-good "
        "(generate from the caption and the last intact keyframe); default best-effort",
    )
    group.add_argument(
        "--generation-queue",
        type=int,
        default=2,
        help="segments waiting for generation at most; default 2",
    )


def _add_report_args(parser: argparse.ArgumentParser, plot_help: str) -> None:
    """--seed, --json and --plot, shared by the benches that draw a figure."""
    parser.add_argument("--seed", type=int, default=0, help="seed; default 0")
    parser.add_argument("--json", action="store_true", help="print the JSON object")
    parser.add_argument("--plot", default=None, metavar="PNG", help=plot_help)


class _OneLineErrorParser(argparse.ArgumentParser):
    """Usage mistakes get one line and exit code 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrorParser(
        prog="mirage-stream",
        description="Send video as meaning: a caption and a few coded keyframes cross a "
        "simulated wireless channel, and the receiver generates the video back.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_OneLineErrorParser
    )

    run = commands.add_parser(
        "run",
        help="run the whole chain on a video file, offline",
        description="Cut the input into segments, caption each, encode a keyframe, send the "
        "payload over the simulated channel and generate the segment back. Writes "
        "generated.mp4, side_by_side.mp4 (source | generated), report.json and "
        "config.json into --out.",
    )
    run.add_argument("--input", required=True, help=INPUT_HELP)
    run.add_argument("--out", default="out/run", help="output folder; default out/run")
    run.add_argument(
        "--segment-s", type=float, default=2.0, help="segment length in seconds; default 2"
    )
    run.add_argument("--width", type=int, default=320, help="working width; default 320")
    run.add_argument("--height", type=int, default=240, help="working height; default 240")
    run.add_argument(
        "--max-seconds",
        type=_positive_float,
        default=None,
        help="read at most this many seconds of the input",
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the channel's bit flips")
    run.add_argument("-q", "--quiet", action="store_true", help="no per-segment progress lines")
    run.add_argument(
        "--snr-process",
        default="constant",
        help="per-segment SNR: constant (at --snr-db), random-walk (Gauss-Markov "
        "around --snr-db, spread --snr-std-db), gilbert-elliott (good state "
        "--snr-db, bad state --snr-bad-db) or trace (--snr-trace CSV)",
    )
    run.add_argument(
        "--snr-std-db",
        type=float,
        default=3.0,
        help="random-walk standard deviation in dB; default 3",
    )
    run.add_argument(
        "--snr-bad-db",
        type=float,
        default=-15.0,
        help="gilbert-elliott bad-state SNR in dB; default -15",
    )
    run.add_argument(
        "--snr-trace",
        default=None,
        help="CSV file with one SNR per segment (column snr_db, or the last column)",
    )
    _add_channel_args(run)
    add_sender_args(run)
    add_receiver_args(run)
    run.add_argument(
        "--realtime",
        action="store_true",
        help="pace the input like a live camera and play on a clock; when generation falls "
        "behind, the generation queue skips to the newest segment (each skip is reported)",
    )
    run.add_argument(
        "--playout-delay-s",
        type=float,
        default=0.5,
        help="jitter buffer of the playback clock with --realtime; default 0.5",
    )
    run.set_defaults(handler=_cmd_run)

    bench = commands.add_parser("bench", help="measure the system; each bench prints JSON")
    benches = bench.add_subparsers(
        dest="bench", required=True, metavar="BENCH", parser_class=_OneLineErrorParser
    )
    t1 = benches.add_parser(
        "table1",
        help="the paper's Table 1: bytes, bpp, latency and speed-ups vs raw video",
        description="Treat the first --frames frames of --input at 320x240 as one segment and "
        "compare raw 24-bit video with the Mirage payload (caption + one keyframe, "
        "whole msgpack message) in bytes, bits per pixel and time on air (eq. 7).",
    )
    t1.add_argument("--input", default="sample:bikes", help=INPUT_HELP + "; default sample:bikes")
    t1.add_argument(
        "--frames",
        type=int,
        default=144,
        help="frames in the clip; default 144, the size of the paper's raw row "
        "(32,415.88 KiB of 320x240 RGB)",
    )
    t1.add_argument("--json", action="store_true", help="print the JSON object (else a table)")
    t1.add_argument(
        "--codecs",
        default="vq,ae,thumbnail",
        help="comma-separated keyframe codecs (vq: every shipped K; ae: every q; "
        "or name:variant); default vq,ae,thumbnail",
    )
    _add_channel_args(t1, with_codec=False)
    t1.set_defaults(handler=_cmd_bench_table1)

    channel = benches.add_parser(
        "channel",
        help="channel_sim vs theory, bit-corruption speed, caption delivery",
        description="Monte-Carlo BER of every model against its closed form from -10 to +10 dB, "
        "bit-corruption throughput on one core at BER 0.1 and 1e-5, and reliable "
        "delivery of 400-byte captions at SNR -10 dB and at BER 1e-3.",
    )
    channel.add_argument(
        "--trials", type=int, default=100_000, help="captions per delivery test; default 100000"
    )
    channel.add_argument(
        "--ber-bits", type=int, default=2_000_000, help="bits per BER point; default 2000000"
    )
    _add_report_args(channel, "also draw BER against SNR (theory and Monte Carlo) into PNG")
    channel.set_defaults(handler=_cmd_bench_channel)

    codec = benches.add_parser(
        "codec",
        help="keyframe codecs vs AV1 and JPEG at matched bytes, on held-out frames",
        description="On --frames frames of --input at 320x240: bytes, bpp, PSNR, SSIM and "
        "encode+decode time of the vq (every shipped K), ae (q = 2..8) and "
        "thumbnail codecs, and of AV1 and JPEG downscaled to fit --budget-bytes; "
        "plus PSNR of the K=256 codec under bit errors, lattice vs random index "
        "order.",
    )
    codec.add_argument("--input", default="sample:bikes", help=INPUT_HELP + "; default bikes")
    codec.add_argument("--frames", type=int, default=10, help="held-out frames; default 10")
    codec.add_argument(
        "--budget-bytes",
        type=int,
        default=256,
        help="byte budget for AV1 and JPEG; default 256 (K=256 on 16x16)",
    )
    _add_report_args(codec, "draw PSNR against BER for both index orders into PNG")
    codec.set_defaults(handler=_cmd_bench_codec)

    sender = benches.add_parser(
        "sender",
        help="sender cost per second of video (total and per stage), memory, bytes",
        description="Run the sender (analysis, rate plan, caption, keyframe selection, privacy, "
        "encoding) on every segment of --input and report rtf (sender seconds per "
        "second of video), per-stage rtf, peak RSS, bytes per segment and the bytes "
        "saved by not resending unchanged keyframes.",
    )
    sender.add_argument("--input", default="sample:bikes", help=INPUT_HELP + "; default bikes")
    sender.add_argument("--segment-s", type=_positive_float, default=2.0, help="default 2")
    sender.add_argument(
        "--max-seconds", type=_positive_float, default=None, help="read at most this much"
    )
    sender.add_argument("--json", action="store_true", help="print the JSON object")
    sender.add_argument(
        "--codec", default="vq", help="keyframe codec, name or name:variant; default vq"
    )
    add_sender_args(sender)
    sender.set_defaults(handler=_cmd_bench_sender)

    receiver = benches.add_parser(
        "receiver",
        help="receiver cost, generation queue depth, caption consistency per style and codec",
        description="Run the whole chain on --input at --snr-db and report the receiver's rtf "
        "(decode, prompt and generation seconds per second of video), per stage, the "
        "generation queue's deepest fill, sbert (caption consistency: the offline "
        "captioner on source and generated video, compared with Sentence-BERT, mean over "
        "segments) and styles, a Table-5-like list of sbert per style and codec.",
    )
    receiver.add_argument("--input", default="sample:carphone", help=INPUT_HELP)
    receiver.add_argument("--snr-db", type=float, default=-10.0, help="default -10")
    receiver.add_argument("--codec", default="vq", help="codec of the main run; default vq")
    receiver.add_argument(
        "--styles",
        default=None,
        help="comma-separated styles for the styles table; default every preset "
        "(none, cinematic, animation, oil-painting)",
    )
    receiver.add_argument(
        "--style-codecs", default="vq,ae", help="codecs for the styles table; default vq,ae"
    )
    receiver.add_argument(
        "--max-seconds", type=_positive_float, default=None, help="read at most this much"
    )
    receiver.add_argument("--seed", type=int, default=0, help="default 0")
    receiver.add_argument("--json", action="store_true", help="print the JSON object")
    receiver.set_defaults(handler=_cmd_bench_receiver)

    live = benches.add_parser(
        "live",
        help="N concurrent live calls over WebRTC on loopback: glass to glass, losses, CPU",
        description="Start a receiver server and --calls senders in this process; each sends "
        "--seconds of --input paced at real time over its own peer connection. Prints "
        "g2g_p50_s, g2g_p95_s (last frame of a segment captured -> first frame of its "
        "generated version due on screen), segments_sent, segments_played, "
        "segments_lost, captions_lost (sent minus decoded with the caption's CRC intact), "
        "cpu_per_call (CPU seconds per second of video per call, senders included) and calls.",
    )
    live.add_argument("--calls", type=int, default=1, help="concurrent calls; default 1")
    live.add_argument("--input", default="sample:carphone", help=INPUT_HELP)
    live.add_argument(
        "--seconds", type=_positive_float, default=12.0, help="video per call; default 12"
    )
    live.add_argument("--segment-s", type=_positive_float, default=2.0, help="default 2")
    live.add_argument("--snr-db", type=float, default=-10.0, help="default -10")
    live.add_argument("--json", action="store_true", help="print the JSON object")
    live.set_defaults(handler=_cmd_bench_live)

    rate = benches.add_parser(
        "rate",
        help="rate adapter vs its latency budget on constant, random-walk and Gilbert-Elliott SNR",
        description="For each SNR process, plan --segments segments from the receiver's "
        "feedback, send the implied payloads through channel_sim at the true SNR "
        "and count the segments whose time on air (retries included) fits "
        "--latency-budget-ms.",
    )
    rate.add_argument("--input", default="sample:bikes", help=INPUT_HELP + "; default bikes")
    rate.add_argument("--segments", type=int, default=1000, help="per process; default 1000")
    rate.add_argument("--latency-budget-ms", type=_positive_float, default=20.0, help="default 20")
    rate.add_argument(
        "--snr-db", type=float, default=-5.0, help="mean / good-state SNR; default -5"
    )
    rate.add_argument("--snr-std-db", type=float, default=3.0, help="random walk; default 3")
    rate.add_argument(
        "--snr-bad-db", type=float, default=-12.0, help="Gilbert-Elliott bad state; default -12"
    )
    rate.add_argument("--bandwidth-hz", type=_positive_float, default=20e6, help="default 20e6")
    rate.add_argument("--seed", type=int, default=0, help="default 0")
    rate.add_argument("--json", action="store_true", help="print the JSON object")
    rate.add_argument(
        "--plot", default=None, metavar="PNG", help="draw SNR and time on air per segment"
    )
    rate.set_defaults(handler=_cmd_bench_rate)

    calibrate = commands.add_parser(
        "calibrate-codecs",
        help="measure each shipped codec setting's distortion model for the rate adapter",
        description="Encode --frames held-out frames with every shipped codec setting, clean "
        "and with bits flipped at BER 0.05, and write the distortion model "
        "(clean MSE, MSE per damaged symbol, bytes) to quality.json beside the weights.",
    )
    calibrate.add_argument("--input", default="sample:bikes", help=INPUT_HELP)
    calibrate.add_argument("--frames", type=int, default=10, help="default 10")
    calibrate.add_argument("--seed", type=int, default=0, help="default 0")
    calibrate.add_argument("--out", default=None, help="default: the shipped quality.json")
    calibrate.set_defaults(handler=_cmd_calibrate_codecs)

    trainer = commands.add_parser(
        "train-codec",
        help="train a keyframe codec (reproducible from --seed)",
        description="Train the vq (FSQ-VAE) or ae (q-bit autoencoder) keyframe codec on frames "
        "of the carphone and bigbuckbunny clips and the images shipped in "
        "scikit-image and scikit-learn (never bikes, the evaluation clip), and "
        "save config.json, model.safetensors and training.json into --out.",
    )
    trainer.add_argument("--kind", choices=("vq", "ae"), default="vq", help="default vq")
    trainer.add_argument(
        "--codebook",
        type=int,
        default=256,
        help="vq codebook size K: 256, 512, 1024 or 2048; default 256",
    )
    trainer.add_argument("--steps", type=int, default=1500, help="default 1500")
    trainer.add_argument("--batch-size", type=int, default=32, help="default 32")
    trainer.add_argument("--seed", type=int, default=0, help="default 0")
    trainer.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    trainer.add_argument("--threads", type=int, default=2, help="CPU threads; default 2")
    trainer.add_argument("--out", required=True, help="folder for the weights")
    trainer.set_defaults(handler=_cmd_train_codec)

    info = commands.add_parser("info", help="versions and available backends, as JSON")
    info.set_defaults(handler=_cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except MirageError as error:
        print(f"mirage-stream: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mirage-stream: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
