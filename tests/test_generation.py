"""Offline styles and identity, the diffusion backend on tiny components, the generation queue
under overload, gapless output, caption consistency."""

import asyncio
from pathlib import Path

import av
import numpy as np
import pytest

from mirage_stream.errors import InputError
from mirage_stream.metrics import psnr_db, ssim
from mirage_stream.pipeline import BoundedQueue, DropPolicy, Envelope, SegmentTrace, run_pipeline
from mirage_stream.player import VideoWriter
from mirage_stream.receiver import (
    GenerationRequest,
    GeneratorConfig,
    KeyframeMotionGenerator,
    ReceiverProfile,
    build_prompt,
)
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.receiver.diffusion import DiffusionGeneratorOptions
from mirage_stream.receiver.generator_backends import build_generator
from mirage_stream.receiver.profile import IdentityMode, Lighting, StylePreset
from mirage_stream.receiver.style import STYLES, anonymise_faces, relight
from mirage_stream.sender.detectors import detect_faces
from mirage_stream.types import FaceFact, SceneFacts
from tests.conftest import textured_image
from tests.virtual_time import run_in_virtual_time


@pytest.mark.parametrize("preset", [p for p in StylePreset if p is not StylePreset.NONE])
def test_each_style_changes_the_picture_but_keeps_its_layout(preset):
    image = textured_image()
    styled = STYLES[preset](image)
    assert styled.shape == image.shape and styled.dtype == np.uint8
    assert psnr_db(image, styled) < 35  # visibly different
    assert ssim(image, styled) > 0.2  # the same scene


def test_lighting_moves_brightness_the_right_way():
    image = textured_image()
    assert (
        relight(image, Lighting.BRIGHT).mean() > image.mean() > relight(image, Lighting.DIM).mean()
    )
    warm, cool = relight(image, Lighting.WARM), relight(image, Lighting.COOL)
    assert warm[..., 0].mean() - warm[..., 2].mean() > cool[..., 0].mean() - cool[..., 2].mean()


def test_anonymised_face_is_no_longer_detected(carphone_frames):
    frame = next(f for f in carphone_frames if detect_faces(f, work_width=320))
    box = detect_faces(frame, work_width=320)[0]
    face = FaceFact(box.x / 320, box.y / 240, box.width / 320, box.height / 240)
    hidden = anonymise_faces(frame, (face,))
    assert detect_faces(hidden, work_width=320) == []


def test_offline_generator_applies_identity_and_style(carphone_frames):
    frame = next(f for f in carphone_frames if detect_faces(f, work_width=320))
    box = detect_faces(frame, work_width=320)[0]
    facts = SceneFacts(
        faces=(FaceFact(box.x / 320, box.y / 240, box.width / 320, box.height / 240),)
    )
    profile = ReceiverProfile(identity=IdentityMode.ANONYMISE, style=StylePreset.CINEMATIC)
    request = GenerationRequest(
        keyframes=((0, frame),),
        facts=facts,
        prompt=build_prompt("A person.", profile),
        config=GeneratorConfig(num_frames=4, fps=25.0, width=320, height=240),
        profile=profile,
    )
    frames = KeyframeMotionGenerator().generate(request)
    assert all(detect_faces(f, work_width=320) == [] for f in frames)


def test_unknown_generator_or_missing_model_fails_at_start_up(tmp_path):
    with pytest.raises(InputError, match="--generator"):
        ReceiverConfig(generator="sora")
    with pytest.raises(InputError, match="--diffusion-model"):
        ReceiverConfig(generator="diffusion")
    absent = ReceiverConfig(
        generator="diffusion",
        generator_options=DiffusionGeneratorOptions(str(tmp_path / "absent")),
    )
    with pytest.raises(InputError, match="no model folder"):
        build_generator(absent.generator, absent.generator_options)


def test_diffusion_backend_runs_a_real_pipeline_on_tiny_weights(tiny_ltx, caplog):
    config = ReceiverConfig(
        generator="diffusion", generator_options=DiffusionGeneratorOptions(str(tiny_ltx))
    )
    with caplog.at_level("INFO", logger="mirage_stream.receiver.diffusion"):
        generator = build_generator(config.generator, config.generator_options)
    assert "diffusion: LTXImageToVideoPipeline (family ltx) on cpu in float32" in caplog.text
    profile = ReceiverProfile(style=StylePreset.ANIMATION)
    config = GeneratorConfig(num_frames=7, fps=25.0, width=40, height=30, steps=2, guidance=1.0)
    request = GenerationRequest(
        keyframes=((0, textured_image(30, 40)),),
        facts=SceneFacts(),
        prompt=build_prompt("One person talks in a car.", profile),
        config=config,
        profile=profile,
    )
    arguments = generator.arguments(generator.plan(request))
    # theta_g mapped onto what LTX takes: sizes in multiples of 32, 1 + 8k frames.
    assert arguments["height"] % 32 == 0 and arguments["width"] % 32 == 0
    assert (arguments["num_frames"] - 1) % 8 == 0 and arguments["num_frames"] >= 7
    assert arguments["num_inference_steps"] == 2 and "noise_aug_strength" not in arguments
    frames = generator.generate(request)
    assert frames.shape == (7, 30, 40, 3) and frames.dtype == np.uint8
    again = generator.generate(request)
    assert np.array_equal(frames, again)  # seeded


# --- generation queue under overload ----------------------------------------------------------


class _Slow:
    """A stage that takes ``seconds`` per item (generation slowed on purpose)."""

    name = "generate"

    def __init__(self, seconds):
        self.seconds = seconds

    async def process(self, item, trace):
        await asyncio.sleep(self.seconds)
        return item


class _Collect:
    def __init__(self):
        self.items = []

    async def consume(self, item, trace):
        self.items.append(item)

    async def close(self):
        pass


def test_three_times_overload_keeps_memory_bounded_and_accounts_for_every_segment():
    # On virtual time: the camera's 20 ms and generation's 60 ms are exact, whatever the load.
    period, segments = 0.02, 30
    queue = BoundedQueue(2, DropPolicy.DROP_OLDEST, drop_reason="skipped: generation behind")
    sink = _Collect()
    in_flight = []  # segments captured but neither played nor dropped yet, at each capture

    async def camera():
        for index in range(segments):
            await asyncio.sleep(period)
            in_flight.append(index - len(sink.items) - queue.dropped.total)
            yield Envelope(np.zeros((8, 8, 3), np.uint8), SegmentTrace(index=index))

    result, took_s = run_in_virtual_time(run_pipeline(camera(), [queue, _Slow(3 * period)], sink))
    played = {trace.index for trace in result.completed}
    skipped = {trace.index for trace in result.dropped}
    assert played | skipped == set(range(segments)) and not played & skipped
    # Memory stays bounded: at most the queue (2), the one being generated and the one the
    # feeder holds wait at any time; without drop-oldest the backlog would grow to ~20.
    assert queue.max_depth == 2 and max(in_flight) <= 4
    assert all(t.dropped == "skipped: generation behind" for t in result.dropped)
    # About a third get generated; the newest segment always does.
    assert segments - 1 in played and segments // 4 <= len(played) <= segments // 2
    # No backlog: after the last capture only the one in progress and the two queued remain
    # (without drop-oldest the call would run 30 x 60 ms = 1.8 s).
    assert segments * period < took_s <= segments * period + 3 * (3 * period)


# --- output -----------------------------------------------------------------------------------


def test_writer_fills_a_skipped_segment_by_holding_the_last_frame(tmp_path):
    path = tmp_path / "gap.mp4"
    writer = VideoWriter(path, 10.0, 32, 24)
    writer.write(np.full((5, 24, 32, 3), 50, np.uint8), 0)
    writer.write(np.full((5, 24, 32, 3), 200, np.uint8), 10)  # frames 5-9 were skipped
    writer.close()
    assert writer.frames_held == 5
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24").mean() for f in container.decode(video=0)]
    assert len(decoded) == 15
    assert decoded[7] == pytest.approx(50, abs=4) and decoded[12] == pytest.approx(200, abs=4)


# --- caption consistency ------------------------------------------------------------------------


def test_caption_consistency_is_high_for_the_same_video_and_lower_for_another():
    from mirage_stream.metrics.captions import CaptionConsistency
    from mirage_stream.sender import MeasuredFactsCaptioner
    from mirage_stream.types import VideoSegment
    from tests.conftest import panning_segment

    consistency = CaptionConsistency(MeasuredFactsCaptioner())
    moving = panning_segment(3, 0)
    black = VideoSegment(0, np.zeros((12, 240, 320, 3), np.uint8), 25.0, 0.0)
    same = consistency.compare(moving, moving)
    other = consistency.compare(moving, black)
    assert same["sbert"] == pytest.approx(1.0, abs=1e-3)
    assert other["sbert"] < same["sbert"] - 0.1
    assert same["bertscore_f1"] is None


def test_run_reports_profile_prompts(tmp_path):
    from mirage_stream.receiver import load_profile
    from mirage_stream.run import RunConfig, run_file
    from mirage_stream.sources.config import InputConfig

    profile = tmp_path / "p.toml"
    profile.write_text('[style]\npreset = "animation"\n[identity]\nmode = "anonymise"\n')
    config = RunConfig(
        input=InputConfig(input="sample:carphone", max_seconds=1.0),
        out=tmp_path / "out",
        receiver=ReceiverConfig(profile=load_profile(profile)),
    )
    report = asyncio.run(run_file(config)).report
    row = report.segments[0]
    assert "animation" in row["prompt"] and "anonymous" in row["prompt"]
    assert Path(tmp_path / "out" / "generated.mp4").exists()
