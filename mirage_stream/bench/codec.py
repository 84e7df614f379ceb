"""``bench codec``: keyframe codecs on held-out frames at 320x240.

Rows: the learned ``vq`` codec for every shipped K, the ``ae`` codec for q in {2, 3, 4, 6, 8},
the ``thumbnail`` baseline, and AV1 (libsvtav1, one-frame encode, decoded by libdav1d) and
JPEG (OpenCV) at matched bytes: for each frame, every size of a downscaling ladder is tried at
the best quality that fits the byte budget, and the size with the best PSNR is kept (decoded
and upscaled back to 320x240). Bytes count the whole AV1 bitstream (sequence header included,
container excluded) and the whole JPEG file. ``robustness`` decodes the K=256 codec's indices
after bit flips at several BERs, in the lattice index order and in a random order.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from channel_sim import flip_bits
from mirage_stream.bench import Progress, quiet
from mirage_stream.bench.labels import REAL_PREFIX
from mirage_stream.codecs import CODECS, KeyframeCodec, ThumbnailCodec
from mirage_stream.codecs.learned.codecs import (
    AE_BITS,
    WEIGHTS_DIR,
    AeKeyframeCodec,
    VqKeyframeCodec,
    load_model,
    vq_from_variant,
)
from mirage_stream.codecs.still import av1_still
from mirage_stream.errors import InputError
from mirage_stream.metrics import psnr_db, ssim
from mirage_stream.metrics.fidelity import sharpness_ratio
from mirage_stream.receiver.regions import paste_region
from mirage_stream.report import ONLY_WHEN_SET
from mirage_stream.sender.detectors import detect_faces
from mirage_stream.sender.regions import face_region
from mirage_stream.sources import FileSource, SourceConfig, resolve_input
from mirage_stream.types import FrameArray

SIZE = (320, 240)
LADDER = (
    (320, 240),
    (288, 216),
    (256, 192),
    (224, 168),
    (192, 144),
    (160, 120),
    (128, 96),
    (112, 84),
    (96, 72),
    (80, 60),
    (64, 48),
    (48, 36),
    (32, 24),
)
AV1_CRF = (63, 58, 53, 48, 43, 38, 33)
ROBUSTNESS_BER = (0.0, 1e-3, 1e-2, 0.05, 0.114)


def held_out_frames(spec: str, count: int) -> list[FrameArray]:
    """``count`` frames evenly over ``spec``: a video, ``sample:NAME``, or the real-footage set
    (``real:test`` / ``real:tune`` / ``real:all``: ``count`` spread evenly over the half's
    clips, at least one each; ``real:NAME``: one clip)."""
    if spec.startswith(REAL_PREFIX):
        return _real_frames(spec.removeprefix(REAL_PREFIX), count)
    source = FileSource(resolve_input(spec), SourceConfig(*SIZE))
    try:
        frames = source.read_frames(100_000)
    finally:
        source.close()
    if not frames:
        raise InputError(f"{spec} holds no decodable video frames")
    picks = np.unique(np.linspace(0, len(frames) - 1, num=min(count, len(frames))).round())
    return [frames[int(i)] for i in picks]


def _real_frames(name: str, count: int) -> list[FrameArray]:
    from mirage_stream.bench.labels import labelled_clip
    from mirage_stream.bench.real_footage import footage_frames, load_real_set
    from mirage_stream.sources.file_source import fit_frame

    if name in ("test", "tune", "all"):
        clips = [c for c in load_real_set() if name == "all" or c.split == name]
    else:
        clips = [labelled_clip(REAL_PREFIX + name)]
    each = max(1, -(-count // len(clips)))
    images = []
    for clip in clips:
        frames = list(footage_frames(clip))
        picks = np.unique(np.linspace(0, len(frames) - 1, num=min(each, len(frames))).round())
        images += [fit_frame(frames[int(i)], *SIZE) for i in picks]
    return images


def _upscale(image: FrameArray) -> FrameArray:
    if (image.shape[1], image.shape[0]) == SIZE:
        return image
    return np.asarray(cv2.resize(image, SIZE, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


def jpeg_still(image: FrameArray, quality: int) -> tuple[int, FrameArray]:
    ok, data = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)[..., ::-1]
    return int(data.size), np.ascontiguousarray(decoded)


def matched_bytes(
    image: FrameArray,
    budget: int,
    still: Callable[[FrameArray, int], tuple[int, FrameArray]],
    settings: tuple[int, ...],
    higher_is_better: bool,
) -> tuple[int, FrameArray, bool]:
    """Best-PSNR (bytes, decoded-at-320x240) over the ladder within ``budget``; if nothing fits,
    the smallest encoding found, flagged False."""
    best: tuple[float, int, FrameArray] | None = None
    smallest: tuple[int, FrameArray] | None = None
    ordered = sorted(settings, reverse=higher_is_better)  # best quality first
    for size in LADDER:
        small = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        for setting in ordered:
            count, decoded = still(small, setting)
            if smallest is None or count < smallest[0]:
                smallest = (count, _upscale(decoded))
            if count <= budget:
                restored = _upscale(decoded)
                score = psnr_db(image, restored)
                if best is None or score > best[0]:
                    best = (score, count, restored)
                break
    if best is not None:
        return best[1], best[2], True
    assert smallest is not None
    return smallest[0], smallest[1], False


@dataclass(frozen=True)
class CodecRow:
    """One codec setting over the held-out frames (means per frame)."""

    codec: str
    K: int | None = field(default=None, metadata=ONLY_WHEN_SET)  # vq: codebook size
    variant: str | None = field(default=None, metadata=ONLY_WHEN_SET)  # vq: its variant
    q: int | None = field(default=None, metadata=ONLY_WHEN_SET)  # ae: bits per feature
    budget_bytes: int | None = field(default=None, metadata=ONLY_WHEN_SET)  # av1, jpeg
    bytes: float = 0.0
    bpp: float = 0.0
    psnr_db: float = 0.0
    ssim: float = 0.0
    sharpness: float = 0.0
    # Of the frames whose source shows a face, the share where the decoded one does too.
    face_found: float | None = None
    ms: float = 0.0
    codebook_usage: float | None = field(default=None, metadata=ONLY_WHEN_SET)  # vq
    fits_budget: bool | None = field(default=None, metadata=ONLY_WHEN_SET)  # av1, jpeg


@dataclass(frozen=True)
class RobustnessRow:
    """Keyframe PSNR at one BER, the trained index order against a random one."""

    ber: float
    lattice_psnr_db: float
    random_psnr_db: float


@dataclass(frozen=True)
class CodecBenchResult:
    input: str
    frames: int
    size: list[int]
    rows: list[CodecRow]
    robustness: list[RobustnessRow] | None = field(default=None, metadata=ONLY_WHEN_SET)


def _row(
    codec: str,
    setting: dict[str, Any],
    frames: list[FrameArray],
    run: Callable[[FrameArray], tuple[int, FrameArray]],
) -> CodecRow:
    sizes, psnrs, ssims, sharpness, times = [], [], [], [], []
    faces_shown = faces_found = 0
    for frame in frames:
        start = time.perf_counter()
        count, decoded = run(frame)
        times.append(time.perf_counter() - start)
        sizes.append(count)
        psnrs.append(psnr_db(frame, decoded))
        ssims.append(ssim(frame, decoded))
        sharpness.append(sharpness_ratio(frame, decoded))
        if detect_faces(frame, work_width=SIZE[0]):
            faces_shown += 1
            faces_found += bool(detect_faces(decoded, work_width=SIZE[0]))
    mean_bytes = float(np.mean(sizes))
    return CodecRow(
        codec=codec,
        **setting,
        bytes=mean_bytes,
        bpp=mean_bytes * 8 / (SIZE[0] * SIZE[1]),
        psnr_db=float(np.mean(psnrs)),
        ssim=float(np.mean(ssims)),
        sharpness=float(np.mean(sharpness)),
        face_found=faces_found / faces_shown if faces_shown else None,
        ms=1000 * float(np.mean(times)),
    )


def _codec_runner(codec: KeyframeCodec) -> Callable[[FrameArray], tuple[int, FrameArray]]:
    def run(frame: FrameArray) -> tuple[int, FrameArray]:
        encoded = codec.encode(frame)
        return len(encoded.data), codec.decode(encoded, SIZE)

    return run


def _face_detail_runner(codec: KeyframeCodec) -> Callable[[FrameArray], tuple[int, FrameArray]]:
    """The whole frame and, when it shows a face, the face's square coded again at the codec's
    full size and laid over it (the sender's --face-detail, the receiver's paste)."""

    def run(frame: FrameArray) -> tuple[int, FrameArray]:
        encoded = codec.encode(frame)
        decoded = codec.decode(encoded, SIZE)
        region = face_region(detect_faces(frame, work_width=SIZE[0]), *SIZE)
        if region is None:
            return len(encoded.data), decoded
        x0, y0, x1, y1 = region.pixels(*SIZE)
        detail = codec.encode(np.ascontiguousarray(frame[y0:y1, x0:x1]))
        patch = codec.decode(detail, (x1 - x0, y1 - y0))
        return len(encoded.data) + len(detail.data), paste_region(decoded, patch, region)

    return run


def shipped_vq() -> list[VqKeyframeCodec]:
    return [vq_from_variant(variant) for variant in CODECS.factory("vq").variants()]


def codebook_usage(codec: VqKeyframeCodec, frames: list[FrameArray]) -> float:
    used = np.unique(np.concatenate([codec.indices(frame).ravel() for frame in frames]))
    return used.size / codec.codebook_size


def robustness(codec: VqKeyframeCodec, frames: list[FrameArray], seed: int) -> list[RobustnessRow]:
    shuffled = VqKeyframeCodec(codec.model, index_order="random")
    rng = np.random.default_rng(seed)
    rows = []
    for ber in ROBUSTNESS_BER:
        scores: dict[str, list[float]] = {"lattice": [], "random": []}
        for frame in frames:
            for name, variant in (("lattice", codec), ("random", shuffled)):
                encoded = variant.encode(frame)
                damaged, _ = flip_bits(encoded.data, ber, rng)
                decoded = variant.decode(replace(encoded, data=damaged), SIZE, damaged=ber > 0)
                scores[name].append(psnr_db(frame, decoded))
        rows.append(
            RobustnessRow(ber, float(np.mean(scores["lattice"])), float(np.mean(scores["random"])))
        )
    return rows


def bench_codec(
    spec: str = "sample:bikes",
    frames: int = 10,
    budget: int = 256,
    seed: int = 0,
    progress: Progress = quiet,
) -> CodecBenchResult:
    import torch

    torch.set_num_threads(2)
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1: errors only
    say = progress
    images = held_out_frames(spec, frames)
    rows = []
    vq_codecs = shipped_vq()
    for codec in vq_codecs:
        say(f"vq K={codec.codebook_size}")
        usage = codebook_usage(codec, images)
        setting = {"K": codec.codebook_size, "variant": codec.variant}
        row = _row("vq", setting, images, _codec_runner(codec))
        rows.append(replace(row, codebook_usage=usage))
        if codec.variant == "K256":
            say("vq K=256 with the face detail")
            row = _row("vq+face", setting, images, _face_detail_runner(codec))
            rows.append(replace(row, codebook_usage=usage))
    ae_folder = WEIGHTS_DIR / "ae"
    if ae_folder.is_dir():
        for bits in AE_BITS:
            say(f"ae q={bits}")
            codec_ae = AeKeyframeCodec(load_model(ae_folder), bits=bits)
            rows.append(_row("ae", {"q": bits}, images, _codec_runner(codec_ae)))
    say("thumbnail")
    rows.append(_row("thumbnail", {}, images, _codec_runner(ThumbnailCodec())))
    fits: dict[str, list[bool]] = {"av1": [], "jpeg": []}

    def av1(frame: FrameArray) -> tuple[int, FrameArray]:
        count, decoded, fit = matched_bytes(frame, budget, av1_still, AV1_CRF, False)
        fits["av1"].append(fit)
        return count, decoded

    def jpeg(frame: FrameArray) -> tuple[int, FrameArray]:
        count, decoded, fit = matched_bytes(frame, budget, jpeg_still, tuple(range(1, 96, 2)), True)
        fits["jpeg"].append(fit)
        return count, decoded

    for name, runner in (("av1", av1), ("jpeg", jpeg)):
        say(f"{name} at {budget} bytes")
        row = _row(name, {"budget_bytes": budget}, images, runner)
        rows.append(replace(row, fits_budget=all(fits[name])))
    result = CodecBenchResult(spec, len(images), list(SIZE), rows)
    k256 = [codec for codec in vq_codecs if codec.variant == "K256"]
    if k256:
        say("robustness of the index order")
        result = replace(result, robustness=robustness(k256[0], images, seed))
    return result


def plot_robustness(rows: list[RobustnessRow], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5.6, 3.8))
    ber = [max(row.ber, 1e-4) for row in rows]
    axes.semilogx(ber, [row.lattice_psnr_db for row in rows], "o-", label="lattice order")
    axes.semilogx(ber, [row.random_psnr_db for row in rows], "s--", label="random order")
    axes.set_xlabel("bit error rate on the indices (0 drawn at 1e-4)")
    axes.set_ylabel("keyframe PSNR at 320x240 (dB)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    plt.close(figure)
    Path(path).write_bytes(buffer.getvalue())


__all__ = ["bench_codec", "plot_robustness"]
