"""Image-to-video pipeline families on tiny random-weight instances: each saved like a real
model, loaded by name through ``--generator diffusion`` and run through the receiver on a real
clip; theta_g mapped onto each family's call; continuity across segments; the rate adapter."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from mirage_stream.errors import InputError
from mirage_stream.receiver import GenerationRequest, GeneratorConfig, ReceiverProfile
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.receiver.diffusion import (
    DiffusersVideoGenerator,
    DiffusionGeneratorOptions,
    DiffusionOptions,
)
from mirage_stream.receiver.generation_rate import LADDER, GenerationRateAdapter
from mirage_stream.receiver.profile import build_prompt
from mirage_stream.registry import NoOptions
from mirage_stream.types import SceneFacts
from tests.conftest import textured_image
from tests.tiny_pipelines import TINY_FAMILIES, build


@pytest.fixture(scope="module")
def saved_families(tmp_path_factory):
    folders = {}
    for name in TINY_FAMILIES:
        folder = tmp_path_factory.mktemp(name)
        build(name).save_pretrained(folder)
        folders[name] = folder
    return folders


def _request(frames=12, keyframes=((0, 0),), tail=(), config=None) -> GenerationRequest:
    images = tuple((index, textured_image(48, 64, seed=seed)) for index, seed in keyframes)
    return GenerationRequest(
        keyframes=images,
        facts=SceneFacts(),
        prompt=build_prompt("One person talks in a car.", ReceiverProfile()),
        config=config or GeneratorConfig(num_frames=frames, fps=25.0, width=64, height=48, steps=2),
        tail=tail,
    )


@pytest.mark.parametrize("name", sorted(TINY_FAMILIES))
def test_each_family_generates_a_segment_through_the_receiver(name, saved_families, tmp_path):
    from mirage_stream.run import RunConfig, run_file
    from mirage_stream.sources.config import InputConfig

    config = RunConfig(
        input=InputConfig(input="sample:carphone", max_seconds=1.0, width=64, height=48),
        out=tmp_path / "out",
        receiver=ReceiverConfig(
            width=64,
            height=48,
            generator="diffusion",
            generator_options=DiffusionGeneratorOptions(str(saved_families[name])),
            steps=2,
        ),
    )
    report = asyncio.run(run_file(config)).report
    assert report.totals.segments_played == 1
    row = report.segments[0]
    assert row["psnr_db"] is not None  # every generated frame compared with its source frame
    assert row["timings_ms"]["generate"] > 0
    assert (tmp_path / "out" / "generated.mp4").stat().st_size > 0


@pytest.mark.parametrize(
    ("name", "temporal", "spatial"),
    [
        ("ltx", 8, 32),
        ("ltx-condition", 8, 32),
        ("ltx-2", 8, 32),
        ("ltx-2-condition", 8, 32),
        ("wan", 4, 16),
        ("skyreels-v2", 4, 16),
        ("cogvideox", 4, 16),
        ("svd", 1, 64),
    ],
)
def test_theta_g_is_rounded_to_what_each_family_takes(name, temporal, spatial):
    generator = DiffusersVideoGenerator(build(name))
    assert generator.family.name == name
    plan = generator.plan(_request(frames=50, keyframes=((0, 0), (49, 1))))
    assert plan.width % spatial == 0 and plan.height % spatial == 0
    assert (plan.num_frames - 1) % temporal == 0
    assert plan.num_frames >= min(50, generator.family.max_frames)
    # Keyframes at their frame indices, mapped onto the model's frames.
    assert [index for index, _ in plan.keyframes] == [0, plan.num_frames - 1]
    arguments = generator.arguments(plan)
    assert arguments["num_frames"] == plan.num_frames
    if name == "ltx-condition":
        frames = [c.frame_index for c in arguments["conditions"]]
        assert frames == [0, plan.num_frames - 1]  # every keyframe, not the first only
    elif name == "ltx-2-condition":
        assert [c.index for c in arguments["conditions"]] == [0, plan.num_frames - 1]
    elif name == "svd":
        assert "prompt" not in arguments and "prompt_embeds" not in arguments
    else:
        assert "prompt_embeds" in arguments  # encoded once, cached


def test_a_distilled_checkpoint_gets_its_steps_and_no_guidance():
    generator = DiffusersVideoGenerator(build("wan"), options=DiffusionOptions(distilled=True))
    plan = generator.plan(_request(config=GeneratorConfig(12, 25.0, 64, 48, steps=30)))
    assert (plan.steps, plan.guidance) == (4, 1.0)
    assert "negative_prompt_embeds" not in generator.arguments(plan)  # no guidance, no negative


def test_each_distinct_prompt_is_encoded_once():
    generator = DiffusersVideoGenerator(build("ltx"))
    calls = []
    encode = generator.pipeline.encode_prompt

    def counted(*args, **kwargs):
        calls.append(kwargs["prompt"])
        return encode(*args, **kwargs)

    generator.pipeline.encode_prompt = counted
    for _ in range(3):
        generator.arguments(generator.plan(_request()))
    assert len(calls) == 1


def _boundary_and_within(generator, segments=3, frames=16):
    """Mean absolute frame difference (0-255) across segment boundaries and within segments,
    for consecutive segments each continued from the one before."""
    tail: tuple = ()
    made = []
    for index in range(segments):
        config = GeneratorConfig(frames, 25.0, 64, 48, steps=2, seed=index)
        frames_out = generator.generate(_request(keyframes=((0, index),), tail=tail, config=config))
        made.append(frames_out.astype(np.float32))
        tail = tuple(frames_out[-9:])
    boundary = [np.abs(a[-1] - b[0]).mean() for a, b in itertools.pairwise(made)]
    within = [np.abs(np.diff(m, axis=0)).mean() for m in made]
    return float(np.mean(boundary)), float(np.mean(within))


def test_each_segment_continues_from_the_previous_tail():
    """The tiny LTX condition pipeline gets the previous segment's last 9 frames as a video
    held at frame 0, the keyframe after them, and the new segment is what follows the overlap.
    Random weights make noise, so the boundary jump is measured (and printed) here, not
    claimed: it equals the within-segment change (see the README)."""
    generator = DiffusersVideoGenerator(build("ltx-condition"))
    seen = []
    call = generator.pipeline.__call__

    def spy(**kwargs):
        seen.append(kwargs)
        return call(**kwargs)

    generator.pipeline = _Spied(generator.pipeline, spy)
    tail = tuple(textured_image(48, 64, seed=s) for s in range(12))
    frames = generator.generate(_request(frames=16, keyframes=((0, 0), (15, 1)), tail=tail))
    assert frames.shape == (16, 48, 64, 3)
    first, *keyframes = seen[0]["conditions"]
    assert first.frame_index == 0 and first.strength == 1.0 and len(first.video) == 9
    assert np.array_equal(np.asarray(first.video[-1]), _resized(tail[-1], 64, 64))
    # The keyframes after the 9 tail frames; 9 + 16 frames are 1 + 8k = 25.
    assert seen[0]["num_frames"] == 25
    assert [k.frame_index for k in keyframes] == [9, 24]
    boundary, within = _boundary_and_within(DiffusersVideoGenerator(build("ltx-condition")))
    cut = DiffusersVideoGenerator(
        build("ltx-condition"), options=DiffusionOptions(continuity=False)
    )
    boundary_cut, within_cut = _boundary_and_within(cut)
    print(
        f"tiny LTX condition, mean |frame difference|: continued boundary {boundary:.1f} "
        f"within {within:.1f}; not continued boundary {boundary_cut:.1f} within {within_cut:.1f}"
    )
    assert boundary > 0 and within > 0


class _Spied:
    """A pipeline whose call is watched; everything else is the pipeline's."""

    def __init__(self, pipeline, call):
        self._pipeline, self._call = pipeline, call

    def __call__(self, **kwargs):
        return self._call(**kwargs)

    def __getattr__(self, name):
        return getattr(self._pipeline, name)


def _resized(image, width, height):
    import cv2

    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def test_the_rate_adapter_lowers_steps_then_size_and_climbs_back():
    adapter = GenerationRateAdapter()
    adapter.observe(0, generate_s=3.0, segment_s=2.0)  # 1.5 s per s: behind
    first = adapter.setting
    assert first.relative_cost * 1.5 <= adapter.target  # predicted to fit
    assert first.steps_scale < 1.0 or first.model_scale < 1.0
    adapter.observe(1, generate_s=60.0, segment_s=2.0)  # hopeless: the cheapest rung
    assert adapter.setting == LADDER[-1]
    for index in range(2, 40):  # fast again: back up one rung at a time
        adapter.observe(index, generate_s=0.1 * LADDER[adapter.level].relative_cost, segment_s=2.0)
    assert adapter.setting == LADDER[0]
    assert adapter.change_count == len(adapter.changes) >= 3


def test_a_live_diffusion_chain_reports_its_generation_setting():
    from mirage_stream.compose import build_receiver_chain

    generator = DiffusersVideoGenerator(build("ltx"))
    config = ReceiverConfig(width=64, height=48)
    live = build_receiver_chain(config, live=True, generator=generator)
    assert live.generate.rate_adapter is not None
    assert build_receiver_chain(config, generator=generator).generate.rate_adapter is None


def test_the_diffusion_flags_reach_the_receiver_config():
    import argparse

    parser = argparse.ArgumentParser()
    ReceiverConfig.add_arguments(parser)
    flags = (
        "--generator diffusion --diffusion-model m --vae-tiling --text-encoder-on-cpu "
        "--distilled --no-continuity --no-rate-adapter"
    )
    config = ReceiverConfig.from_args(parser.parse_args(flags.split()))
    assert config.generator_options == DiffusionGeneratorOptions(
        "m",
        run=DiffusionOptions(
            text_encoder_on_cpu=True, vae_tiling=True, distilled=True, continuity=False
        ),
    )
    assert not config.rate_adapter
    default = ReceiverConfig.from_args(parser.parse_args([]))
    assert default.generator_options == NoOptions() and default.rate_adapter
    diffusion = ReceiverConfig.from_args(parser.parse_args(flags.split()[:4]))
    assert diffusion.generator_options.run.distilled is None  # from the model's name


def test_a_backends_flag_given_with_another_backend_is_a_one_line_error(capsys):
    import argparse

    parser = argparse.ArgumentParser()
    ReceiverConfig.add_arguments(parser)
    with pytest.raises(InputError, match="--cpu-offload is an option of --generator diffusion"):
        ReceiverConfig.from_args(parser.parse_args(["--cpu-offload"]))
    with pytest.raises(InputError, match="--generator diffusion needs --diffusion-model"):
        ReceiverConfig.from_args(parser.parse_args(["--generator", "diffusion"]))
    help_text = parser.format_help()
    assert "--generator diffusion:" in help_text  # its flags grouped under its name
    assert help_text.index("--generator diffusion:") < help_text.index("\n  --cpu-offload")


def test_a_live_receiver_gives_freed_frames_back_to_the_os():
    import sys

    from mirage_stream.live.memory import return_freed_frames_to_the_os

    assert return_freed_frames_to_the_os() is sys.platform.startswith("linux")


def test_a_diffusion_generator_warms_up_and_the_offline_one_needs_none():
    from mirage_stream.receiver.generator_backends import build_generator, warm_up

    config = ReceiverConfig(width=64, height=48, steps=1)
    segment = config.typical_segment()
    assert warm_up(DiffusersVideoGenerator(build("ltx")), segment) > 0
    assert warm_up(build_generator(config.generator, config.generator_options), segment) is None
