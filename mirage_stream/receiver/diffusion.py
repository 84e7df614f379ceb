"""Diffusion backend (eq. 18-19): a diffusers image-to-video pipeline conditioned on the decoded
keyframe and the personalised prompt.

Any diffusers image-to-video pipeline whose ``__call__`` takes ``image`` works (LTX-Video,
CogVideoX image-to-video, Stable Video Diffusion, ...): theta_g is mapped onto the arguments the
pipeline accepts (see ``_arguments``), sizes are rounded up to what its VAE and transformer
need, and the frames it makes are resized and resampled in time to the requested F, fps and
size. Loaded from a local folder or a cached hub id; device and dtype chosen automatically
(CUDA with bfloat16 when present, else CPU float32); model CPU offload on request.
"""

from __future__ import annotations

import inspect
import math
import threading
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.errors import InputError
from mirage_stream.hub import load_error, model_source
from mirage_stream.receiver.generators import GenerationRequest
from mirage_stream.receiver.profile import IdentityMode
from mirage_stream.receiver.style import anonymise_faces

MAX_MODEL_FRAMES = 121  # longer segments are generated shorter and held in time


def _round_up(value: int, multiple: int) -> int:
    return max(multiple, math.ceil(value / multiple) * multiple)


@dataclass
class DiffusersVideoGenerator:
    pipeline: Any
    device: str = "cpu"
    name: str = "diffusion"
    _accepts: frozenset[str] = field(default=frozenset(), init=False)
    # A live server shares one pipeline among its calls, each generating on its own thread;
    # a pipeline's scheduler keeps per-call state (its timesteps), so one generation at a time.
    _busy: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        parameters = inspect.signature(self.pipeline.__call__).parameters
        if "image" not in parameters:
            raise InputError(
                f"--diffusion-model: {type(self.pipeline).__name__} is not an image-to-video "
                "pipeline (its call takes no image)"
            )
        self._accepts = frozenset(parameters)

    @classmethod
    def from_pretrained(
        cls,
        path_or_id: str,
        *,
        allow_download: bool = False,
        device: str | None = None,
        cpu_offload: bool = False,
    ) -> DiffusersVideoGenerator:
        import torch
        from diffusers import DiffusionPipeline

        source = model_source(path_or_id, "--diffusion-model", allow_download)
        chosen = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if chosen.startswith("cuda") else torch.float32
        try:
            pipeline: Any = DiffusionPipeline.from_pretrained(  # type: ignore[no-untyped-call]
                source.target, local_files_only=source.local_files_only, torch_dtype=dtype
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise load_error(
                "--diffusion-model", path_or_id, "a diffusers pipeline", error
            ) from None
        if cpu_offload and chosen.startswith("cuda"):
            pipeline.enable_model_cpu_offload()
        else:
            pipeline.to(chosen)
        pipeline.set_progress_bar_config(disable=True)
        return cls(pipeline=pipeline, device=chosen)

    def _spatial_multiple(self) -> int:
        pipe = self.pipeline
        ratio: Any = (
            getattr(pipe, "vae_spatial_compression_ratio", None)
            or getattr(pipe, "vae_scale_factor_spatial", None)
            or getattr(pipe, "vae_scale_factor", 8)
        )
        transformer = getattr(pipe, "transformer", None)
        patch: Any = getattr(getattr(transformer, "config", None), "patch_size", 1) or 1
        # Video pipelines also check for multiples of 32 (LTX does, whatever its VAE).
        return math.lcm(32, int(ratio) * int(patch))

    def _model_frames(self, wanted: int) -> int:
        """Frame counts the pipeline accepts: 1 + a multiple of its temporal compression."""
        pipe = self.pipeline
        found: Any = getattr(pipe, "vae_temporal_compression_ratio", None) or getattr(
            pipe, "vae_scale_factor_temporal", 1
        )
        ratio = int(found)
        frames = min(wanted, MAX_MODEL_FRAMES)
        return 1 + _round_up(max(frames - 1, 1), ratio) if ratio > 1 else frames

    def _arguments(self, request: GenerationRequest, image: Any) -> dict[str, Any]:
        """theta_g -> the pipeline's own arguments, for those it takes."""
        import torch

        config, prompt = request.config, request.prompt
        multiple = self._spatial_multiple()
        wanted = {
            "image": image,
            "prompt": prompt.text,
            "negative_prompt": prompt.negative,
            "height": _round_up(config.height, multiple),
            "width": _round_up(config.width, multiple),
            "num_frames": self._model_frames(config.num_frames),
            "frame_rate": config.fps,  # LTX
            "fps": round(config.fps),  # SVD
            "num_inference_steps": config.steps,
            "guidance_scale": config.guidance,
            # SVD's image conditioning noise: a weaker keyframe (lambda < 1) gets more.
            "noise_aug_strength": 0.02 + 0.5 * (1.0 - config.keyframe_strength),
            "generator": torch.Generator(device="cpu").manual_seed(config.seed),
            "output_type": "np",
        }
        return {key: value for key, value in wanted.items() if key in self._accepts}

    def generate(self, request: GenerationRequest) -> npt.NDArray[np.uint8]:
        from PIL import Image

        config = request.config
        _, keyframe = request.keyframes[0]
        if request.profile.identity is not IdentityMode.KEEP:
            keyframe = anonymise_faces(keyframe, request.facts.faces)
        arguments = self._arguments(request, Image.fromarray(keyframe))
        with self._busy:
            output = self.pipeline(**arguments)
        made = np.asarray(output.frames[0], dtype=np.float32)  # (N, h, w, 3) in [0, 1]
        picks = np.linspace(0, made.shape[0] - 1, num=config.num_frames).round().astype(int)
        frames = np.empty((config.num_frames, config.height, config.width, 3), dtype=np.uint8)
        for t, index in enumerate(picks):
            image = np.clip(made[index] * 255.0 + 0.5, 0, 255).astype(np.uint8)
            frames[t] = cv2.resize(
                image, (config.width, config.height), interpolation=cv2.INTER_CUBIC
            )
        return frames
