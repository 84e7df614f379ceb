"""Diffusion backend (eq. 18-19): a diffusers image-to-video pipeline conditioned on the decoded
keyframes, the previous segment's tail and the personalised prompt.

The pipeline's family (``families.py``) maps theta_g onto its call: frame counts and sizes
rounded to what it takes, keyframes at their frame indices where it takes conditions, the
previous segment's last frames continued where it can continue a video (the segment starts where
the last one ended), steps and guidance as distilled checkpoints expect. The model's frames are
resampled in time and resized to the requested F, fps and size.

Speed: bf16 on CUDA; each distinct prompt is encoded once (a small cache of its embeddings),
its text encoder optionally kept on the CPU; VAE tiling / slicing and model CPU offload on
request; inference without autograd; ``warm_up`` runs one small generation so the first segment
is not late.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.errors import InputError
from mirage_stream.hub import load_error, model_source
from mirage_stream.receiver.families import ModelPlan, PipelineFamily, family_of
from mirage_stream.receiver.generators import TAIL_FRAMES, GenerationRequest, GeneratorConfig
from mirage_stream.receiver.profile import IdentityMode, ReceiverProfile, build_prompt
from mirage_stream.receiver.style import anonymise_faces
from mirage_stream.types import SceneFacts

_log = logging.getLogger(__name__)
PROMPT_CACHE = 16  # distinct prompts whose embeddings are kept
# What encode_prompt returns, by family: LTX's come with attention masks.
_EMBEDDINGS = ("prompt_embeds", "negative_prompt_embeds")
_MASKED_EMBEDDINGS = (
    "prompt_embeds",
    "prompt_attention_mask",
    "negative_prompt_embeds",
    "negative_prompt_attention_mask",
)


@dataclass(frozen=True)
class DiffusionOptions:
    """How the diffusion backend runs (none of these changes what it is asked to make)."""

    cpu_offload: bool = False  # model CPU offload: each part on the GPU only while it runs
    text_encoder_on_cpu: bool = False  # keep the text encoder off the GPU (memory is short)
    vae_tiling: bool = False
    vae_slicing: bool = False
    distilled: bool | None = None  # None: from the model's name ("distill" in it)
    continuity: bool = True  # continue from the previous segment's tail where the family can


@dataclass(frozen=True)
class DiffusionGeneratorOptions:
    """``--generator diffusion``'s options: where its pipeline loads from, and how it runs."""

    model: str  # a diffusers pipeline folder, or a hub id (the cache only, unless downloads)
    allow_download: bool = False
    run: DiffusionOptions = field(default_factory=DiffusionOptions)

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise InputError("--diffusion-model must name a pipeline folder or hub id")

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument(
            "--diffusion-model",
            default=None,
            metavar="PATH_OR_ID",
            help="diffusers pipeline folder or cached hub id (required)",
        )
        group.add_argument(
            "--cpu-offload",
            action="store_true",
            help="model CPU offload: each part on the GPU only while it runs (less memory)",
        )
        group.add_argument(
            "--text-encoder-on-cpu",
            action="store_true",
            help="keep the text encoder on the CPU (each distinct prompt is encoded once)",
        )
        group.add_argument("--vae-tiling", action="store_true", help="decode in tiles")
        group.add_argument("--vae-slicing", action="store_true", help="decode frame by frame")
        group.add_argument(
            "--distilled",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="the model is a distilled checkpoint: its family's steps and no guidance, "
            "whatever --steps and --guidance say (default: when its name says 'distill')",
        )
        group.add_argument(
            "--no-continuity",
            action="store_true",
            help="do not continue each segment from the previous one's last frames",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DiffusionGeneratorOptions:
        return cls(
            model=args.diffusion_model,
            allow_download=getattr(args, "allow_download", False),
            run=DiffusionOptions(
                cpu_offload=args.cpu_offload,
                text_encoder_on_cpu=args.text_encoder_on_cpu,
                vae_tiling=args.vae_tiling,
                vae_slicing=args.vae_slicing,
                distilled=args.distilled,
                continuity=not args.no_continuity,
            ),
        )


def _pil(image: npt.NDArray[np.uint8], width: int, height: int) -> Any:
    from PIL import Image

    return Image.fromarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))


@dataclass
class DiffusersVideoGenerator:
    pipeline: Any
    device: str = "cpu"
    options: DiffusionOptions = field(default_factory=DiffusionOptions)
    name: str = "diffusion"
    adapts_rate: bool = True  # steps and working size trade quality for speed (the adapter)
    draws_people: bool = True  # the model renders them, conditioned on the rebuilt reference
    family: PipelineFamily = field(init=False)
    _accepts: frozenset[str] = field(default=frozenset(), init=False)
    _max_sequence_length: int | None = field(default=None, init=False)  # the call's default
    _prompts: OrderedDict[tuple[str, str, bool], dict[str, Any]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    # A live server shares one pipeline among its calls, each generating on its own thread;
    # a pipeline's scheduler keeps per-call state (its timesteps), so one generation at a time.
    _busy: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        parameters = inspect.signature(self.pipeline.__call__).parameters
        if "image" not in parameters and "conditions" not in parameters:
            raise InputError(
                f"--diffusion-model: {type(self.pipeline).__name__} is not an image-to-video "
                "pipeline (its call takes no image)"
            )
        self._accepts = frozenset(parameters)
        self.family = family_of(self.pipeline)
        vae: Any = getattr(self.pipeline, "vae", None)
        if self.options.vae_tiling and hasattr(vae, "enable_tiling"):
            vae.enable_tiling()
        if self.options.vae_slicing and hasattr(vae, "enable_slicing"):
            vae.enable_slicing()
        max_length = parameters.get("max_sequence_length")
        if max_length is not None and isinstance(max_length.default, int):
            self._max_sequence_length = max_length.default

    @classmethod
    def from_pretrained(
        cls,
        path_or_id: str,
        *,
        allow_download: bool = False,
        device: str | None = None,
        options: DiffusionOptions | None = None,
    ) -> DiffusersVideoGenerator:
        import torch
        from diffusers import DiffusionPipeline

        options = options or DiffusionOptions()
        if options.distilled is None:
            options = replace(options, distilled="distill" in path_or_id.lower())
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
        if options.cpu_offload and chosen.startswith("cuda"):
            pipeline.enable_model_cpu_offload()
        else:
            pipeline.to(chosen)
            encoder = getattr(pipeline, "text_encoder", None)
            if options.text_encoder_on_cpu and encoder is not None:
                encoder.to("cpu", torch.float32)
        pipeline.set_progress_bar_config(disable=True)
        generator = cls(pipeline=pipeline, device=chosen, options=options)
        # What `-v` shows, so a user sees the GPU is used before the first segment is late.
        _log.info(
            "diffusion: %s (family %s) on %s in %s%s",
            type(pipeline).__name__,
            generator.family.name,
            chosen,
            str(dtype).removeprefix("torch."),
            ", distilled" if options.distilled else "",
        )
        return generator

    # --- theta_g -> the family's call ------------------------------------------------------

    def plan(self, request: GenerationRequest) -> ModelPlan:
        """Sizes, frames, keyframe positions and the continued tail, as the model sees them."""
        config, family = request.config, self.family
        width = family.model_side(config.width * config.model_scale)
        height = family.model_side(config.height * config.model_scale)
        tail = request.tail[-TAIL_FRAMES:] if family.continues and self.options.continuity else ()
        # The tail fills model frames [0, T); the new segment follows it, keyframes placed at
        # their times within it.
        num_frames = family.model_frames(len(tail) + config.num_frames)
        new_frames = num_frames - len(tail)
        keyframes = []
        for index, image in request.keyframes:
            position = round(index * (new_frames - 1) / max(1, config.num_frames - 1))
            conditioning = self._conditioning(image, request, width, height)
            keyframes.append((len(tail) + position, conditioning))
        distilled = bool(self.options.distilled)
        base_steps = family.distilled_steps if distilled else config.steps
        return ModelPlan(
            width=width,
            height=height,
            num_frames=num_frames,
            keyframes=tuple(keyframes),
            tail=tuple(_pil(frame, width, height) for frame in tail),
            new_from=len(tail),
            steps=max(1, round(base_steps * config.steps_scale)),
            guidance=family.distilled_guidance if distilled else config.guidance,
            request=request,
            end_frame=family.end_frame(self.pipeline),
        )

    def _conditioning(
        self, image: npt.NDArray[np.uint8], request: GenerationRequest, width: int, height: int
    ) -> Any:
        if request.profile.identity is not IdentityMode.KEEP:
            image = anonymise_faces(image, request.facts.faces)
        return _pil(image, width, height)

    def arguments(self, plan: ModelPlan) -> dict[str, Any]:
        """The family's arguments and the shared ones, for those the pipeline takes."""
        import torch

        config, prompt = plan.request.config, plan.request.prompt
        wanted: dict[str, Any] = {
            "height": plan.height,
            "width": plan.width,
            "num_frames": plan.num_frames,
            "num_inference_steps": plan.steps,
            "guidance_scale": plan.guidance,
            "generator": torch.Generator(device="cpu").manual_seed(config.seed),
            "output_type": "np",
        }
        if self.family.takes_text:
            wanted |= self._prompt_arguments(prompt.text, prompt.negative, plan.guidance > 1.0)
        wanted |= self.family.arguments(plan)
        return {key: value for key, value in wanted.items() if key in self._accepts}

    def _prompt_arguments(self, text: str, negative: str | None, guided: bool) -> dict[str, Any]:
        """The prompt's embeddings, computed once per distinct prompt (eq. 16's output is the
        same for every segment until the caption or the profile changes)."""
        encode = getattr(self.pipeline, "encode_prompt", None)
        if encode is None or "prompt_embeds" not in self._accepts:
            return {"prompt": text, "negative_prompt": negative}
        key = (text, negative or "", guided)
        if key not in self._prompts:
            self._prompts[key] = self._encode(encode, text, negative, guided)
            while len(self._prompts) > PROMPT_CACHE:
                self._prompts.popitem(last=False)
        self._prompts.move_to_end(key)
        return {"prompt": None, "negative_prompt": None} | self._prompts[key]

    def _encode(self, encode: Any, text: str, negative: str | None, guided: bool) -> dict[str, Any]:
        import torch

        encoder = getattr(self.pipeline, "text_encoder", None)
        on_cpu = self.options.text_encoder_on_cpu and encoder is not None
        # The call's own token length (encode_prompt's default may differ from it).
        length = self._max_sequence_length
        takes_length = "max_sequence_length" in inspect.signature(encode).parameters
        extra = {"max_sequence_length": length} if takes_length and length else {}
        with torch.inference_mode():
            found = encode(
                prompt=text,
                negative_prompt=negative or "",
                do_classifier_free_guidance=guided,
                device=torch.device("cpu") if on_cpu else None,
                **extra,
            )
        names = _MASKED_EMBEDDINGS if len(found) == 4 else _EMBEDDINGS
        denoiser = getattr(self.pipeline, "transformer", None) or self.pipeline.unet
        dtype = denoiser.dtype
        arguments: dict[str, Any] = {}
        for name, value in zip(names, found, strict=True):
            if value is None or name not in self._accepts:
                continue
            if on_cpu:
                value = value.to(self.device, dtype if value.is_floating_point() else None)
            arguments[name] = value
        return arguments

    # --- generation ------------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> npt.NDArray[np.uint8]:
        import torch

        config = request.config
        with self._busy, torch.inference_mode():
            plan = self.plan(request)
            output = self.pipeline(**self.arguments(plan))
        made = np.asarray(output.frames[0], dtype=np.float32)  # (N, h, w, 3) in [0, 1]
        made = made[plan.new_from :] if plan.new_from < made.shape[0] else made[-1:]
        picks = np.linspace(0, made.shape[0] - 1, num=config.num_frames).round().astype(int)
        frames = np.empty((config.num_frames, config.height, config.width, 3), dtype=np.uint8)
        for t, index in enumerate(picks):
            image = np.clip(made[index] * 255.0 + 0.5, 0, 255).astype(np.uint8)
            frames[t] = cv2.resize(
                image, (config.width, config.height), interpolation=cv2.INTER_CUBIC
            )
        return frames

    def warm_up(self, config: GeneratorConfig) -> float:
        """One generation at the configured size (kernels chosen, memory reserved, caches
        filled), so the first segment of a call is not late; returns its seconds."""
        start = time.perf_counter()
        grey = np.full((config.height, config.width, 3), 128, np.uint8)
        request = GenerationRequest(
            keyframes=((0, grey),),
            facts=SceneFacts(),
            prompt=build_prompt("A still scene.", ReceiverProfile()),
            config=config,
        )
        self.generate(request)
        return time.perf_counter() - start
