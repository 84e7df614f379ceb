"""Native objects used by worker threads are never freed under them: a reader cancelled while
its worker is inside FFmpeg leaves the container to the worker, which closes it on its way out."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mirage_stream.sources import FileSource, SourceConfig
from mirage_stream.sources.worker_owned import ClosedError, WorkerOwned

ROOT = Path(__file__).resolve().parents[1]


class _Native:
    """Stands in for a container: records whether it was freed while in use."""

    def __init__(self) -> None:
        self.users = 0
        self.releases = 0
        self.freed_in_use = False

    def release(self) -> None:
        self.freed_in_use = self.freed_in_use or self.users > 0
        self.releases += 1


def test_a_close_during_a_use_waits_for_the_use_to_end_and_never_blocks():
    native = _Native()
    owned = WorkerOwned(native, _Native.release)
    inside, may_leave = threading.Event(), threading.Event()

    def worker() -> None:
        with owned.use() as value:
            value.users += 1
            inside.set()
            may_leave.wait(timeout=60)
            value.users -= 1

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(timeout=60)
    owned.close()  # returns at once although the worker is inside
    assert native.releases == 0 and not owned.closed
    may_leave.set()
    thread.join(timeout=60)
    assert native.releases == 1 and owned.closed and not native.freed_in_use


def test_an_idle_object_closes_at_once_exactly_once_and_refuses_later_use():
    native = _Native()
    owned = WorkerOwned(native, _Native.release)
    owned.close()
    owned.close()
    assert native.releases == 1 and owned.closed
    with pytest.raises(ClosedError), owned.use():
        pass


def test_closes_from_many_threads_during_uses_free_once_and_never_in_use():
    native = _Native()
    owned = WorkerOwned(native, _Native.release)
    start = threading.Barrier(9)

    def user() -> None:
        start.wait(timeout=60)
        for _ in range(200):
            try:
                with owned.use() as value:
                    value.users += 1
                    value.users -= 1
            except ClosedError:
                return

    def closer() -> None:
        start.wait(timeout=60)
        owned.close()

    threads = [threading.Thread(target=user)] + [threading.Thread(target=closer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert native.releases == 1 and not native.freed_in_use


def test_a_closed_file_source_reads_nothing_instead_of_failing(tmp_path, carphone_frames):
    from tests.conftest import write_video

    source = FileSource(write_video(tmp_path / "clip.mp4", carphone_frames), SourceConfig())
    assert len(source.read_frames(5)) == 5
    source.close()
    assert source.read_frames(5) == []
    assert list(source.iter_segments(1.0)) == []  # not "holds no decodable video frames"


def _cpu_hog() -> subprocess.Popen[bytes]:
    """One busy process beside the test, as on a shared machine."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


@pytest.mark.slow
def test_readers_cancelled_mid_decode_under_load_never_crash(tmp_path):
    # Before the fix the event loop closed the container under the decoding worker: SIGSEGV
    # within the first rounds. In a child process, so a crash fails this test, not the suite.
    hog = _cpu_hog()
    try:
        program = ROOT / "tests" / "cancel_mid_decode.py"
        done = subprocess.run(
            [sys.executable, "-X", "faulthandler", str(program), str(tmp_path / "noise.mp4"), "30"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        hog.kill()
        hog.wait(timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ok", "30"]
