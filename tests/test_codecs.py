import dataclasses
import os

import numpy as np
import pytest

from channel_sim import flip_bits
from mirage_stream.codecs import CodecError, ThumbnailCodec, codec_for, make_codec
from mirage_stream.metrics import psnr_db
from tests.conftest import textured_image


def test_thumbnail_round_trip_keeps_a_smooth_picture():
    image = textured_image(cell=48)
    codec = make_codec("thumbnail")
    encoded = codec.encode(image, frame_index=4)
    assert len(encoded.data) == codec.payload_bytes()
    assert encoded.frame_index == 4
    decoded = codec_for(encoded).decode(encoded, (320, 240))
    assert decoded.shape == (240, 320, 3) and decoded.dtype == np.uint8
    assert 18.0 < psnr_db(image, decoded) < 40.0


def test_decode_to_other_sizes():
    encoded = ThumbnailCodec().encode(textured_image())
    assert ThumbnailCodec().decode(encoded, (64, 48)).shape == (48, 64, 3)


def test_median_cleanup_helps_on_damaged_symbols():
    image = textured_image(seed=5)
    codec = ThumbnailCodec()
    encoded = codec.encode(image)
    rng = np.random.default_rng(0)
    plain, cleaned = [], []
    for _ in range(10):
        damaged = dataclasses.replace(encoded, data=flip_bits(encoded.data, 0.114, rng)[0])
        plain.append(psnr_db(image, codec.decode(damaged, (320, 240), damaged=False)))
        cleaned.append(psnr_db(image, codec.decode(damaged, (320, 240), damaged=True)))
    assert np.mean(cleaned) > np.mean(plain) + 1.0


@pytest.mark.parametrize("data", [b"", b"\xff" * 3, bytes(5000)])
def test_any_symbol_bytes_decode_without_error(data):
    encoded = dataclasses.replace(ThumbnailCodec().encode(textured_image()), data=data)
    assert ThumbnailCodec().decode(encoded, (32, 24), damaged=True).shape == (24, 32, 3)


def test_variant_names_the_setting_and_round_trips():
    codec = ThumbnailCodec(luma_grid=(16, 12), luma_bits=6, chroma_grid=(8, 6), chroma_bits=3)
    assert codec.variant == "y16x12b6-c8x6b3"
    assert ThumbnailCodec.from_variant(codec.variant) == codec


@pytest.mark.parametrize("variant", ["", "y999x1b5-c1x1b1", "y4x4b9-c2x2b2", "bogus"])
def test_bad_variant_is_codec_error(variant):
    with pytest.raises(CodecError):
        ThumbnailCodec.from_variant(variant)


def test_unknown_codec_is_codec_error():
    encoded = dataclasses.replace(ThumbnailCodec().encode(textured_image()), codec="nope")
    with pytest.raises(CodecError):
        codec_for(encoded)
    with pytest.raises(CodecError):
        make_codec("nope")


def test_wrong_image_shape_is_clear_error():
    with pytest.raises(ValueError, match="H, W, 3"):
        ThumbnailCodec().encode(np.zeros((10, 10), dtype=np.uint8))


def test_damaged_bits_map_to_symbol_indices():
    codec = ThumbnailCodec()  # 432 luma symbols of 5 bits (270 B), then 108 + 108 of 4 bits
    assert codec.damaged_symbols([0, 4]) == [0]
    assert codec.damaged_symbols([5, 2159]) == [1, 431]
    assert codec.damaged_symbols([270 * 8]) == [432]  # first bit of the Cr plane
    assert codec.damaged_symbols([270 * 8 + 54 * 8 + 7]) == [432 + 108 + 1]


def test_av1_baseline_leaves_the_scheduling_policy_alone():
    # Run as root, SVT-AV1 makes the thread that opens it SCHED_FIFO 99; every later thread
    # and child process would inherit that (it once starved the machine mid test run).
    from mirage_stream.codecs.still import av1_still

    before = (os.sched_getscheduler(0), os.sched_getparam(0))
    size, decoded = av1_still(np.full((48, 64, 3), 128, np.uint8), 50)
    assert size > 0 and decoded.shape == (48, 64, 3)
    assert (os.sched_getscheduler(0), os.sched_getparam(0)) == before
