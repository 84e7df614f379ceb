"""``bench generator``: the same code path that timed LTX 2B on a GPU, on a tiny architecture."""

from __future__ import annotations

import pytest

from mirage_stream.bench.generator import GeneratorBenchConfig, bench_generator
from mirage_stream.errors import InputError


def test_generator_bench_times_the_ltx_path_on_a_tiny_architecture():
    result = bench_generator(
        GeneratorBenchConfig(
            architecture="ltx-tiny",
            random_weights=True,
            width=64,
            height=64,
            frames=9,
            steps=1,
            repeats=1,
            device="cpu",
        )
    )
    assert result.device == "cpu" and result.dtype == "float32"
    assert 10_000 < result.params < 100_000  # the tiny denoiser's own parameters
    assert len(result.segment_s) == 2 and result.s_per_generated_s > 0
    assert result.notes[0].startswith("random weights")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give --model"),
        ({"architecture": "ltx-2b"}, "add --random-weights"),
        ({"architecture": "sora", "random_weights": True}, "must be one of"),
        ({"architecture": "ltx-tiny", "random_weights": True, "width": 100}, "multiples of 32"),
        ({"architecture": "ltx-tiny", "random_weights": True, "frames": 10}, "8k \\+ 1"),
    ],
)
def test_generator_bench_checks_its_options(kwargs, message):
    with pytest.raises(InputError, match=message):
        GeneratorBenchConfig(**kwargs)
