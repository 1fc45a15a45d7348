"""``Coordination.slot`` in one process: ``max_wait`` refuses a slot it cannot have in time
without consuming it, and ``RateLimit(concurrency=N)`` keeps at most N in flight."""

from __future__ import annotations

import asyncio

import pytest

from ozoasync import DeadlineExceededError, InProcessCoordination, RateLimit
from ozoasync.transport.ratelimit import InProcessLimiter, SlotTooLate

KEY = "http://127.0.0.1:1|demo|DeleteBulkData"


class StillClock:
    """A clock that never moves: a sleep would hang, so refusing must not sleep."""

    def __call__(self) -> float:
        return 0.0

    async def sleep(self, delay: float) -> None:
        raise AssertionError(f"slept {delay} s")


async def test_a_slot_beyond_the_deadline_is_refused_at_once_and_consumes_nothing() -> None:
    clock = StillClock()
    limiter = InProcessLimiter(clock=clock, sleep=clock.sleep, timer_slack=0.0)
    limit = RateLimit(10, 1.0, margin=0.0)  # a fresh key's first slot is 0.1 s out
    for _ in range(3):
        with pytest.raises(SlotTooLate):
            await limiter.acquire(KEY, limit, deadline=0.05)
    # Nothing was recorded: the next slot is still the first one.
    assert limiter._state(KEY).schedule.earliest(limit) == pytest.approx(0.1)


async def test_slot_raises_deadline_exceeded_and_the_next_caller_keeps_its_place() -> None:
    coordination = InProcessCoordination()
    limit = RateLimit(4, 2.0)  # a slot every 0.51 s
    async with coordination.slot(KEY, limit):
        pass
    with pytest.raises(DeadlineExceededError, match="nothing was sent") as raised:
        async with coordination.slot(KEY, limit, max_wait=0.05):
            pytest.fail("sent beyond the deadline")
    assert raised.value.attempts == 0
    async with coordination.slot(KEY, limit) as waited:
        pass
    # The abandoned slot was not kept: the next caller waited one interval, not two.
    assert waited < 1.5 * limit.window


async def test_at_most_n_in_flight_and_a_cancelled_waiter_leaks_no_place() -> None:
    coordination = InProcessCoordination()
    limit = RateLimit(1000, 1.0, burst=True, concurrency=2)
    in_flight = 0
    most = 0
    release = asyncio.Event()

    async def send() -> None:
        nonlocal in_flight, most
        async with coordination.slot(KEY, limit):
            in_flight += 1
            most = max(most, in_flight)
            await release.wait()
            in_flight -= 1

    tasks = [asyncio.create_task(send()) for _ in range(6)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert in_flight == 2
    tasks[-1].cancel()  # waiting for a place
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)

    assert most == 2
    assert sum(task.cancelled() for task in tasks) == 1
    # Every place was given back.
    async with asyncio.timeout(5):
        async with coordination.slot(KEY, limit), coordination.slot(KEY, limit):
            pass


async def test_a_place_that_cannot_be_had_in_time_raises_and_keeps_nothing() -> None:
    coordination = InProcessCoordination()
    limit = RateLimit(1000, 1.0, burst=True, concurrency=1)
    async with coordination.slot(KEY, limit):
        with pytest.raises(DeadlineExceededError):
            async with coordination.slot(KEY, limit, max_wait=0.05):
                pytest.fail("two in flight")
    async with asyncio.timeout(5), coordination.slot(KEY, limit, max_wait=1.0):
        pass


async def test_a_body_that_raises_gives_its_place_back() -> None:
    coordination = InProcessCoordination()
    limit = RateLimit(1000, 1.0, burst=True, concurrency=1)
    with pytest.raises(RuntimeError):
        async with coordination.slot(KEY, limit):
            raise RuntimeError("send failed")
    async with asyncio.timeout(5), coordination.slot(KEY, limit):
        pass
