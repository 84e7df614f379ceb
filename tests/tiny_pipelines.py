"""Tiny random-weight instances of each image-to-video pipeline family, built from configs (no
downloads): every part of the real call path runs, in seconds on a CPU. Frames are noise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

WORDS = "a an the one two person people talks walks in car street camera is still scene moves"


def word_tokenizer() -> Any:
    """A word-level tokenizer over the words our captions use (unknown words map to <unk>)."""
    from mirage_stream.bench.generator import word_tokenizer as over

    return over(WORDS.split())


def _t5(width: int = 32) -> Any:
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(
        T5Config(vocab_size=32, d_model=width, d_kv=8, d_ff=37, num_layers=2, num_heads=4)
    )


def _ltx_parts() -> dict[str, Any]:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXVideoTransformer3DModel,
    )

    from mirage_stream.bench.generator import TINY_LTX_TRANSFORMER, TINY_LTX_VAE

    return {
        "scheduler": FlowMatchEulerDiscreteScheduler(),
        "vae": AutoencoderKLLTXVideo(**TINY_LTX_VAE),
        "text_encoder": _t5(),
        "tokenizer": word_tokenizer(),
        "transformer": LTXVideoTransformer3DModel(**TINY_LTX_TRANSFORMER),
    }


def ltx() -> Any:
    from diffusers import LTXImageToVideoPipeline

    return LTXImageToVideoPipeline(**_ltx_parts())


def ltx_condition() -> Any:
    from diffusers import LTXConditionPipeline

    return LTXConditionPipeline(**_ltx_parts())


def _wan_vae() -> Any:
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )


# The Wan-style denoiser both Wan and SkyReels-V2 use, tiny.
_WAN_TRANSFORMER = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 2,
    "attention_head_dim": 8,
    "out_channels": 16,
    "text_dim": 32,
    "freq_dim": 32,
    "ffn_dim": 32,
    "num_layers": 1,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "rope_max_seq_len": 32,
}


def _umt5() -> Any:
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(
        UMT5Config(vocab_size=32, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4)
    )


def _clip_vision() -> tuple[Any, Any]:
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(
        hidden_size=8,
        projection_dim=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        intermediate_size=16,
        patch_size=4,
    )
    return CLIPVisionModelWithProjection(config), CLIPImageProcessor(crop_size=32, size=32)


def wan() -> Any:
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )

    image_encoder, image_processor = _clip_vision()
    return WanImageToVideoPipeline(
        tokenizer=word_tokenizer(),
        text_encoder=_umt5(),
        vae=_wan_vae(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        image_processor=image_processor,
        image_encoder=image_encoder,
        # Wan 2.1 I2V: 16 noise + 16 image latent channels + 4 mask channels; CLIP image tokens.
        transformer=WanTransformer3DModel(in_channels=36, image_dim=8, **_WAN_TRANSFORMER),
    )


def skyreels() -> Any:
    from diffusers import (
        SkyReelsV2DiffusionForcingImageToVideoPipeline,
        SkyReelsV2Transformer3DModel,
        UniPCMultistepScheduler,
    )

    return SkyReelsV2DiffusionForcingImageToVideoPipeline(
        tokenizer=word_tokenizer(),
        text_encoder=_umt5(),
        transformer=SkyReelsV2Transformer3DModel(in_channels=16, **_WAN_TRANSFORMER),
        vae=_wan_vae(),
        scheduler=UniPCMultistepScheduler(
            flow_shift=5.0, use_flow_sigmas=True, prediction_type="flow_prediction"
        ),
    )


def cogvideox() -> Any:
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXTransformer3DModel,
    )

    return CogVideoXImageToVideoPipeline(
        tokenizer=word_tokenizer(),
        text_encoder=_t5(),
        vae=AutoencoderKLCogVideoX(
            in_channels=3,
            out_channels=3,
            down_block_types=("CogVideoXDownBlock3D",) * 4,
            up_block_types=("CogVideoXUpBlock3D",) * 4,
            block_out_channels=(8, 8, 8, 8),
            latent_channels=4,
            layers_per_block=1,
            norm_num_groups=2,
            temporal_compression_ratio=4,
        ),
        transformer=CogVideoXTransformer3DModel(
            num_attention_heads=2,
            attention_head_dim=16,
            in_channels=8,
            out_channels=4,
            time_embed_dim=2,
            text_embed_dim=32,
            num_layers=1,
            sample_width=4,
            sample_height=4,
            sample_frames=9,
            patch_size=2,
            temporal_compression_ratio=4,
            max_text_seq_length=16,
            use_rotary_positional_embeddings=True,
            use_learned_positional_embeddings=False,
        ),
        scheduler=CogVideoXDDIMScheduler(),
    )


def svd() -> Any:
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    return StableVideoDiffusionPipeline(
        vae=AutoencoderKLTemporalDecoder(
            block_out_channels=[32, 64],
            in_channels=3,
            out_channels=3,
            down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
            latent_channels=4,
        ),
        image_encoder=CLIPVisionModelWithProjection(
            CLIPVisionConfig(
                hidden_size=16,
                projection_dim=16,
                num_hidden_layers=1,
                num_attention_heads=2,
                image_size=224,
                intermediate_size=16,
                patch_size=32,
            )
        ),
        unet=UNetSpatioTemporalConditionModel(
            block_out_channels=(32, 64),
            layers_per_block=1,
            sample_size=16,
            in_channels=8,
            out_channels=4,
            down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
            up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
            cross_attention_dim=16,
            num_attention_heads=(2, 4),
            addition_time_embed_dim=4,
            projection_class_embeddings_input_dim=12,
        ),
        scheduler=EulerDiscreteScheduler(
            beta_schedule="scaled_linear",
            beta_start=0.00085,
            beta_end=0.012,
            interpolation_type="linear",
            num_train_timesteps=1000,
            prediction_type="v_prediction",
            sigma_max=700.0,
            sigma_min=0.002,
            steps_offset=1,
            timestep_spacing="leading",
            timestep_type="continuous",
            trained_betas=None,
            use_karras_sigmas=True,
        ),
        feature_extractor=CLIPImageProcessor(crop_size=32, size=32),
    )


def ltx2_condition() -> Any:
    from diffusers import LTX2ConditionPipeline

    return LTX2ConditionPipeline(**ltx2().components)


def ltx2() -> Any:
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2ImageToVideoPipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    text = {
        "vocab_size": 300,
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 8,
        "sliding_window": 8,
    }
    vision = {
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": 32,
        "patch_size": 8,
    }
    encoder = Gemma3ForConditionalGeneration(
        Gemma3Config(
            text_config=text,
            vision_config=vision,
            mm_tokens_per_image=4,
            image_token_index=299,
            boi_token_index=297,
            eoi_token_index=298,
        )
    )
    hidden, layers = 16, 2
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        attn_resolutions=None,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        norm_type="pixel",
        causality_axis="height",
        dropout=0.0,
        mid_block_add_attention=False,
        sample_rate=16000,
        mel_hop_length=160,
        is_causal=True,
        mel_bins=8,
    )
    return LTX2ImageToVideoPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=AutoencoderKLLTX2Video(
            in_channels=3,
            out_channels=3,
            latent_channels=4,
            block_out_channels=(8,),
            decoder_block_out_channels=(8,),
            layers_per_block=(1,),
            decoder_layers_per_block=(1, 1),
            spatio_temporal_scaling=(True,),
            decoder_spatio_temporal_scaling=(True,),
            decoder_inject_noise=(False, False),
            downsample_type=("spatial",),
            upsample_residual=(False,),
            upsample_factor=(1,),
            timestep_conditioning=False,
            patch_size=1,
            patch_size_t=1,
            encoder_causal=True,
            decoder_causal=False,
        ),
        audio_vae=audio_vae,
        text_encoder=encoder,
        tokenizer=word_tokenizer(),
        connectors=LTX2TextConnectors(
            caption_channels=hidden,
            text_proj_in_factor=layers + 1,
            video_connector_num_attention_heads=2,
            video_connector_attention_head_dim=8,
            video_connector_num_layers=1,
            video_connector_num_learnable_registers=None,
            audio_connector_num_attention_heads=2,
            audio_connector_attention_head_dim=8,
            audio_connector_num_layers=1,
            audio_connector_num_learnable_registers=None,
            connector_rope_base_seq_len=32,
            rope_theta=10000.0,
            rope_double_precision=False,
            causal_temporal_positioning=False,
            rope_type="split",
        ),
        transformer=LTX2VideoTransformer3DModel(
            in_channels=4,
            out_channels=4,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=2,
            attention_head_dim=8,
            cross_attention_dim=16,
            audio_in_channels=4,
            audio_out_channels=4,
            audio_num_attention_heads=2,
            audio_attention_head_dim=4,
            audio_cross_attention_dim=8,
            num_layers=1,
            qk_norm="rms_norm_across_heads",
            caption_channels=hidden,
            rope_double_precision=False,
            rope_type="split",
        ),
        vocoder=LTX2Vocoder(
            in_channels=audio_vae.config.output_channels * audio_vae.config.mel_bins,
            hidden_channels=32,
            out_channels=2,
            upsample_kernel_sizes=[4, 4],
            upsample_factors=[2, 2],
            resnet_kernel_sizes=[3],
            resnet_dilations=[[1, 3, 5]],
            leaky_relu_negative_slope=0.1,
            output_sampling_rate=16000,
        ),
    )


TINY_FAMILIES: dict[str, Callable[[], Any]] = {
    "ltx": ltx,
    "ltx-condition": ltx_condition,
    "ltx-2": ltx2,
    "ltx-2-condition": ltx2_condition,
    "wan": wan,
    "skyreels-v2": skyreels,
    "cogvideox": cogvideox,
    "svd": svd,
}


def build(name: str) -> Any:
    torch.manual_seed(0)
    pipeline = TINY_FAMILIES[name]()
    pipeline.set_progress_bar_config(disable=True)
    return pipeline
