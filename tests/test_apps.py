import av

import receiver_app
import sender_app


def test_sender_and_receiver_apps_split_the_chain_over_files(tmp_path, capsys):
    payloads, out = tmp_path / "payloads", tmp_path / "received"
    assert (
        sender_app.main(
            [
                "--input",
                "sample:carphone",
                "--max-seconds",
                "1.0",
                "--segment-s",
                "0.5",
                "--payloads",
                str(payloads),
            ]
        )
        == 0
    )
    files = sorted(payloads.glob("*.mirage"))
    assert [f.name for f in files] == ["000000.mirage", "000001.mirage"]
    assert all(0 < f.stat().st_size <= 1024 for f in files)
    assert receiver_app.main(["--payloads", str(payloads), "--out", str(out)]) == 0
    with av.open(str(out / "generated.mp4")) as container:
        assert len(list(container.decode(video=0))) == 30
    assert "played 2 segments" in capsys.readouterr().err


def test_receiver_app_reports_missing_folder(tmp_path, capsys):
    assert receiver_app.main(["--payloads", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
