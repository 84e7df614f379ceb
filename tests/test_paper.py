"""The paper bench: sweep points, their cache and executors, conventional video through the
channel, the tables against the paper's targets, and the report made from JSON alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from channel_sim import bit_error_rate
from mirage_stream.bench import conventional
from mirage_stream.bench.paper import PAPER_VQ, PaperBenchConfig, _tables
from mirage_stream.bench.paper_points import run_point
from mirage_stream.bench.paper_report import render_report, write_report
from mirage_stream.bench.sweep import Point, SweepConfig, run_points
from mirage_stream.bench.table1 import PAPER_TABLE1
from mirage_stream.errors import InputError
from mirage_stream.link.config import ChannelConfig


def test_point_keys_follow_every_parameter_and_not_their_order():
    a = Point.of("raw", clip="sample:carphone", snr_db=-10.0, seed=0)
    assert a.key() == Point.of("raw", seed=0, snr_db=-10.0, clip="sample:carphone").key()
    assert a.key() != Point.of("raw", clip="sample:carphone", snr_db=-10.0, seed=1).key()
    assert a.key() != Point.of("mirage", clip="sample:carphone", snr_db=-10.0, seed=0).key()


def _square(point: Point) -> dict:
    return {"value": point.get("x") ** 2}


def _refuse(point: Point) -> dict:
    raise AssertionError(f"{point} should have come from the cache")


def test_an_interrupted_sweep_resumes_from_its_cache(tmp_path):
    config = SweepConfig(workers=1, cache=tmp_path, progress=False)
    points = [Point.of("square", x=x) for x in range(3)]
    first = run_points(points[:2], _square, config)  # "interrupted" after two points
    assert [r["value"] for r in first.values()] == [0, 1]
    calls = []

    def counting(point: Point) -> dict:
        calls.append(point)
        return _square(point)

    resumed = run_points(points, counting, config)
    assert [r["value"] for r in resumed.values()] == [0, 1, 4]
    assert calls == [points[2]]  # only the missing point ran
    assert run_points(points, _refuse, config) == resumed
    # A damaged cache file is recomputed, never trusted.
    next(tmp_path.glob("*.json")).write_text("{not json")
    assert len(run_points(points, _square, config)) == 3


def test_sweep_config_checks_its_options():
    with pytest.raises(InputError, match="--executor"):
        SweepConfig(executor="dask")
    with pytest.raises(InputError, match="--address needs --executor ray"):
        SweepConfig(address="ray://x:10001")


def _raw_grid() -> list[Point]:
    common = {"bandwidth_hz": 20e6, "overhead_ms": 1.9, "seed": 3}
    return [Point.of("raw", clip="sample:carphone", snr_db=snr, **common) for snr in (-10.0, 10.0)]


@pytest.mark.slow
def test_local_processes_and_ray_give_identical_results(tmp_path):
    pytest.importorskip("ray")
    local = run_points(_raw_grid(), run_point, SweepConfig(workers=2, progress=False))
    ray = run_points(_raw_grid(), run_point, SweepConfig(executor="ray", workers=2, progress=False))
    assert local == ray
    low, high = (local[p] for p in _raw_grid())
    assert high["psnr_db"] > low["psnr_db"] + 5  # less damage at +10 dB than at -10 dB


def test_budget_for_air_is_the_most_bytes_that_fit():
    channel = ChannelConfig(snr_db=-10.0, overhead_ms=1.9)
    ber = bit_error_rate(-10.0)
    budget = conventional.budget_for_air(17.0, channel)
    assert conventional.air_ms(conventional.protected_bits(budget, ber), channel) <= 17.0
    assert conventional.air_ms(conventional.protected_bits(budget + 1, ber), channel) > 17.0
    assert 200 < budget < 2000
    assert conventional.budget_for_air(1.0, channel) == 0  # below the fixed overhead


def _segment() -> np.ndarray:
    from mirage_stream.bench.paper_points import segments_of

    segments, _ = segments_of("sample:carphone")
    return segments[0][:25]


@pytest.mark.parametrize("scheme", ["h264", "vp9"])
def test_protected_video_decodes_and_unprotected_breaks_at_minus_10_db(scheme):
    frames = _segment()
    channel = ChannelConfig(snr_db=-10.0)
    rng = np.random.default_rng(0)
    protected = conventional.video_segment(frames, 25.0, scheme, "fec", channel, rng)
    bare = conventional.video_segment(frames, 25.0, scheme, "none", channel, rng)
    assert protected["decoded_share"] == 1.0 and protected["psnr_db"] > 20
    assert bare["decoded_share"] < 0.5 and bare["psnr_db"] < protected["psnr_db"]
    # The protection's price: many times the bits on air at BER 0.114.
    assert protected["time_on_air_ms"] > 4 * bare["time_on_air_ms"]


@pytest.mark.slow
def test_tables_meet_the_issue_targets_against_the_paper():
    config = PaperBenchConfig(
        vq_settings=("vq:K256", "vq:K2048"), ae_settings=("ae:q8",), table5=()
    )
    payloads = {
        Point.of("payload", clip="sample:bikes", frames=144, setting=s): None
        for s in ("vq:K256", "vq:K2048", "ae:q8")
    }
    results = {point: run_point(point) for point in payloads}
    tables = _tables(config, results)
    raw = tables["1"][0]
    paper_raw = PAPER_TABLE1[0]["latency_ms"]
    assert abs(raw["ours"]["latency_ms"] - paper_raw) / paper_raw < 0.01  # within 1%
    for number in ("1", "2", "3", "4"):
        for row in tables[number]:
            paper = row["paper"] or {}
            if row["scheme"].startswith("Mirage") and "data_speedup" in paper:
                assert row["ours"]["data_speedup"] >= paper["data_speedup"], row
    assert {r["setting"] for r in tables["2"]} >= {"vq:K256", "vq:K2048"}
    assert set(PAPER_VQ) == {256, 512, 1024, 2048}


def _tiny_result() -> dict:
    row = {"ours": {"data_speedup": 2.0, "latency_speedup": 2.0}, "paper": None}
    baseline = {
        "clip": "c", "scheme": "mirage-vq", "snr_db": -10.0, "protection": "mirage",
        "time_on_air_ms": 17.0, "psnr_db": 21.0, "ssim": 0.7, "mse": None,
        "decoded_share": 1.0, "bytes": 800,
    }  # fmt: skip
    return {
        "conventions": {"KB": "1024 bytes"},
        "tables": {
            "2": [{"scheme": "Mirage-VQVAE (K=256)", "setting": "vq:K256", "snr_db": -10.0, **row}]
        },
        "baselines": [
            baseline,
            baseline | {"scheme": "h264", "protection": "fec", "psnr_db": 23.0},
        ],
        "crossover_snr_db": {"c": None},
        "executor": "local",
        "points": 3,
        "wall_s": 1.0,
    }


def test_the_report_is_made_again_from_its_json_alone(tmp_path):
    page = write_report(_tiny_result(), tmp_path)
    first = page.read_text()
    for name in ("speedup.png", "quality.png", "equal_air.png"):
        (tmp_path / name).unlink()
    page.unlink()
    assert render_report(tmp_path) == page  # nothing but paper.json was left
    assert page.read_text() == first
    assert all((tmp_path / n).stat().st_size > 1000 for n in ("speedup.png", "quality.png"))
    assert "Mirage-VQVAE (K=256)" in first and "none in the range" in first
    assert json.loads((tmp_path / "paper.json").read_text())["points"] == 3


def test_report_command_says_what_is_missing(tmp_path, capsys):
    from mirage_stream.cli import main

    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "run `bench paper --report" in capsys.readouterr().err
