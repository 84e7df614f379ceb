"""``train-codec`` and ``calibrate-codecs``: make the keyframe codecs' weights and the rate
adapter's distortion table."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mirage_stream.cli.common import Subcommands, stderr_progress
from mirage_stream.errors import InputError
from mirage_stream.options import add_seed_argument
from mirage_stream.sources.config import add_input_argument
from mirage_stream.types import FrameArray


def register(commands: Subcommands) -> None:
    calibrate = commands.add_parser(
        "calibrate-codecs",
        help="measure each shipped codec setting's distortion model for the rate adapter",
        description="Encode --frames held-out frames with every shipped codec setting, clean "
        "and with bits flipped at BER 0.05, and write the distortion model "
        "(clean MSE, MSE per damaged symbol, bytes) to quality.json beside the weights.",
    )
    add_input_argument(calibrate, "sample:bikes")
    calibrate.add_argument("--frames", type=int, default=10, help="default 10")
    add_seed_argument(calibrate)
    calibrate.add_argument("--out", default=None, help="default: the shipped quality.json")
    calibrate.set_defaults(handler=_calibrate)

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
    trainer.add_argument(
        "--size",
        default="64x64",
        help="vq input size WxH: 64x64 (16x16 indices) or 128x96 (16x12 indices, 4:3); "
        "default 64x64",
    )
    trainer.add_argument("--steps", type=int, default=1500, help="default 1500")
    trainer.add_argument(
        "--learning-rate",
        type=float,
        default=2e-3,
        help="peak learning rate (cosine decay to 1/20 of it); deeper models need less, "
        "6e-4 for 128x96; default 2e-3",
    )
    trainer.add_argument("--batch-size", type=int, default=32, help="default 32")
    add_seed_argument(trainer)
    trainer.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where training runs (auto: cuda when torch sees a GPU); default %(default)s",
    )
    trainer.add_argument("--threads", type=int, default=2, help="CPU threads; default 2")
    trainer.add_argument("--out", required=True, help="folder for the weights")
    trainer.add_argument(
        "--init",
        default=None,
        help="continue from the weights in this folder (same --kind, --codebook, --size): "
        "a longer schedule in pieces; default: random initialisation",
    )
    trainer.add_argument(
        "--real-tune",
        action="store_true",
        help="also train on every 2nd frame of the real-footage set's tune sources "
        "(footage/real/ of a clone; the test sources are never read)",
    )
    trainer.set_defaults(handler=_train)


def _calibrate(args: argparse.Namespace) -> int:
    from mirage_stream.bench.codec import held_out_frames
    from mirage_stream.codecs.distortion_model import (
        QUALITY_FILE,
        calibrate,
        modelled_settings,
        save_quality,
    )

    say = stderr_progress("calibrate-codecs")
    frames = held_out_frames(args.input, args.frames)
    table = []
    for setting in modelled_settings():
        say(f"measuring {setting}")
        table.append(calibrate(setting, frames, seed=args.seed))
    out = Path(args.out) if args.out else QUALITY_FILE
    save_quality(table, out)
    say(f"written {out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    import torch

    from mirage_stream.codecs.learned.train import TrainConfig, ae_preset, train, vq_preset

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(max(1, args.threads))
    rates = {"learning_rate": args.learning_rate, "final_learning_rate": args.learning_rate / 20}
    if args.kind == "vq":
        width, _, height = args.size.partition("x")
        if not (width.isdigit() and height.isdigit()):
            raise InputError(f"--size must be WxH, got {args.size!r}")
        try:
            model_config = vq_preset(args.codebook, (int(width), int(height)))
        except ValueError as error:
            raise InputError(str(error)) from None
        settings = TrainConfig(
            steps=args.steps,
            batch_size=args.batch_size,
            crop_size=model_config.input_size,
            seed=args.seed,
            **rates,
        )
    else:
        model_config = ae_preset()
        settings = TrainConfig(
            steps=args.steps,
            batch_size=args.batch_size,
            crop_size=(96, 96),
            seed=args.seed,
            quantiser_bits=(2, 3, 4, 6, 8),
            **rates,
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

    init = Path(args.init) if args.init else None
    if init is not None and not (init / "config.json").is_file():
        raise InputError(f"--init {init}: no config.json there")
    extra_images: list[FrameArray] = []
    extra_sources: list[str] = []
    if args.real_tune:
        from mirage_stream.bench.real_footage import tune_source_frames

        extra_images, extra_sources = tune_source_frames()
        print(f"{len(extra_images)} frames of the real set's tune sources", file=sys.stderr)
    try:
        train(
            model_config,
            settings,
            out,
            device=device,
            progress=progress,
            init=init,
            extra_images=extra_images,
            extra_sources=extra_sources,
        )
    except ValueError as error:
        raise InputError(str(error)) from None
    print(f"saved {args.kind} weights to {out}", file=sys.stderr)
    return 0
