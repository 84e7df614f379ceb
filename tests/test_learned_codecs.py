"""Learned codecs on tiny random-weight models built from configs (no weights needed)."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from channel_sim import flip_bits
from mirage_stream.codecs import CodecError
from mirage_stream.codecs.learned.codecs import AeKeyframeCodec, VqKeyframeCodec, vq_from_variant
from mirage_stream.codecs.learned.model import (
    FSQ_LEVELS,
    AutoencoderConfig,
    CheckpointError,
    FsqQuantiser,
    KeyframeAutoencoder,
)
from mirage_stream.codecs.learned.train import TrainConfig, random_example, train
from tests.conftest import textured_image


def tiny_vq(codebook_size: int = 256) -> KeyframeAutoencoder:
    torch.manual_seed(0)
    config = AutoencoderConfig(
        kind="fsq",
        latent_channels=len(FSQ_LEVELS[codebook_size]),
        widths=(4, 8),
        residual_blocks=1,
        fsq_levels=FSQ_LEVELS[codebook_size],
        input_size=(32, 32),
    )
    return KeyframeAutoencoder(config).eval()


def tiny_ae() -> KeyframeAutoencoder:
    torch.manual_seed(0)
    config = AutoencoderConfig(
        kind="uniform", latent_channels=2, widths=(4, 8), residual_blocks=0, input_size=(32, 24)
    )
    return KeyframeAutoencoder(config).eval()


@pytest.mark.parametrize("codebook_size", [256, 512, 1024, 2048])
def test_fsq_indices_round_trip_and_cover_the_codebook(codebook_size):
    fsq = FsqQuantiser(FSQ_LEVELS[codebook_size])
    every = torch.arange(codebook_size).view(1, 1, -1)
    levels = fsq.from_indices(every)
    assert torch.equal(fsq.to_indices(levels), every)


@pytest.mark.parametrize("codebook_size", [256, 512, 1024, 2048])
def test_vq_codec_costs_h_w_log2_k_bits(codebook_size):
    codec = VqKeyframeCodec(tiny_vq(codebook_size))
    encoded = codec.encode(textured_image())
    assert codec.grid == (16, 16) and encoded.grid == (16, 16)
    assert len(encoded.data) == 16 * 16 * int(np.log2(codebook_size)) // 8
    decoded = codec.decode(encoded, (320, 240))
    assert decoded.shape == (240, 320, 3) and decoded.dtype == np.uint8


def test_vq_decode_survives_any_damage():
    codec = VqKeyframeCodec(tiny_vq())
    encoded = codec.encode(textured_image())
    rng = np.random.default_rng(0)
    for data in (flip_bits(encoded.data, 0.3, rng)[0], b"", b"\xff" * 1000):
        damaged = dataclasses.replace(encoded, data=data)
        assert codec.decode(damaged, (64, 48), damaged=True).shape == (48, 64, 3)


def test_random_index_order_decodes_the_same_picture_without_errors():
    model = tiny_vq()
    lattice, shuffled = VqKeyframeCodec(model), VqKeyframeCodec(model, index_order="random")
    image = textured_image()
    a = lattice.decode(lattice.encode(image), (64, 48))
    b = shuffled.decode(shuffled.encode(image), (64, 48))
    assert np.array_equal(a, b)
    assert lattice.encode(image).data != shuffled.encode(image).data


@pytest.mark.parametrize("bits", [2, 3, 4, 6, 8])
def test_ae_codec_sizes(bits):
    codec = AeKeyframeCodec(tiny_ae(), bits=bits)
    encoded = codec.encode(textured_image())
    assert len(encoded.data) == codec.payload_bytes() == (2 * 12 * 16 * bits + 7) // 8
    assert codec.decode(encoded, (320, 240)).shape == (240, 320, 3)


def test_save_and_load_round_trip(tmp_path):
    model = tiny_vq()
    model.save_pretrained(tmp_path)
    loaded = KeyframeAutoencoder.from_pretrained(tmp_path)
    assert loaded.config == model.config
    image = textured_image()
    assert VqKeyframeCodec(loaded).encode(image) == VqKeyframeCodec(
        KeyframeAutoencoder.from_pretrained(tmp_path)
    ).encode(image)
    codec = vq_from_variant("K256", folder=tmp_path)
    # A codec coding at another size than the shipped 64x64 names its size in its variant, so
    # that a receiver loads the same weights.
    assert codec.variant == "K256@32x32"
    assert vq_from_variant(codec.variant, folder=tmp_path).variant == "K256@32x32"
    with pytest.raises(CodecError, match="K=256"):
        vq_from_variant("K512", folder=tmp_path)
    for wrong in ("K256@32", "K256@axb", "256"):
        with pytest.raises(CodecError, match="form"):
            vq_from_variant(wrong, folder=tmp_path)


def test_checkpoint_mismatch_is_named(tmp_path):
    tiny_vq().save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["widths"] = [4, 16]
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"do not match config\.json"):
        KeyframeAutoencoder.from_pretrained(tmp_path)
    config["colour"] = "blue"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="unknown fields"):
        KeyframeAutoencoder.from_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="lacks"):
        KeyframeAutoencoder.from_pretrained(tmp_path / "nowhere")


def test_wrong_image_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="H, W, 3"):
        VqKeyframeCodec(tiny_vq()).encode(np.zeros((32, 32), dtype=np.uint8))


def test_training_is_reproducible_and_learns(tmp_path):
    config = tiny_vq().config
    settings = TrainConfig(steps=12, batch_size=4, crop_size=(32, 32), seed=3)
    first = train(config, settings, tmp_path / "a")
    second = train(config, settings, tmp_path / "b")
    for key, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[key])
    history = json.loads((tmp_path / "a" / "training.json").read_text())["history"]
    assert history[-1]["loss"] < history[0]["loss"]


def test_random_example_has_the_requested_size():
    rng = np.random.default_rng(0)
    example = random_example(textured_image(), (64, 48), rng)
    assert example.shape == (48, 64, 3) and example.dtype == np.uint8
