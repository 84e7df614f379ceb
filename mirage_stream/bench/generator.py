"""``bench generator``: what a real image-to-video model costs in this pipeline: seconds per
generated second, the first call's time, peak memory, parameters.

``--model PATH_OR_ID`` loads a diffusers pipeline (``from_pretrained``). ``--architecture NAME
--random-weights`` builds the full-size architecture from its published configuration with
random weights, so speed and memory are measured without downloading anything; its frames are
noise. Segments go through the receiver's own diffusion backend (its family's arguments, the
prompt encoded once and cached, inference mode), one after another as in a call: with a
``-condition`` architecture each continues from the previous one's last frames. The first
segment's prompt encoding is reported apart (``text_encoder_s``); the per-segment figure is
the denoiser and the VAE. On CPU the random text encoder is cut to 2 layers to fit in memory,
and the output says so.
"""

from __future__ import annotations

import importlib
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mirage_stream.errors import InputError

# LTX-Video's text encoder: T5 v1.1 XXL (encoder only).
_T5_XXL = {"d_model": 4096, "d_ff": 10240, "num_layers": 24, "num_heads": 64, "d_kv": 64}
# The tiny LTX used by the tests (here and in tests/conftest.py): every part of the real path.
TINY_LTX_TRANSFORMER: dict[str, Any] = {
    "in_channels": 8,
    "out_channels": 8,
    "num_attention_heads": 4,
    "attention_head_dim": 8,
    "cross_attention_dim": 32,
    "num_layers": 1,
    "caption_channels": 32,
}
TINY_LTX_VAE: dict[str, Any] = {
    "latent_channels": 8,
    "block_out_channels": (8, 8, 8, 8),
    "decoder_block_out_channels": (8, 8, 8, 8),
    "layers_per_block": (1, 1, 1, 1, 1),
    "decoder_layers_per_block": (1, 1, 1, 1, 1),
    "spatio_temporal_scaling": (True, True, False, False),
    "decoder_spatio_temporal_scaling": (True, True, False, False),
    "decoder_inject_noise": (False, False, False, False, False),
    "upsample_residual": (False, False, False, False),
    "upsample_factor": (1, 1, 1, 1),
    "patch_size": 1,
    "patch_size_t": 1,
}


@dataclass(frozen=True)
class GeneratorBenchConfig:
    model: str | None = None
    architecture: str | None = None
    random_weights: bool = False
    width: int = 768
    height: int = 512
    frames: int = 49
    steps: int = 8
    fps: float = 24.0
    repeats: int = 2  # timed calls after the first
    device: str = "auto"  # cuda when there is one

    def __post_init__(self) -> None:
        if (self.model is None) == (self.architecture is None):
            raise InputError("give --model PATH_OR_ID or --architecture NAME --random-weights")
        if self.architecture is not None and not self.random_weights:
            raise InputError("--architecture builds random weights: add --random-weights")
        if self.architecture is not None and self.architecture not in ARCHITECTURES:
            raise InputError(f"--architecture must be one of {', '.join(ARCHITECTURES)}")
        if self.width % 32 or self.height % 32 or (self.frames - 1) % 8:
            raise InputError("--width and --height must be multiples of 32, --frames 8k + 1")
        if not 1 <= self.steps <= 200 or not 0 <= self.repeats <= 20:
            raise InputError("--steps must be in [1, 200], --repeats in [0, 20]")


def word_tokenizer(words: Sequence[str]) -> Any:
    """A word-level tokenizer over ``words`` (others map to <unk>), for random-weight text
    encoders: no real vocabulary is needed, the token count sets the cost. Shared with the
    tests' tiny pipelines."""
    tokenizers: Any = importlib.import_module("tokenizers")
    transformers: Any = importlib.import_module("transformers")
    specials = ["<pad>", "</s>", "<unk>", "<bos>"]
    vocab = {word: i for i, word in enumerate(dict.fromkeys([*specials, *words]))}
    model = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    model.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=model,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        bos_token="<bos>",
    )


def _ltx(size: str, pipeline_class: str) -> Callable[[Any, Any, bool], tuple[Any, list[str]]]:
    """A builder of LTX-Video image-to-video (``pipeline_class``: LTXImageToVideoPipeline or
    LTXConditionPipeline): the 2B architecture (the configuration diffusers ships as
    LTXVideoTransformer3DModel's and AutoencoderKLLTXVideo's defaults, which are LTX-Video
    0.9's) or a tiny one for tests."""

    def build(device: Any, dtype: Any, shrink_text: bool) -> tuple[Any, list[str]]:
        import torch

        # diffusers and transformers carry no usable types for mypy: used as Any.
        diffusers: Any = importlib.import_module("diffusers")
        transformers: Any = importlib.import_module("transformers")
        AutoencoderKLLTXVideo = diffusers.AutoencoderKLLTXVideo
        FlowMatchEulerDiscreteScheduler = diffusers.FlowMatchEulerDiscreteScheduler
        Pipeline = getattr(diffusers, pipeline_class)
        LTXVideoTransformer3DModel = diffusers.LTXVideoTransformer3DModel
        T5Config, T5EncoderModel = transformers.T5Config, transformers.T5EncoderModel

        notes = []
        with torch.device(device):
            if size == "2b":
                transformer = LTXVideoTransformer3DModel()
                vae = AutoencoderKLLTXVideo()
                text: dict[str, Any] = dict(_T5_XXL)
                if shrink_text:
                    text["num_layers"] = 2
                    notes.append("text encoder cut to 2 of T5-XXL's 24 layers to fit CPU memory")
            else:
                transformer = LTXVideoTransformer3DModel(**TINY_LTX_TRANSFORMER)
                vae = AutoencoderKLLTXVideo(**TINY_LTX_VAE)
                text = {"d_model": 32, "d_ff": 37, "num_layers": 2, "num_heads": 4, "d_kv": 8}
            encoder = T5EncoderModel(T5Config(vocab_size=32128, **text))
        # LTX-Video 0.9's scheduler (no terminal shift: with one step it gives NaN); the
        # condition pipeline (0.9.5 on) sets its own timesteps, without dynamic shifting.
        if pipeline_class == "LTXConditionPipeline":
            scheduler = FlowMatchEulerDiscreteScheduler()
        else:
            scheduler = FlowMatchEulerDiscreteScheduler(
                use_dynamic_shifting=True,
                base_shift=0.95,
                max_shift=2.05,
                base_image_seq_len=1024,
                max_image_seq_len=4096,
            )
        pipeline = Pipeline(
            scheduler=scheduler,
            vae=vae,
            text_encoder=encoder,
            tokenizer=word_tokenizer([f"w{i}" for i in range(500)]),
            transformer=transformer,
        )
        return pipeline.to(dtype=dtype), notes

    return build


ARCHITECTURES = {
    "ltx-2b": _ltx("2b", "LTXImageToVideoPipeline"),
    "ltx-2b-condition": _ltx("2b", "LTXConditionPipeline"),
    "ltx-tiny": _ltx("tiny", "LTXImageToVideoPipeline"),
    "ltx-tiny-condition": _ltx("tiny", "LTXConditionPipeline"),
}


def _peak_mb(device: Any) -> float:
    import torch

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _segment_request(config: GeneratorBenchConfig, index: int, tail: tuple[Any, ...]) -> Any:
    from mirage_stream.receiver.generators import GenerationRequest, GeneratorConfig
    from mirage_stream.receiver.profile import ReceiverProfile, build_prompt
    from mirage_stream.types import SceneFacts

    keyframe = np.random.default_rng(index).integers(0, 256, (config.height, config.width, 3))
    return GenerationRequest(
        keyframes=((0, keyframe.astype(np.uint8)),),
        facts=SceneFacts(),
        prompt=build_prompt("w1 w2 w3 w4 w5 w6 w7 w8", ReceiverProfile()),
        config=GeneratorConfig(
            num_frames=config.frames,
            fps=config.fps,
            width=config.width,
            height=config.height,
            steps=config.steps,
            guidance=1.0,  # as distilled models run
            seed=index,
        ),
        tail=tail,
    )


@dataclass(frozen=True)
class GeneratorBenchResult:
    """``bench generator --json``: what one diffusers pipeline costs per generated second."""

    model: str | None
    pipeline: str
    family: str
    continues: bool
    device: str
    dtype: str
    params: int
    width: int
    height: int
    frames: int
    steps: int
    s_per_generated_s: float
    first_frame_s: float  # the first call: the first segment's wait
    segment_s: list[float]
    text_encoder_s: float
    peak_memory_mb: float  # CUDA: generation; CPU: the process
    build_s: float
    notes: list[str]


def bench_generator(config: GeneratorBenchConfig) -> GeneratorBenchResult:
    import torch

    from mirage_stream.receiver.diffusion import DiffusersVideoGenerator, DiffusionOptions
    from mirage_stream.receiver.generators import TAIL_FRAMES

    cuda = torch.cuda.is_available() and config.device in ("auto", "cuda")
    device = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16 if cuda else torch.float32
    torch.manual_seed(0)
    started = time.perf_counter()
    if config.architecture is not None:
        pipeline, notes = ARCHITECTURES[config.architecture](device, dtype, not cuda)
        notes.insert(0, "random weights: the frames are meaningless, the costs are real")
    else:
        from mirage_stream.hub import load_error, model_source

        DiffusionPipeline: Any = importlib.import_module("diffusers").DiffusionPipeline

        assert config.model is not None
        source = model_source(config.model, "--model")
        try:
            pipeline = DiffusionPipeline.from_pretrained(
                source.target, torch_dtype=dtype, local_files_only=source.local_files_only
            )
        except (OSError, ValueError) as error:
            raise load_error("--model", config.model, "a diffusers pipeline", error) from None
        notes = []
    pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    build_s = time.perf_counter() - started
    params = sum(p.numel() for p in pipeline.transformer.parameters())
    generator = DiffusersVideoGenerator(
        pipeline, device=str(device), options=DiffusionOptions(distilled=False)
    )
    began = time.perf_counter()
    generator.arguments(generator.plan(_segment_request(config, 0, ())))  # encodes the prompt
    text_s = time.perf_counter() - began
    # The prompt's embedding is cached: the encoder leaves the GPU and the peak below is
    # generation's own.
    pipeline.text_encoder.to("cpu")
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    seconds, tail = [], ()
    for index in range(1 + config.repeats):
        began = time.perf_counter()
        frames = generator.generate(_segment_request(config, index, tail))
        if cuda:
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - began)
        tail = tuple(frames[-TAIL_FRAMES:])
    generated_s = config.frames / config.fps
    timed = seconds[1:] or seconds
    return GeneratorBenchResult(
        model=config.model or config.architecture,
        pipeline=type(pipeline).__name__,
        family=generator.family.name,
        continues=generator.family.continues,
        device=torch.cuda.get_device_name(device) if cuda else "cpu",
        dtype=str(dtype).removeprefix("torch."),
        params=params,
        width=config.width,
        height=config.height,
        frames=config.frames,
        steps=config.steps,
        s_per_generated_s=round(float(np.median(timed)) / generated_s, 4),
        first_frame_s=round(seconds[0], 3),
        segment_s=[round(s, 3) for s in seconds],
        text_encoder_s=round(text_s, 3),
        peak_memory_mb=round(_peak_mb(device), 1),
        build_s=round(build_s, 1),
        notes=notes,
    )
