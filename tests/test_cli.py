import argparse
import json
import math
from fractions import Fraction

import av
import numpy as np
import pytest

from mirage_stream.cli import main
from tests.conftest import write_video


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_run_end_to_end_on_real_clip(tmp_path, capsys):
    out = tmp_path / "demo"
    code, _, err = run_cli(
        capsys,
        "run",
        "--input",
        "sample:carphone",
        "--snr-db",
        "-10",
        "--segment-s",
        "0.5",
        "--max-seconds",
        "1.5",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert "segment   0" in err and "data speed-up" in err
    report = json.loads((out / "report.json").read_text())
    assert json.loads((out / "config.json").read_text())["channel"]["snr_db"] == -10.0
    segments = report["segments"]
    assert len(segments) == 3 and report["totals"]["segments_played"] == 3
    # The caller's reference picture goes once, in the first segment, within its 2 KB
    # budget (plus its face's 88 B); every segment carries the face track.
    assert 1000 < segments[0]["payload_bytes"]["reference"] <= 2000 + 100
    for row in segments:
        parts = row["payload_bytes"]
        assert row["caption"] and parts["total"] - parts["reference"] <= 1024
        assert parts["face_track"] > 0
        assert math.isclose(row["ber"], 0.1139, abs_tol=1e-3)
        # At -10 dB the keyframes ride the reliable path (auto protection): no bit errors; a
        # segment whose scene had not changed sends no keyframe at all.
        assert row["bit_errors"] == 0
        assert row["plan"]["keyframes_protected"] == bool(row["keyframe_indices"])
        assert bool(row["keyframe_indices"]) != bool(row["keyframe_skipped"])
        assert row["time_on_air_ms"] > 0 and row["psnr_db"] > 8
        assert {"sender", "link", "decode", "generate", "sink"} <= set(row["timings_ms"])
        assert row["hold_psnr_db"] > 8 and "ghosting" in row
    totals = report["totals"]
    # The baseline is the same frames held from the decoded keyframes; it is reported beside
    # the generated video's PSNR (the figure itself is measured in bench picture).
    assert totals["hold_psnr_db"] > 8 and "ghosting" in totals
    assert totals["data_speedup"] > 800  # 45 raw frames (10 MB) vs about 4 KB
    assert totals["raw_bytes"] == 45 * 320 * 240 * 3
    for name, frames_expected, width in (("generated.mp4", 45, 320), ("side_by_side.mp4", 45, 640)):
        with av.open(str(out / name)) as container:
            stream = container.streams.video[0]
            assert stream.average_rate == Fraction(30000, 1001)
            frames = list(container.decode(video=0))
        assert len(frames) == frames_expected and frames[0].width == width


def test_bench_table1_json(capsys):
    code, out, err = run_cli(
        capsys,
        "bench",
        "table1",
        "--input",
        "sample:carphone",
        "--frames",
        "30",
        "--codecs",
        "vq,thumbnail",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    raw, *mirage = result["rows"]
    for row in result["rows"]:
        assert {"scheme", "bytes", "bpp", "latency_ms", "data_speedup", "latency_speedup"} <= set(
            row
        )
    assert raw["bytes"] == 30 * 320 * 240 * 3 and raw["bpp"] == 24.0
    schemes = [row["scheme"] for row in mirage]
    assert "mirage-vq-K256" in schemes and schemes[-1].startswith("mirage-thumbnail")
    for row in mirage:
        assert row["bytes"] < 1024
        assert row["data_speedup"] == pytest.approx(raw["bytes"] / row["bytes"])
        assert row["latency_speedup"] == pytest.approx(raw["latency_ms"] / row["latency_ms"])
    vq = mirage[schemes.index("mirage-vq-K256")]
    assert vq["keyframe_bytes"] == 256 and vq["parts"]["keyframes"] > 256  # symbols + metadata
    assert result["paper"][0]["scheme"] == "Raw (8-bit)"


def test_info_lists_every_registered_backend(capsys):
    from mirage_stream.codecs import available_codecs
    from mirage_stream.link.config import SNR_PROCESSES
    from mirage_stream.receiver.generator_backends import GENERATORS
    from mirage_stream.sender.caption_backends import CAPTIONERS

    code, out, _ = run_cli(capsys, "info")
    backends = json.loads(out)["backends"]
    assert code == 0
    assert sorted(backends["codec"]) == available_codecs() == ["ae", "thumbnail", "vq"]
    assert list(backends["captioner"]) == CAPTIONERS.names() == ["measured-facts", "vlm"]
    assert list(backends["generator"]) == GENERATORS.names() == ["offline", "diffusion"]
    assert list(backends["snr_process"]) == SNR_PROCESSES.names()
    assert set(SNR_PROCESSES.names()) == {"constant", "random-walk", "gilbert-elliott", "trace"}
    assert all(entry["summary"] for family in backends.values() for entry in family.values())
    # What a backend needs beyond the package is said where it needs anything.
    assert (
        backends["generator"]["diffusion"]["needs"]
        and not backends["generator"]["offline"]["needs"]
    )
    # Codecs list the variants this install runs, the default among them.
    for entry in backends["codec"].values():
        assert entry["default_variant"] in entry["variants"]
    assert json.loads(out)["packages"]["torch"].startswith("2.13.0")


def test_info_lists_every_backend_registry_in_the_tree():
    import re
    from pathlib import Path

    from mirage_stream.cli.info import registries

    root = Path(__file__).resolve().parents[1]
    declared = {
        match.group(1)
        for folder in ("mirage_stream", "channel_sim")
        for path in (root / folder).rglob("*.py")
        for match in re.finditer(r"^(\w+): Registry\[", path.read_text(), re.MULTILINE)
    }
    listed = registries()
    assert len(declared) == len(listed) == 11, sorted(declared)
    assert set(listed) >= {"object_detector", "hand_detector", "face_reader", "ber_model"}


def test_the_receiver_never_imports_the_sender():
    import ast
    from pathlib import Path

    import mirage_stream.receiver as receiver

    offenders = []
    for path in Path(receiver.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [
                f"{path.name}: {n}" for n in names if n.startswith("mirage_stream.sender")
            ]
    assert offenders == []


def _one_line_error(code, err):
    assert code == 2
    # `run` may have announced itself before the error (the input is opened once running).
    lines = [
        line for line in err.strip().splitlines() if not line.startswith("mirage-stream run: ")
    ]
    assert len(lines) == 1 and lines[0].startswith("mirage-stream: error:")
    assert "Traceback" not in err


def test_missing_file_is_a_one_line_error(tmp_path, capsys):
    code, _, err = run_cli(
        capsys,
        "run",
        "--input",
        str(tmp_path / "nope.mp4"),
        "--quiet",
        "--out",
        str(tmp_path / "o"),
    )
    _one_line_error(code, err)


@pytest.mark.parametrize(
    "flags",
    [["--snr-db", "nan"], ["--snr-db", "100"], ["--segment-s", "0"], ["--width", "333"]],
)
def test_out_of_range_flags_are_one_line_errors(tmp_path, capsys, flags):
    code, _, err = run_cli(
        capsys, "run", "--input", "sample:carphone", "--out", str(tmp_path / "o"), *flags
    )
    _one_line_error(code, err)


def test_not_a_video_is_a_one_line_error(tmp_path, capsys):
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"\x00\x01 not a video at all" * 100)
    code, _, err = run_cli(capsys, "run", "--input", str(bogus), "--out", str(tmp_path / "o"))
    _one_line_error(code, err)


def test_video_with_zero_frames_is_a_one_line_error(tmp_path, capsys):
    import av

    empty = tmp_path / "empty.mp4"
    container = av.open(str(empty), "w")
    stream = container.add_stream("libx264", rate=Fraction(25))
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    container.start_encoding()
    container.close()
    code, _, err = run_cli(capsys, "run", "--input", str(empty), "--out", str(tmp_path / "o"))
    _one_line_error(code, err)
    assert "no video stream" in err or "no decodable video frames" in err


def test_nothing_read_is_a_one_line_error(tmp_path, capsys):
    path = write_video(tmp_path / "short.mp4", np.zeros((3, 48, 64, 3), dtype=np.uint8))
    code, _, err = run_cli(
        capsys, "run", "--input", str(path), "--max-seconds", "0.001", "--out", str(tmp_path / "o")
    )
    _one_line_error(code, err)
    assert "no decodable video frames" in err


def test_unknown_sample_is_a_one_line_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "bench", "table1", "--input", "sample:nope", "--json")
    _one_line_error(code, err)


@pytest.mark.parametrize("argv", [["run"], ["run", "--input", "x", "--snr-db", "abc"], ["frob"]])
def test_usage_mistakes_are_one_line_errors(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert len(err.strip().splitlines()) == 1 and "error:" in err


def test_bench_channel_json(capsys):
    code, out, err = run_cli(
        capsys, "bench", "channel", "--trials", "300", "--ber-bits", "100000", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    models = {row["model"] for row in result["ber"]}
    assert models == {"mirage", "bpsk", "qpsk", "16qam"}
    for row in result["ber"]:
        assert {"model", "snr_db", "theory", "measured", "bits"} <= set(row)
    assert set(result["throughput_mbit_s"]) == {"0.1", "1e-05"}
    caption = result["caption"]
    for key in ("trials", "bytes", "snr_db", "undetected_errors", "mean_tries", "overhead_ratio"):
        assert key in caption
    assert caption["trials"] == 300 and caption["bytes"] == 400 and caption["snr_db"] == -10.0
    assert caption["undetected_errors"] == 0 and caption["mean_tries"] >= 1.0
    assert result["caption_low_ber"]["overhead_ratio"] <= 0.30
    assert result["table1_raw_latency_ms"] == pytest.approx(96_899.14, rel=0.01)


def test_run_with_an_snr_trace(tmp_path, capsys):
    trace = tmp_path / "snr.csv"
    trace.write_text("snr_db\n-10\n5\n")
    out = tmp_path / "o"
    code, _, err = run_cli(
        capsys,
        "run",
        "--input",
        "sample:carphone",
        "--max-seconds",
        "1.0",
        "--segment-s",
        "0.5",
        "--snr-process",
        "trace",
        "--snr-trace",
        str(trace),
        "--keyframe-protection",
        "best-effort",  # the paper's exposed keyframes: their bit errors follow the SNR
        "--quiet",
        "--out",
        str(out),
    )
    assert code == 0, err
    rows = json.loads((out / "report.json").read_text())["segments"]
    assert [row["snr_db"] for row in rows] == [-10.0, 5.0]
    assert rows[0]["channel_bits"] > rows[1]["channel_bits"]  # more protection at -10 dB
    assert rows[0]["bit_errors"] > rows[1]["bit_errors"]


def test_bad_snr_trace_is_a_one_line_error(tmp_path, capsys):
    trace = tmp_path / "snr.csv"
    trace.write_text("snr_db\nloud\n")
    code, _, err = run_cli(
        capsys,
        "run",
        "--input",
        "sample:carphone",
        "--snr-process",
        "trace",
        "--snr-trace",
        str(trace),
        "--out",
        str(tmp_path / "o"),
    )
    _one_line_error(code, err)
    assert "snr_db 'loud'" in err


@pytest.mark.slow
def test_bench_codec_json(capsys):
    code, out, err = run_cli(
        capsys, "bench", "codec", "--input", "sample:carphone", "--frames", "2", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    rows = {(row["codec"], row.get("K") or row.get("q")): row for row in result["rows"]}
    for row in result["rows"]:
        assert {"codec", "bytes", "bpp", "psnr_db", "ssim", "ms"} <= set(row)
        assert 5 < row["psnr_db"] < 60 and 0 < row["ssim"] <= 1
    vq = rows[("vq", 256)]
    assert vq["bytes"] == 256 and 0 < vq["codebook_usage"] <= 1
    assert rows[("av1", None)]["fits_budget"] and rows[("av1", None)]["bytes"] <= 256
    assert ("jpeg", None) in rows and ("thumbnail", None) in rows
    ber = [row["ber"] for row in result["robustness"]]
    assert ber[0] == 0.0 and ber[-1] == pytest.approx(0.114)
    clean = result["robustness"][0]
    assert clean["lattice_psnr_db"] == pytest.approx(clean["random_psnr_db"])  # same codebook


def test_unknown_codec_is_a_one_line_error(tmp_path, capsys):
    code, _, err = run_cli(
        capsys, "run", "--input", "sample:carphone", "--codec", "nope", "--out", str(tmp_path / "o")
    )
    _one_line_error(code, err)


def test_bench_sender_json_names_its_keys(capsys):
    code, out, err = run_cli(
        capsys,
        "bench",
        "sender",
        "--input",
        "sample:carphone",
        "--max-seconds",
        "2",
        "--faces",
        "blur",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert {"rtf", "stages", "peak_rss_mb", "bytes_per_segment"} <= set(result)
    assert result["segments"] == 1  # rtf is measured (keys above), not judged here
    assert {"analyse", "caption", "select", "privacy", "encode"} <= set(result["stages"])
    assert 300 < result["bytes_per_segment"] < 1024


def test_bench_sender_rejects_a_bad_granularity(capsys):
    code, _, err = run_cli(capsys, "bench", "sender", "--granularity", "epic")
    assert code == 2 and "--granularity" in err


def test_bench_receiver_unknown_style_is_a_one_line_error(capsys):
    code, _, err = run_cli(capsys, "bench", "receiver", "--styles", "none,watercolour")
    _one_line_error(code, err)
    assert "unknown style 'watercolour'" in err and "oil-painting" in err


def test_one_download_flag_for_every_model_and_the_old_name_says_the_new(capsys):
    import argparse

    from mirage_stream.receiver.config import ReceiverConfig
    from mirage_stream.sender.config import SenderConfig

    parser = argparse.ArgumentParser()
    SenderConfig.add_arguments(parser)
    ReceiverConfig.add_arguments(parser)  # a command of both ends has the flag once
    models = "--captioner vlm --vlm-model m --generator diffusion --diffusion-model m"
    args = parser.parse_args(["--allow-download", *models.split()])
    sender, receiver = SenderConfig.from_args(args), ReceiverConfig.from_args(args)
    assert sender.allow_download  # the CLIP model's
    assert sender.captioner_options.allow_download and receiver.generator_options.allow_download
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--allow-model-download"])
    assert exit_info.value.code == 2
    assert "--allow-model-download is now --allow-download" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--input", "/no/such/clip.mp4"], "input '/no/such/clip.mp4' does not exist"),
        (["--input", "sample:carphone", "--codec", "vq:K999"], "it runs K256"),
    ],
)
def test_a_run_that_cannot_start_prints_its_error_and_nothing_before(
    capsys, tmp_path, flags, message
):
    code, _, err = run_cli(capsys, "run", *flags, "--out", str(tmp_path / "out"))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("mirage-stream: error:")
    assert message in err


def _parsers(parser, path=("mirage-stream",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield from _parsers(command, (*path, name))


def test_every_flag_has_help_and_says_its_default():
    from mirage_stream.cli import build_parser

    silent = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            if isinstance(action, argparse._HelpAction | argparse._VersionAction):
                continue
            shown = action.default not in (None, False, True, argparse.SUPPRESS, "", [])
            if not action.help or (shown and "default" not in action.help):
                silent.append(f"{' '.join(path)} {action.option_strings[0]}")
    assert silent == []


def test_version_and_verbose_after_the_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.startswith("mirage-stream ")
    code, out, err = run_cli(capsys, "info", "-v")
    assert code == 0, err
    assert "backends" in json.loads(out)


def test_a_sender_told_of_a_token_file_that_is_not_there_says_so(capsys, tmp_path):
    absent = tmp_path / "token"
    code, _, err = run_cli(
        capsys, "send", "--input", "sample:carphone", "--token-file", str(absent)
    )
    _one_line_error(code, err)
    assert f"--token-file {absent} does not exist: start the receiver first" in err
