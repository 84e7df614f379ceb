"""Work off the event loop: the oldest segment's first across calls, and each stage's CPU
counted in its own name."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from mirage_stream import pipeline
from mirage_stream.bench.cost_profile import cost_profile
from mirage_stream.pipeline import SegmentTrace, TraceLog, off_loop
from mirage_stream.scheduling import DeadlineExecutor


def test_the_earliest_deadline_runs_first_whatever_the_order_of_arrival():
    executor = DeadlineExecutor(workers=1)
    gate = threading.Event()
    ran: list[str] = []
    blocker = executor.submit(0.0, gate.wait)  # holds the one worker while the others queue
    futures = [
        executor.submit(deadline, lambda name=name: ran.append(name))
        for name, deadline in [
            ("late", 30.0),
            ("no deadline", None),
            ("early", 10.0),
            ("mid", 20.0),
        ]
    ]
    while executor.waiting < 4:  # the blocker has started: four wait behind it
        time.sleep(0.001)
    gate.set()
    blocker.result(timeout=10)
    for future in futures:
        future.result(timeout=10)
    executor.shutdown()
    assert ran == ["early", "mid", "late", "no deadline"]


def test_a_job_cancelled_before_it_starts_never_runs_and_errors_reach_the_caller():
    executor = DeadlineExecutor(workers=1)
    gate = threading.Event()
    ran: list[int] = []
    blocker = executor.submit(0.0, gate.wait)
    cancelled = executor.submit(1.0, lambda: ran.append(1))
    assert cancelled.cancel()
    failing = executor.submit(2.0, lambda: 1 / 0)
    gate.set()
    blocker.result(timeout=10)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=10)
    executor.shutdown()
    assert ran == []
    with pytest.raises(RuntimeError, match="shut down"):
        executor.submit(None, lambda: None)


def test_one_call_with_a_burst_does_not_starve_another():
    """One worker, one call's burst of segments queued first, then another call's
    single newer segment: the newer call waits for older segments only, not for the burst's
    later ones (first come would run the whole burst first)."""
    executor = DeadlineExecutor(workers=1)
    gate = threading.Event()
    order: list[str] = []
    blocker = executor.submit(0.0, gate.wait)
    now = time.time()
    burst = [executor.submit(now + i, lambda i=i: order.append(f"a{i}")) for i in range(0, 8, 2)]
    other = executor.submit(now + 3, lambda: order.append("b"))
    while executor.waiting < 5:
        time.sleep(0.001)
    gate.set()
    for future in [blocker, *burst, other]:
        future.result(timeout=10)
    executor.shutdown()
    assert order == ["a0", "a2", "b", "a4", "a6"]


class _ThreadClock:
    """``time.thread_time`` as a script: each read advances by the next step (seconds)."""

    def __init__(self, *steps: float) -> None:
        self.now, self.steps = 0.0, list(steps)

    def __call__(self) -> float:
        self.now += self.steps.pop(0) if self.steps else 0.0
        return self.now


def test_calls_that_capture_at_the_same_moments_take_turns():
    """Equal deadlines (calls started together): the party that has had the least CPU goes
    first, so the same call does not win every tie while the others shed."""
    executor = DeadlineExecutor(workers=1)
    busy, gate, order = executor.party("busy"), threading.Event(), []
    asyncio.run(busy.run(None, lambda: _spin_cpu(0.05)))  # "busy" has been served already
    blocker = executor.submit(0.0, gate.wait)
    now = time.time()
    jobs = [
        executor.submit(now, lambda: order.append("busy"), "busy"),
        executor.submit(now, lambda: order.append("idle"), "idle"),
    ]
    while executor.waiting < 2:
        time.sleep(0.001)
    gate.set()
    for future in [blocker, *jobs]:
        future.result(timeout=10)
    executor.shutdown()
    assert order == ["idle", "busy"]
    assert executor.served_s("idle") >= 0.0 and executor.served_s("busy") > 0
    executor.forget("busy")  # its call ended
    assert executor.served_s("busy") == 0.0


def _spin_cpu(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_worked_blocks_count_their_own_cpu_and_nest_exclusively(monkeypatch):
    # Reads: outer starts, inner starts 0.02 s later, inner ends 0.03 s later, outer ends
    # 0.01 s after that.
    monkeypatch.setattr(pipeline.time, "thread_time", _ThreadClock(0.0, 0.02, 0.03, 0.01))
    trace = SegmentTrace(0)
    with trace.worked("outer", wall=False), trace.worked("inner"):
        pass
    # The outer block's own CPU only: the inner one's 30 ms are not counted twice.
    assert trace.cpu_ms == {"inner": pytest.approx(30.0), "outer": pytest.approx(30.0)}
    assert set(trace.timings_ms) == {"inner"}  # wall time for the named part only
    log = TraceLog(keep=1)
    log.add(trace)
    log.add(trace)  # not kept, still counted
    assert log.cpu_ms == {"inner": pytest.approx(60.0), "outer": pytest.approx(60.0)}


@pytest.mark.parametrize("with_runner", [False, True])
def test_off_loop_counts_the_work_in_the_stage_name(monkeypatch, with_runner):
    # Every read 0.25 s on (the executor reads the clock around each job too).
    monkeypatch.setattr(pipeline.time, "thread_time", _ThreadClock(*[0.25] * 8))
    executor = DeadlineExecutor(workers=2)
    runner = executor.party("call 1") if with_runner else None
    trace = SegmentTrace(0, captured_at=time.time())
    name = asyncio.run(
        off_loop(trace, "stage", lambda: threading.current_thread().name, runner=runner)
    )
    assert trace.cpu_ms == {"stage": pytest.approx(250.0)}
    assert name != threading.main_thread().name
    if runner is not None:
        assert name.startswith("deadline")
    executor.shutdown()


def test_the_cost_profile_adds_up_and_flags_what_no_stage_claims():
    profile = cost_profile(
        [{"objects": 3000.0, "encode": 1000.0}],
        [{"reenact": 4000.0}],
        loop_cpu_s=1.0,
        process_cpu_s=10.0,
        call_seconds=20.0,
    )
    rows = {(row.end, row.stage): row for row in profile.rows}
    assert rows[("sender", "objects")].cpu_ms_per_s == 150.0
    assert rows[("receiver", "reenact")].share == 0.4
    assert rows[("unattributed", "no stage's clock")].cpu_ms_per_s == 50.0
    assert profile.agreement == 0.9 and profile.agrees
    short = cost_profile([{"objects": 1000.0}], [], 0.0, 10.0, 10.0)
    assert short.agreement == 0.1 and not short.agrees
