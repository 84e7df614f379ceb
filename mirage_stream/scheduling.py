"""Work off the event loop, oldest segment first across every call of a server, and fairly.

``asyncio.to_thread`` hands work to the loop's default pool first come, first served: one call
whose segments arrive in bursts fills the queue and the others wait behind it. A server of
many calls runs its stages' work here instead: a fixed number of worker threads (the cores)
take the job whose segment was captured earliest (its glass-to-glass deadline is the earliest,
since every segment has the same budget). Calls that capture at the same moments tie; among
jobs whose deadlines fall in the same ``TIE_S`` slot the party (a call's sender or receiver)
that has had the least CPU so far goes first, so that the same call does not always win the
tie and the others always shed. Work without a capture time (a file run) comes after, in
arrival order.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

R = TypeVar("R")

TIE_S = 0.5  # deadlines this close are a tie, broken by the CPU each party has had


@dataclass
class _Job:
    deadline: float
    order: int
    party: Hashable
    work: Callable[[], Any]
    future: Future[Any]


class DeadlineExecutor:
    """``workers`` threads running submitted work earliest deadline first, ties to the party
    served least."""

    def __init__(self, workers: int | None = None, name: str = "deadline") -> None:
        self.workers = workers or os.cpu_count() or 1
        self._name = name
        self._jobs: list[_Job] = []
        self._order = itertools.count()
        self._served_s: dict[Hashable, float] = {}  # CPU seconds each party's jobs took
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(
        self, deadline: float | None, work: Callable[[], R], party: Hashable = None
    ) -> Future[R]:
        """Run ``work`` once a worker is free and no job due earlier waits."""
        future: Future[R] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the executor is shut down")
            due = math.inf if deadline is None else deadline
            self._jobs.append(_Job(due, next(self._order), party, work, future))
            if len(self._threads) < self.workers:
                self._start_worker()
            self._ready.notify()
        return future

    def party(self, party: Hashable) -> PartyRunner:
        """A runner whose jobs count as ``party``'s (one per call and end)."""
        return PartyRunner(self, party)

    @property
    def waiting(self) -> int:
        """Jobs queued, not yet started."""
        with self._ready:
            return len(self._jobs)

    def served_s(self, party: Hashable) -> float:
        with self._ready:
            return self._served_s.get(party, 0.0)

    def forget(self, party: Hashable) -> None:
        """Drop what ``party`` was served (its call ended)."""
        with self._ready:
            self._served_s.pop(party, None)

    def shutdown(self) -> None:
        """Stop taking work; jobs already queued still run, then the workers end."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        for thread in self._threads:
            thread.join()

    def _start_worker(self) -> None:
        thread = threading.Thread(
            target=self._serve, name=f"{self._name}-{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _next_job(self) -> _Job:
        """The queued job due first (a ``TIE_S`` slot), its party served least; then the
        oldest. A scan: a server's queue holds a few jobs per call."""
        job = min(
            self._jobs,
            key=lambda j: (
                math.floor(j.deadline / TIE_S) if math.isfinite(j.deadline) else math.inf,
                self._served_s.get(j.party, 0.0),
                j.order,
            ),
        )
        self._jobs.remove(job)
        return job

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not self._jobs and not self._closed:
                    self._ready.wait()
                if not self._jobs:
                    return
                job = self._next_job()
            if not job.future.set_running_or_notify_cancel():
                continue  # its caller went away before it started
            cpu_start = time.thread_time()
            try:
                result = job.work()
            except BaseException as error:  # handed to the awaiting caller
                job.future.set_exception(error)
            else:
                job.future.set_result(result)
            finally:
                with self._ready:
                    spent = time.thread_time() - cpu_start
                    self._served_s[job.party] = self._served_s.get(job.party, 0.0) + spent


@dataclass(frozen=True)
class PartyRunner:
    """One party's door to a shared ``DeadlineExecutor``."""

    executor: DeadlineExecutor
    party: Hashable

    async def run(self, deadline: float | None, work: Callable[[], R]) -> R:
        """``work`` on the executor, awaited; a cancelled caller takes its job off the queue
        if it has not started."""
        return await asyncio.wrap_future(self.executor.submit(deadline, work, self.party))


def one_thread_per_library() -> None:
    """torch and OpenCV each keep a pool of threads as wide as the machine: on a server whose
    calls already fill the cores, a library's pool double-books them, and the CPU it spends
    in its own threads escapes the thread clock the stages are profiled with. One thread each;
    the calls (``DeadlineExecutor``'s workers) are the parallelism."""
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
