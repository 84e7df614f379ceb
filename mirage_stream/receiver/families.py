"""Image-to-video pipeline families: theta_g (eq. 17) mapped onto each one's own call.

A family knows what its pipeline accepts (frame counts of 1 + k * its VAE's temporal
compression, sizes in multiples of its VAE and patch), where keyframes go (every keyframe at its
frame index where the pipeline takes conditions, the first one as ``image`` otherwise, the last
one as ``last_image`` where a pipeline takes an end frame), whether it can continue a video (the
previous segment's tail as a condition: no jump at the boundary), and the steps and guidance its
distilled checkpoints were trained for. Pipelines of no known family still work when their call
takes ``image``: the generic family passes what their signature names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mirage_stream.receiver.generators import GenerationRequest


@dataclass(frozen=True)
class ModelPlan:
    """One segment as the model makes it: sizes and frame count already rounded to what the
    pipeline takes; keyframes and the continued tail placed at model frame indices."""

    width: int
    height: int
    num_frames: int  # the model's frames, the continued tail included
    keyframes: tuple[tuple[int, Any], ...]  # (model frame index, PIL image)
    tail: tuple[Any, ...]  # the previous segment's last frames (PIL), continued from frame 0
    new_from: int  # the model frame where the new segment starts: after the tail
    steps: int
    guidance: float
    request: GenerationRequest
    end_frame: bool = False  # the checkpoint takes an end frame (``last_image``)


ArgumentMap = Callable[[ModelPlan], dict[str, Any]]


@dataclass(frozen=True)
class PipelineFamily:
    name: str
    pipelines: tuple[str, ...]  # diffusers class names
    temporal: int  # frames = 1 + k * temporal
    spatial: int  # width and height in multiples of this
    max_frames: int  # the longest clip it was trained for
    arguments: ArgumentMap  # the family's own arguments (the shared ones are added)
    continues: bool = False  # takes the previous segment's tail as a condition
    distilled_steps: int = 8
    distilled_guidance: float = 1.0
    takes_text: bool = True
    # Whether a loaded checkpoint takes an end frame (``last_image``): not every one does.
    end_frame: Callable[[Any], bool] = lambda pipeline: False

    def model_frames(self, wanted: int) -> int:
        """The fewest frames >= ``wanted`` it accepts (1 + k * temporal), within its limit."""
        frames = min(max(wanted, 1), self.max_frames)
        if self.temporal <= 1:
            return frames
        return 1 + self.temporal * max(1, math.ceil((frames - 1) / self.temporal))

    def model_side(self, side: float) -> int:
        return max(self.spatial, round(side / self.spatial) * self.spatial)


def _first_image(plan: ModelPlan) -> dict[str, Any]:
    return {"image": plan.keyframes[0][1]}


def _first_and_last(plan: ModelPlan) -> dict[str, Any]:
    """Wan and SkyReels take an end frame too: a keyframe on the segment's last frame."""
    arguments = _first_image(plan)
    (last_index, last_image) = plan.keyframes[-1]
    if plan.end_frame and len(plan.keyframes) > 1 and last_index >= plan.num_frames - 1:
        arguments["last_image"] = last_image
    return arguments


def _ltx_conditions(plan: ModelPlan) -> dict[str, Any]:
    """LTXConditionPipeline: the tail as a video at frame 0 (held fully), then every keyframe
    at its frame index, held as firmly as lambda (eq. 17) asks."""
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    strength = plan.request.config.keyframe_strength
    conditions = []
    if plan.tail:
        conditions.append(LTXVideoCondition(video=list(plan.tail), frame_index=0, strength=1.0))
    for index, image in plan.keyframes:
        conditions.append(LTXVideoCondition(image=image, frame_index=index, strength=strength))
    return {"conditions": conditions, "frame_rate": plan.request.config.fps}


def _ltx2_conditions(plan: ModelPlan) -> dict[str, Any]:
    """LTX2ConditionPipeline: as LTX's conditions, in LTX-2's own condition type."""
    from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

    strength = plan.request.config.keyframe_strength
    conditions = [LTX2VideoCondition(frames=list(plan.tail), index=0)] if plan.tail else []
    conditions += [
        LTX2VideoCondition(frames=image, index=index, strength=strength)
        for index, image in plan.keyframes
    ]
    return {"conditions": conditions, "frame_rate": plan.request.config.fps}


def _frame_rate(plan: ModelPlan) -> dict[str, Any]:
    return _first_image(plan) | {"frame_rate": plan.request.config.fps}


def _skyreels(plan: ModelPlan) -> dict[str, Any]:
    # One synchronous window (ar_step 0) as long as the segment: diffusion forcing's long-video
    # scheduling is for clips longer than a segment.
    return _first_and_last(plan) | {"base_num_frames": plan.num_frames, "ar_step": 0}


def _cogvideox(plan: ModelPlan) -> dict[str, Any]:
    return _first_image(plan) | {"use_dynamic_cfg": plan.guidance > 1.0}


def _svd(plan: ModelPlan) -> dict[str, Any]:
    """SVD takes no text: the caption cannot reach it; its motion bucket (1..255) follows how
    far the sender measured things move (camera plus subject, pixels per frame: 4 and more is
    a lot), and lambda sets how much noise the keyframe gets."""
    config, facts = plan.request.config, plan.request.facts
    moved = math.hypot(facts.motion.dx, facts.motion.dy) + facts.motion.activity
    moved += math.hypot(facts.subject_dx, facts.subject_dy)
    motion = min(1.0, moved / 4.0)
    return _first_image(plan) | {
        "fps": max(1, round(config.fps)),
        "motion_bucket_id": round(40 + 200 * motion),
        "noise_aug_strength": 0.02 + 0.5 * (1.0 - config.keyframe_strength),
        "min_guidance_scale": 1.0,
        "max_guidance_scale": max(1.0, plan.guidance),
        "decode_chunk_size": 8,
    }


def _wan_end_frame(pipeline: Any) -> bool:
    """Wan 2.1 first-last-frame checkpoints (two images' positions) and Wan 2.2 (no image
    encoder: the end frame goes through the VAE) take an end frame; Wan 2.1 I2V does not."""
    if getattr(pipeline, "image_encoder", None) is None:
        return True
    return getattr(pipeline.transformer.config, "pos_embed_seq_len", None) is not None


FAMILIES: tuple[PipelineFamily, ...] = (
    PipelineFamily(
        "ltx-condition",
        ("LTXConditionPipeline",),
        temporal=8,
        spatial=32,
        max_frames=257,
        arguments=_ltx_conditions,
        continues=True,
    ),
    PipelineFamily("ltx", ("LTXImageToVideoPipeline",), 8, 32, 257, _frame_rate),
    PipelineFamily("ltx-2", ("LTX2ImageToVideoPipeline",), 8, 32, 257, _frame_rate),
    PipelineFamily(
        "ltx-2-condition",
        ("LTX2ConditionPipeline",),
        temporal=8,
        spatial=32,
        max_frames=257,
        arguments=_ltx2_conditions,
        continues=True,
    ),
    PipelineFamily(
        "wan",
        ("WanImageToVideoPipeline",),
        temporal=4,
        spatial=16,
        max_frames=81,
        arguments=_first_and_last,
        distilled_steps=4,
        end_frame=_wan_end_frame,
    ),
    PipelineFamily(
        "skyreels-v2",
        ("SkyReelsV2DiffusionForcingImageToVideoPipeline", "SkyReelsV2ImageToVideoPipeline"),
        temporal=4,
        spatial=16,
        max_frames=97,
        arguments=_skyreels,
        distilled_steps=4,
        end_frame=lambda pipeline: "image_encoder" not in pipeline.components,
    ),
    PipelineFamily("cogvideox", ("CogVideoXImageToVideoPipeline",), 4, 16, 49, _cogvideox),
    PipelineFamily(
        "svd",
        ("StableVideoDiffusionPipeline",),
        temporal=1,
        spatial=64,
        max_frames=25,
        arguments=_svd,
        distilled_steps=4,
        takes_text=False,
    ),
)


def _generic(plan: ModelPlan) -> dict[str, Any]:
    config = plan.request.config
    return _first_image(plan) | {"frame_rate": config.fps, "fps": round(config.fps)}


def family_of(pipeline: Any) -> PipelineFamily:
    """The pipeline's family by its class (or a parent's), else a generic one built from what
    its VAE and transformer say."""
    for cls in type(pipeline).__mro__:
        for family in FAMILIES:
            if cls.__name__ in family.pipelines:
                return family
    temporal: Any = getattr(pipeline, "vae_temporal_compression_ratio", None) or getattr(
        pipeline, "vae_scale_factor_temporal", 1
    )
    ratio: Any = (
        getattr(pipeline, "vae_spatial_compression_ratio", None)
        or getattr(pipeline, "vae_scale_factor_spatial", None)
        or getattr(pipeline, "vae_scale_factor", 8)
    )
    transformer = getattr(pipeline, "transformer", None)
    patch: Any = getattr(getattr(transformer, "config", None), "patch_size", 1) or 1
    if isinstance(patch, (tuple, list)):  # (t, h, w)
        patch = patch[-1]
    spatial = math.lcm(32, int(ratio) * int(patch))  # video pipelines often check 32 too
    return PipelineFamily("generic", (), int(temporal), spatial, 121, _generic)
