"""The streaming engine (ozoasync.bulk.map_as_completed), tested directly with stub workers,
and the progress reports of the chunked bulk calls."""

from __future__ import annotations

import asyncio
import gc
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozoasync import CloudAgentClient, Progress
from ozoasync.bulk import map_as_completed
from ozoasync.testing import FakeCloudAgent

R = TypeVar("R")


class Counted:
    """A source that counts how many items were read from it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.read = 0

    def __iter__(self) -> Iterator[int]:
        for item in range(self.count):
            self.read += 1
            yield item


async def async_items(count: int) -> AsyncIterator[int]:
    for item in range(count):
        await asyncio.sleep(0)
        yield item


async def scrambled(item: int) -> int:
    """Finishes after a pseudo-random number of event-loop turns: out of input order."""
    for _ in range(item * 7919 % 5):
        await asyncio.sleep(0)
    return item * 10


async def settle() -> None:
    """Let the loop run whatever was scheduled (e.g. closing a dropped generator)."""
    for _ in range(20):
        if asyncio.all_tasks() == {asyncio.current_task()}:
            return
        await asyncio.sleep(0)


def other_tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}


# --- every item exactly once, in completion order ------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.integers(min_value=0, max_value=50), max_size=60),
    concurrency=st.integers(min_value=1, max_value=10),
    use_async_source=st.booleans(),
)
def test_every_item_is_mapped_exactly_once(
    items: list[int], concurrency: int, use_async_source: bool
) -> None:
    async def source() -> AsyncIterator[int]:
        for item in items:
            yield item

    async def run() -> list[int]:
        given_source = source() if use_async_source else items
        return [r async for r in map_as_completed(given_source, scrambled, concurrency=concurrency)]

    results = asyncio.run(run())
    assert Counter(results) == Counter(item * 10 for item in items)


async def test_results_come_in_completion_order_not_input_order() -> None:
    async def work(item: int) -> int:
        # Item 0 finishes last.
        await asyncio.sleep(0.05 if item == 0 else 0)
        return item

    results = [r async for r in map_as_completed(range(4), work, concurrency=4)]
    assert results[-1] == 0
    assert sorted(results) == [0, 1, 2, 3]


async def test_an_empty_source_yields_nothing() -> None:
    assert [r async for r in map_as_completed([], scrambled, concurrency=3)] == []


@pytest.mark.parametrize("concurrency", [0, -1])
async def test_concurrency_must_be_positive(concurrency: int) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        async for _ in map_as_completed([1], scrambled, concurrency=concurrency):
            pass


# --- bounds: concurrency, read-ahead, memory ------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 3, 8])
async def test_never_more_than_concurrency_in_flight(concurrency: int) -> None:
    in_flight = peak = 0
    rng = random.Random(concurrency)

    async def work(item: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(rng.randrange(4)):
            await asyncio.sleep(0)
        in_flight -= 1
        return item

    results = [r async for r in map_as_completed(range(200), work, concurrency=concurrency)]
    assert len(results) == 200
    assert 1 <= peak <= concurrency


async def test_input_is_read_only_as_slots_free_up() -> None:
    source = Counted(1000)
    yielded = 0
    async for _ in map_as_completed(source, scrambled, concurrency=5):
        yielded += 1
        # Read but not yet yielded: at most the items in flight and the one being read.
        assert source.read - yielded <= 5 + 1
        # A consumer that pauses does not make the engine read on.
        read_before_pause = source.read
        await asyncio.sleep(0)
        assert source.read == read_before_pause
    assert yielded == source.read == 1000


async def test_a_slow_async_source_does_not_hold_back_finished_results() -> None:
    first_result_seen = asyncio.Event()

    async def source() -> AsyncIterator[int]:
        yield 1
        # The next item comes only once the consumer has the first result: an engine that
        # waited for the source before yielding would hang here.
        await first_result_seen.wait()
        yield 2

    results = []
    async with asyncio.timeout(5):  # a guard against a hang, not a speed assertion
        async for result in map_as_completed(source(), scrambled, concurrency=4):
            results.append(result)
            first_result_seen.set()
    assert results == [10, 20]


# --- stopping ------------------------------------------------------------------------------


class Blocking:
    """A worker that fills every slot: item 0 finishes once all ``concurrency`` items have
    started, the others wait until cancelled. It records what started and what was
    cancelled."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.started: list[int] = []
        self.cancelled: list[int] = []
        self.all_started = asyncio.Event()

    async def __call__(self, item: int) -> int:
        self.started.append(item)
        if len(self.started) == self.concurrency:
            self.all_started.set()
        try:
            await (self.all_started.wait() if item == 0 else asyncio.Event().wait())
        except asyncio.CancelledError:
            self.cancelled.append(item)
            raise
        return item


async def test_breaking_out_cancels_work_in_flight_and_leaves_no_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    worker = Blocking(concurrency=4)
    async for _ in map_as_completed(range(100), worker, concurrency=4):
        break
    # Python closes the abandoned generator through the event loop.
    await settle()
    assert other_tasks() == set()
    assert worker.started == [0, 1, 2, 3]
    assert sorted(worker.cancelled) == [1, 2, 3]
    gc.collect()
    assert not caplog.records  # no "Task was destroyed but it is pending!"


async def test_closing_with_aclosing_cancels_work_at_once() -> None:
    worker = Blocking(concurrency=4)
    async with aclosing(map_as_completed(range(100), worker, concurrency=4)) as results:
        async for _ in results:
            break
    assert other_tasks() == set()
    assert sorted(worker.cancelled) == [1, 2, 3]


async def test_cancelling_the_consumer_cancels_work_in_flight() -> None:
    worker = Blocking(concurrency=4)
    got: list[int] = []
    first = asyncio.Event()

    async def consume() -> None:
        async for result in map_as_completed(range(100), worker, concurrency=4):
            got.append(result)
            first.set()

    consumer = asyncio.create_task(consume())
    await first.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert other_tasks() == set()
    assert got == [0]
    # Item 4 may have started in the slot item 0 freed: it is cancelled too.
    assert worker.started[:4] == [0, 1, 2, 3]
    assert sorted(worker.cancelled) == worker.started[1:]


async def collect(results: AsyncIterator[R], into: list[R]) -> None:
    async for result in results:
        into.append(result)


async def test_stop_finishes_work_in_flight_then_raises() -> None:
    source = Counted(1000)
    release = asyncio.Event()

    async def work(item: int) -> int:
        if item != 3:
            await release.wait()
        return item

    def stop(result: int) -> BaseException | None:
        release.set()  # the others finish once the stopping result is in
        return RuntimeError("doomed") if result == 3 else None

    results: list[int] = []
    with pytest.raises(RuntimeError, match="doomed"):
        await collect(map_as_completed(source, work, concurrency=4, stop=stop), results)
    # The stopping result first, then what was in flight; nothing read after the stop.
    assert results[0] == 3
    assert sorted(results) == list(range(source.read))
    assert source.read <= 4 + 1
    assert other_tasks() == set()


async def test_stop_cancels_a_read_in_progress() -> None:
    gate, release = asyncio.Event(), asyncio.Event()
    read: list[int] = []

    async def source() -> AsyncIterator[int]:
        for item in range(100):
            if item == 4:
                await gate.wait()  # the engine is waiting for this read when it stops
            read.append(item)
            yield item

    async def work(item: int) -> int:
        if item != 3:
            await release.wait()
        return item

    def stop(result: int) -> BaseException | None:
        # Open the gate: a read left running would now deliver item 4.
        gate.set()
        release.set()
        return RuntimeError("doomed") if result == 3 else None

    results: list[int] = []
    with pytest.raises(RuntimeError, match="doomed"):
        await collect(map_as_completed(source(), work, concurrency=5, stop=stop), results)
    assert read == [0, 1, 2, 3]
    assert sorted(results) == [0, 1, 2, 3]
    assert other_tasks() == set()


async def test_a_source_error_finishes_work_in_flight_then_raises() -> None:
    release = asyncio.Event()

    def source() -> Iterator[int]:
        yield from range(3)
        release.set()  # the work in flight can only finish after the error
        raise OSError("disk gone")

    async def work(item: int) -> int:
        await release.wait()
        return item

    results: list[int] = []
    with pytest.raises(OSError, match="disk gone"):
        await collect(map_as_completed(source(), work, concurrency=8), results)
    assert sorted(results) == [0, 1, 2]


async def test_a_worker_error_finishes_the_others_then_raises() -> None:
    started: list[int] = []
    all_started, release = asyncio.Event(), asyncio.Event()

    async def work(item: int) -> int:
        started.append(item)
        if len(started) == 4:
            all_started.set()
        if item == 2:
            await all_started.wait()
            release.set()  # the others can only finish after the error
            raise KeyError(item)
        await release.wait()
        return item

    results: list[int] = []
    with pytest.raises(KeyError):
        await collect(map_as_completed(range(1000), work, concurrency=4), results)
    assert started == [0, 1, 2, 3]
    assert sorted(results) == [0, 1, 3]
    assert other_tasks() == set()


# --- progress of the chunked bulk calls ------------------------------------------------------


async def test_block_number_progress_counts_deleted_not_found_and_failed_numbers(
    fake: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    present = [str(9_100_000_000 + i) for i in range(150)]
    absent = [str(9_200_000_000 + i) for i in range(30)]
    fake.add_block_group(7, present)
    reports: list[Progress] = []

    def numbers() -> Iterator[str]:
        yield from present
        yield "not-a-number"
        yield from absent

    result = await ca.block_numbers.delete(7, numbers(), on_progress=reports.append)
    last = reports[-1]
    # The absent numbers are listed under output.error: already not in the group.
    assert (last.deleted, last.failed, last.not_found) == (150, 1, 30)
    assert last.done == len(result.deleted) + len(result.failed) + len(result.not_found) == 181
    assert [r.done for r in reports] == sorted(r.done for r in reports)
    assert result.deleted_count == 150


async def test_first_alone_runs_the_first_item_by_itself_then_fans_out() -> None:
    running = 0
    seen: list[int] = []

    async def work(item: int) -> int:
        nonlocal running
        running += 1
        seen.append(running)
        await asyncio.sleep(0.001)
        running -= 1
        return item

    stream = map_as_completed(range(40), work, concurrency=8, first_alone=True)
    results = [result async for result in stream]
    assert sorted(results) == list(range(40))
    assert seen[0] == 1
    assert seen[1] == 1  # the second starts only once the first has finished
    assert max(seen) == 8


async def test_first_alone_stops_after_one_item_when_it_dooms_the_rest() -> None:
    started: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        return item

    stream = map_as_completed(
        range(100), work, concurrency=8, stop=lambda _: RuntimeError("doomed"), first_alone=True
    )
    with pytest.raises(RuntimeError, match="doomed"):
        await collect(stream, [])
    assert started == [0]


class Fatal(BaseException):
    """Not an Exception: beyond the engine's rules, like KeyboardInterrupt."""


async def test_an_error_beyond_exception_reaches_the_consumer_and_leaves_no_task() -> None:
    async def work(item: int) -> int:
        await asyncio.sleep(0)
        if item == 2:
            raise Fatal
        return item

    with pytest.raises(Fatal):
        async with asyncio.timeout(5):  # a guard against a hang, not a speed assertion
            await collect(map_as_completed(range(100), work, concurrency=4), [])
    assert other_tasks() == set()


async def test_closing_ends_even_when_work_outlives_its_cancellation() -> None:
    async def stubborn(item: int) -> int:
        try:
            await asyncio.sleep(0.2 if item else 0)
        except asyncio.CancelledError:
            return -item  # swallows the cancellation and finishes anyway
        return item

    async with asyncio.timeout(5):  # a guard against a hang, not a speed assertion
        async with aclosing(map_as_completed(range(10), stubborn, concurrency=3)) as results:
            async for _ in results:
                break
    assert other_tasks() == set()


async def test_closing_lets_go_of_an_async_source_at_once() -> None:
    log: list[str] = []

    async def source() -> AsyncIterator[int]:
        try:
            for item in range(100):
                await asyncio.sleep(0)
                yield item
        finally:
            log.append("closed")

    async def slow(item: int) -> int:
        await asyncio.sleep(0.01)  # the workers are cancelled in their work
        return item

    gc.disable()  # what is released must go by reference counting alone
    try:
        async with aclosing(map_as_completed(source(), slow, concurrency=4)) as results:
            async for _ in results:
                break
        for _ in range(5):
            await asyncio.sleep(0)  # the loop closes a dropped async generator
        assert log == ["closed"]
    finally:
        gc.enable()
