"""Stages joined by bounded queues, run under asyncio.

A stage is an object with a ``name`` and one ``async process(item, trace)`` entry point; a
pipeline is a list of stages between a source (an async iterator) and a sink. Each item travels in
an ``Envelope`` with its ``SegmentTrace``: timings, and the typed records stages attach for the
report. The pipeline knows none of the records' types.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from mirage_stream.scheduling import PartyRunner

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Finished traces a live pipeline keeps (it counts them all): enough for a look back at the
# last minute, not one per segment of a call of hours.
LIVE_TRACE_HISTORY = 32


@runtime_checkable
class HoldsPixels(Protocol):
    """A record that keeps frames: it gives a copy without them once the segment is done."""

    def without_pixels(self) -> object: ...


@dataclass
class SegmentTrace:
    """Per-segment bookkeeping that follows the item through the pipeline.

    The pipeline fills in timings and, when it drops the item, why; each stage attaches its own
    small typed record of what it decided or measured (``mirage_stream.records``), one per
    record type, which the report, the live stats and the pages read back.
    """

    index: int
    # Wall-clock time (time.time()) at which the segment's last frame was captured: the start
    # of glass-to-glass latency. Set by paced sources and carried across the live link.
    captured_at: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    # CPU milliseconds of the blocks run in one thread (``worked``), by stage, each block's
    # own (a block inside another is counted in its name only).
    cpu_ms: dict[str, float] = field(default_factory=dict)
    created_s: float = field(default_factory=time.perf_counter)
    dropped: str | None = None  # why the segment was not played
    _records: dict[type, object] = field(default_factory=dict, repr=False)
    _inner_cpu_s: list[float] = field(default_factory=list, repr=False)  # open ``worked`` blocks

    def attach(self, record: object) -> None:
        """Keep ``record``, replacing any earlier record of its type."""
        self._records[type(record)] = record

    def record(self, kind: type[R]) -> R | None:
        """The record of type ``kind`` a stage attached, or None when none did."""
        found = self._records.get(kind)
        return found if isinstance(found, kind) else None

    def release(self) -> None:
        """Let the segment's pixels go once it is done (played or dropped): a long call or a
        long file would otherwise hold every frame it ever saw. What reports read stays."""
        for kind, record in list(self._records.items()):
            if isinstance(record, HoldsPixels):
                self._records[kind] = record.without_pixels()

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Add the wall time of the block to ``timings_ms[name]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - start) * 1000.0
            self.timings_ms[name] = self.timings_ms.get(name, 0.0) + elapsed

    @contextmanager
    def worked(self, name: str, wall: bool = True) -> Iterator[None]:
        """Add the block's CPU time to ``cpu_ms[name]`` (and, with ``wall``, its wall time to
        ``timings_ms[name]``). A ``worked`` block inside another counts in its own name only:
        ``cpu_ms`` is exclusive, so its values add up to the segment's CPU. Only for blocks
        that run in one thread without awaiting: the CPU clock is the thread's
        (``time.thread_time``), so work handed to another thread is not counted, and on the
        event loop another task's would be."""
        cpu_start = time.thread_time()
        self._inner_cpu_s.append(0.0)
        try:
            with self.timed(name) if wall else nullcontext():
                yield
        finally:
            spent = time.thread_time() - cpu_start
            inner = self._inner_cpu_s.pop()
            if self._inner_cpu_s:
                self._inner_cpu_s[-1] += spent
            self.cpu_ms[name] = self.cpu_ms.get(name, 0.0) + (spent - inner) * 1000.0


def worked(
    trace: SegmentTrace | None, name: str, wall: bool = True
) -> AbstractContextManager[None]:
    """``trace.worked(name, wall)``, or nothing to time without a trace (stages used on their
    own)."""
    return nullcontext() if trace is None else trace.worked(name, wall)


async def off_loop(
    trace: SegmentTrace,
    name: str,
    work: Callable[..., R],
    *args: Any,
    runner: PartyRunner | None = None,
) -> R:
    """``work(*args)`` in a worker thread, its CPU counted as ``name`` in ``trace`` (less the
    ``worked`` blocks inside it, which count in their own names). With a ``runner`` (a server
    of many calls) the oldest segment's work goes first; else the loop's default pool."""

    def run() -> R:
        with trace.worked(name, wall=False):
            return work(*args)

    if runner is None:
        return await asyncio.to_thread(run)
    return await runner.run(trace.captured_at, run)


def add_cpu(totals: dict[str, float], trace: SegmentTrace) -> None:
    """Add ``trace``'s per-stage CPU milliseconds to ``totals``."""
    for name, spent in trace.cpu_ms.items():
        totals[name] = totals.get(name, 0.0) + spent


@dataclass
class Envelope(Generic[T]):
    item: T
    trace: SegmentTrace


class Stage(Protocol):
    """One job of the pipeline. Returning None drops the item (the stage says why in the trace)."""

    name: str

    async def process(self, item: Any, trace: SegmentTrace) -> Any: ...


class Sink(Protocol):
    async def consume(self, item: Any, trace: SegmentTrace) -> None: ...

    async def close(self) -> None: ...


class DropPolicy(enum.Enum):
    """What a full queue does with a new item."""

    BLOCK = "block"  # back-pressure: the producer waits (files: nothing is lost)
    DROP_OLDEST = "drop-oldest"  # live: the newest item wins, the oldest queued is dropped


class _EndOfStream:
    """Marker that closes a queue; it always gets through, whatever the policy."""


END = _EndOfStream()


class TraceLog:
    """Finished traces: every one counted, the newest ``keep`` kept (None: all of them).

    A file run keeps all for its report; a live call keeps a few, since a call of hours would
    otherwise hold one trace per segment it ever saw."""

    def __init__(self, keep: int | None = None) -> None:
        self.total = 0
        self.cpu_ms: dict[str, float] = {}  # every trace's stage CPU, kept or not
        self._kept: deque[SegmentTrace] = deque(maxlen=keep)

    def add(self, trace: SegmentTrace) -> None:
        self.total += 1
        add_cpu(self.cpu_ms, trace)
        self._kept.append(trace)

    def extend(self, other: TraceLog) -> None:
        self.total += other.total
        for name, spent in other.cpu_ms.items():
            self.cpu_ms[name] = self.cpu_ms.get(name, 0.0) + spent
        self._kept.extend(other._kept)

    @property
    def kept(self) -> list[SegmentTrace]:
        return list(self._kept)


class BoundedQueue:
    """An asyncio queue of fixed size with an explicit drop policy; dropped traces are
    counted, and kept up to ``history`` (None: all)."""

    def __init__(
        self,
        maxsize: int,
        policy: DropPolicy = DropPolicy.BLOCK,
        drop_reason: str = "queue full (drop-oldest)",
        history: int | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self._queue: asyncio.Queue[Envelope[Any] | _EndOfStream] = asyncio.Queue(maxsize)
        self.policy = policy
        self.drop_reason = drop_reason
        self.dropped = TraceLog(history)
        self.max_depth = 0

    async def put(self, envelope: Envelope[Any] | _EndOfStream) -> None:
        # The end marker is the last thing a producer puts, so it waits rather than drop data.
        if (
            isinstance(envelope, Envelope)
            and self.policy is DropPolicy.DROP_OLDEST
            and self._queue.full()
        ):
            oldest = self._queue.get_nowait()
            assert isinstance(oldest, Envelope)  # END is never followed by another put
            oldest.trace.dropped = self.drop_reason
            oldest.trace.release()
            self.dropped.add(oldest.trace)
        await self._queue.put(envelope)
        self.max_depth = max(self.max_depth, self._queue.qsize())

    async def get(self) -> Envelope[Any] | _EndOfStream:
        return await self._queue.get()

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    @property
    def capacity(self) -> int:
        return self._queue.maxsize


@dataclass
class PipelineResult:
    """What a run did: the traces kept (all, unless ``run_pipeline`` was given a history
    bound) and the totals, which always count every segment."""

    completed: list[SegmentTrace]
    dropped: list[SegmentTrace]
    max_queue_depth: int
    queue_depths: list[int] = field(default_factory=list)  # deepest fill of each queue
    completed_total: int = 0
    dropped_total: int = 0
    # CPU milliseconds by stage over every segment, completed or dropped (``worked`` blocks).
    cpu_ms: dict[str, float] = field(default_factory=dict)


async def _feed(source: AsyncIterator[Envelope[Any]], out: BoundedQueue) -> None:
    try:
        async for envelope in source:
            await out.put(envelope)
    finally:
        # Close the source (files, decoders) now, also on cancellation, not at garbage collection.
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()
    # Only a source that ended normally is followed by the end marker: on cancellation the
    # queue may be full with nobody left to drain it, and waiting there would hang the group.
    await out.put(END)


async def _work(stage: Stage, inbox: BoundedQueue, out: BoundedQueue, dropped: TraceLog) -> None:
    while True:
        envelope = await inbox.get()
        if isinstance(envelope, _EndOfStream):
            await out.put(END)
            return
        with envelope.trace.timed(stage.name):
            result = await stage.process(envelope.item, envelope.trace)
        if result is None:
            envelope.trace.release()
            dropped.add(envelope.trace)
            continue
        await out.put(Envelope(result, envelope.trace))


async def _drain(sink: Sink, inbox: BoundedQueue, completed: TraceLog) -> None:
    while True:
        envelope = await inbox.get()
        if isinstance(envelope, _EndOfStream):
            return
        with envelope.trace.timed("sink"):
            await sink.consume(envelope.item, envelope.trace)
        envelope.trace.release()
        completed.add(envelope.trace)


def _stages_and_queues(
    steps: Sequence[Stage | BoundedQueue],
    queue_size: int,
    policy: DropPolicy,
    history: int | None,
) -> tuple[list[Stage], list[BoundedQueue]]:
    """The stages, and the queue in front of each stage and of the sink: the one placed
    there in ``steps``, else a default one."""
    stages: list[Stage] = []
    queues: list[BoundedQueue] = []
    placed: BoundedQueue | None = None
    for step in steps:
        if isinstance(step, BoundedQueue):
            if placed is not None:
                raise ValueError("two queues in a row in the pipeline")
            placed = step
            continue
        queues.append(placed or BoundedQueue(queue_size, policy, history=history))
        stages.append(step)
        placed = None
    queues.append(placed or BoundedQueue(queue_size, policy, history=history))
    return stages, queues


async def run_pipeline(
    source: AsyncIterator[Envelope[Any]],
    steps: Sequence[Stage | BoundedQueue],
    sink: Sink,
    queue_size: int = 2,
    policy: DropPolicy = DropPolicy.BLOCK,
    history: int | None = None,
) -> PipelineResult:
    """Run ``source -> stages... -> sink`` until the source ends; the sink is always closed.

    ``steps`` lists the stages in order; a ``BoundedQueue`` among them is the queue in front of
    the next stage (or of the sink), for a queue with its own size or drop policy (the
    receiver's generation queue). Other queues hold ``queue_size`` items under ``policy``. If
    any stage raises, the others are cancelled and the first error propagates unwrapped.
    ``history`` bounds the finished traces kept for the result (live calls); the totals
    still count every one.
    """
    stages, queues = _stages_and_queues(steps, queue_size, policy, history)
    completed = TraceLog(history)
    dropped = TraceLog(history)
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_feed(source, queues[0]))
            for stage, inbox, out in zip(stages, queues[:-1], queues[1:], strict=True):
                group.create_task(_work(stage, inbox, out, dropped))
            group.create_task(_drain(sink, queues[-1], completed))
    except BaseExceptionGroup as group_error:
        first = group_error.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    finally:
        await sink.close()
    for queue in queues:
        dropped.extend(queue.dropped)
    return PipelineResult(
        completed=completed.kept,
        dropped=sorted(dropped.kept, key=lambda trace: trace.index),
        max_queue_depth=max(queue.max_depth for queue in queues),
        queue_depths=[queue.max_depth for queue in queues],
        completed_total=completed.total,
        dropped_total=dropped.total,
        cpu_ms={
            name: completed.cpu_ms.get(name, 0.0) + dropped.cpu_ms.get(name, 0.0)
            for name in completed.cpu_ms.keys() | dropped.cpu_ms.keys()
        },
    )
