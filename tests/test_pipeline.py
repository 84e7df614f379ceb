import asyncio
from dataclasses import dataclass, field

import pytest

from mirage_stream.pipeline import (
    BoundedQueue,
    DropPolicy,
    Envelope,
    SegmentTrace,
    run_pipeline,
)


async def numbers(count: int):
    for i in range(count):
        yield Envelope(i, SegmentTrace(index=i))


@dataclass
class AddOne:
    name: str = "add"

    async def process(self, item, trace):
        await asyncio.sleep(0)
        return item + 1


@dataclass
class DropOdd:
    name: str = "drop-odd"

    async def process(self, item, trace):
        if item % 2:
            trace.dropped = "odd"
            return None
        return item


@dataclass
class Fails:
    name: str = "fails"

    async def process(self, item, trace):
        if item == 3:
            raise RuntimeError("stage broke")
        return item


@dataclass
class ListSink:
    items: list = field(default_factory=list)
    closed: bool = False

    async def consume(self, item, trace):
        self.items.append(item)

    async def close(self):
        self.closed = True


def test_items_flow_in_order_through_stages():
    sink = ListSink()
    result = asyncio.run(run_pipeline(numbers(10), [AddOne(), AddOne()], sink, queue_size=1))
    assert sink.items == list(range(2, 12))
    assert sink.closed
    assert [t.index for t in result.completed] == list(range(10))
    assert all("add" in t.timings_ms and "sink" in t.timings_ms for t in result.completed)


def test_a_slow_sink_holds_the_source_back_by_the_queues_bound():
    produced, leads = [], []

    async def counted(count):
        for i in range(count):
            produced.append(i)
            yield Envelope(i, SegmentTrace(index=i))

    class SlowSink(ListSink):
        async def consume(self, item, trace):
            leads.append(len(produced) - len(self.items))
            await asyncio.sleep(0.002)
            await super().consume(item, trace)

    sink = SlowSink()
    result = asyncio.run(run_pipeline(counted(40), [AddOne(), AddOne()], sink, queue_size=1))
    assert sink.items == list(range(2, 42))
    # Back-pressure: every queue filled up to its bound, and the source ran ahead of the sink
    # by no more than the queues (3 x 1), the two stages, the feeder and the sink hold.
    assert result.queue_depths == [1, 1, 1]
    assert 3 <= max(leads) <= 7


def test_dropped_items_are_accounted_for():
    sink = ListSink()
    result = asyncio.run(run_pipeline(numbers(6), [DropOdd()], sink))
    assert sink.items == [0, 2, 4]
    assert [t.index for t in result.dropped] == [1, 3, 5]
    assert all(t.dropped == "odd" for t in result.dropped)


def test_stage_error_propagates_unwrapped_and_sink_is_closed():
    sink = ListSink()
    with pytest.raises(RuntimeError, match="stage broke"):
        asyncio.run(run_pipeline(numbers(10), [Fails()], sink))
    assert sink.closed
    assert sink.items == [0, 1, 2]


def test_cancellation_closes_the_sink():
    sink = ListSink()

    async def forever():
        i = 0
        while True:
            yield Envelope(i, SegmentTrace(index=i))
            i += 1
            await asyncio.sleep(0.001)

    async def main():
        task = asyncio.create_task(run_pipeline(forever(), [AddOne()], sink))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert sink.closed and sink.items


def test_drop_oldest_keeps_the_newest_and_records_the_drop():
    async def main():
        queue = BoundedQueue(2, DropPolicy.DROP_OLDEST)
        for i in range(5):
            await queue.put(Envelope(i, SegmentTrace(index=i)))
        kept = [(await queue.get()).item for _ in range(2)]
        return kept, [t.index for t in queue.dropped.kept]

    kept, dropped = asyncio.run(main())
    assert kept == [3, 4]
    assert dropped == [0, 1, 2]


def test_queue_size_must_be_positive():
    with pytest.raises(ValueError):
        BoundedQueue(0)


def test_a_bounded_history_counts_every_trace_and_keeps_the_newest():
    sink = ListSink()
    result = asyncio.run(run_pipeline(numbers(40), [DropOdd()], sink, history=3))
    assert sink.items == list(range(0, 40, 2))
    assert (result.completed_total, result.dropped_total) == (20, 20)
    assert [t.index for t in result.completed] == [34, 36, 38]
    assert [t.index for t in result.dropped] == [35, 37, 39]
