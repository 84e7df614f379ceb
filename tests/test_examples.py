"""The scripts in examples/ run as their docstrings say (each in its own process: an example
registers its own backend, which must not leak into the other tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(script: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_a_model_backed_generator_is_one_file_and_one_registration(tmp_path):
    weights = tmp_path / "refiner"
    assert _run("model_backed_generator.py", "save-random-weights", str(weights)).returncode == 0
    info = _run("model_backed_generator.py", "info")
    refined = json.loads(info.stdout)["backends"]["generator"]["refined"]
    assert refined["options"] == {"--refiner-model": None, "--refiner-strength": 1.0}

    out = tmp_path / "out"
    run = _run(
        "model_backed_generator.py",
        *("run", "--input", "sample:carphone", "--max-seconds", "1", "--out", str(out)),
        *("--generator", "refined", "--refiner-model", str(weights)),
    )
    assert run.returncode == 0, run.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["segments_played"] == 1
    assert json.loads((out / "config.json").read_text())["receiver"]["generator"] == "refined"

    missing = _run(
        "model_backed_generator.py",
        *("run", "--input", "sample:carphone", "--out", str(out), "--generator", "refined"),
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "model_backed_generator.py: error: --generator refined needs --refiner-model FOLDER"
    ]


def _quiet_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_a_file_run_composed_from_python_and_its_report_read_back(tmp_path):
    out = tmp_path / "run"
    run = _run("file_run.py", "sample:carphone", str(out))
    assert run.returncode == 0, run.stderr
    assert "2 of 2 segments played" in run.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["sender"]["codec"] == "vq:K256" and config["sender"]["max_keyframes"] == 1
    assert config["channel"]["snr_process_options"] == {"std_db": 2.0}

    read = _run("read_report.py", str(out), str(tmp_path / "bytes.png"))
    assert read.returncode == 0, read.stderr
    lines = _quiet_lines(read)
    assert lines[0].startswith("segment 0: ") and "PSNR" in lines[0]
    assert (tmp_path / "bytes.png").stat().st_size > 0
    assert _run("read_report.py").returncode == 2  # no folder: the usage line


@pytest.mark.slow
def test_a_receiver_profile_changes_the_prompt_not_the_caption(tmp_path):
    run = _run("receiver_profile.py", str(tmp_path / "profile"))
    assert run.returncode == 0, run.stderr
    said, asked = _quiet_lines(run)[:2]
    assert "person" in said and "robot" not in said
    assert "a friendly robot" in asked and "oil painting" in asked.lower()


@pytest.mark.slow
def test_a_custom_captioner_is_one_file_and_one_registration(tmp_path):
    out = tmp_path / "terse"
    run = _run(
        "custom_captioner.py",
        *("run", "--input", "sample:carphone", "--max-seconds", "2", "--out", str(out)),
        *("--captioner", "terse", "--terse-max-words", "12"),
    )
    assert run.returncode == 0, run.stderr
    caption = json.loads((out / "report.json").read_text())["segments"][0]["caption"]
    assert caption.startswith("In view: ") and len(caption.split()) <= 12
    wrong = _run(
        "custom_captioner.py", "run", "--input", "sample:carphone", "--terse-max-words", "5"
    )
    assert wrong.returncode == 2
    assert "--terse-max-words is an option of --captioner terse" in wrong.stderr
