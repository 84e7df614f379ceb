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
