"""Work off the event loop, oldest segment first across every call of a server.

``asyncio.to_thread`` hands work to the loop's default pool first come, first served: one call
whose segments arrive in bursts fills the queue and the others wait behind it. A server of
many calls runs its stages' work here instead: a fixed number of worker threads (the cores)
take the job whose segment was captured earliest (its glass-to-glass deadline is the
earliest, since every segment has the same budget), so no call starves and the most overdue
segment goes first. Work without a capture time (a file run) comes after, in arrival order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


@dataclass(order=True)
class _Job:
    deadline: float
    order: int
    work: Callable[[], Any] = field(compare=False)
    future: Future[Any] = field(compare=False)


class DeadlineExecutor:
    """``workers`` threads running submitted work earliest deadline first."""

    def __init__(self, workers: int | None = None, name: str = "deadline") -> None:
        self.workers = workers or os.cpu_count() or 1
        self._name = name
        self._jobs: list[_Job] = []
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, deadline: float | None, work: Callable[[], R]) -> Future[R]:
        """Run ``work`` once a worker is free and no job with an earlier deadline waits."""
        future: Future[R] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the executor is shut down")
            job = _Job(math.inf if deadline is None else deadline, next(self._order), work, future)
            heapq.heappush(self._jobs, job)
            if len(self._threads) < self.workers:
                self._start_worker()
            self._ready.notify()
        return future

    async def run(self, deadline: float | None, work: Callable[[], R]) -> R:
        """``submit`` awaited; a cancelled caller takes its job off the queue if not started."""
        return await asyncio.wrap_future(self.submit(deadline, work))

    @property
    def waiting(self) -> int:
        """Jobs queued, not yet started."""
        with self._ready:
            return len(self._jobs)

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

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not self._jobs and not self._closed:
                    self._ready.wait()
                if not self._jobs:
                    return
                job = heapq.heappop(self._jobs)
            if not job.future.set_running_or_notify_cancel():
                continue  # its caller went away before it started
            try:
                result = job.work()
            except BaseException as error:  # handed to the awaiting caller
                job.future.set_exception(error)
            else:
                job.future.set_result(result)


def one_thread_per_library() -> None:
    """torch and OpenCV each keep a pool of threads as wide as the machine: on a server whose
    calls already fill the cores, a library's pool double-books them, and the CPU it spends
    in its own threads escapes the thread clock the stages are profiled with. One thread each;
    the calls (``DeadlineExecutor``'s workers) are the parallelism."""
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
