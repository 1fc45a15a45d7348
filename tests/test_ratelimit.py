"""The in-process rate limiter: the schedule arithmetic (pure, checked with hypothesis) and
the limiter's queue (first come first served, cancellation, push-back) on a clock the test
moves by hand."""

from __future__ import annotations

import asyncio
import itertools
import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync import RateLimit
from ozoasync.testing.readings import max_in_window
from ozoasync.transport.ratelimit import InProcessLimiter, Schedule

KEY = "http://emulator|demo|deleteCampaignData"
# Float noise: sums of floats land within a few ulps of the exact times.
TOLERANCE = 1e-9


# --- RateLimit -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_requests", "period", "margin"),
    [
        (0, 60.0, 0.02),
        (-1, 60.0, 0.02),
        (True, 60.0, 0.02),
        (100, 0.0, 0.02),
        (100, -1.0, 0.02),
        (100, math.nan, 0.02),
        (100, math.inf, 0.02),
        (100, 60.0, -0.01),
        (100, 60.0, 1.0),
    ],
)
def test_rate_limit_refuses_impossible_values(
    max_requests: int, period: float, margin: float
) -> None:
    with pytest.raises(ValueError, match="RateLimit"):
        RateLimit(max_requests, period, margin=margin)


def test_even_spacing_and_burst_parameters() -> None:
    even = RateLimit(100, 60.0)
    assert (even.capacity, even.window, even.guard_window) == pytest.approx((1, 0.612, 61.2))
    assert even.min_gap == pytest.approx(0.6)
    burst = RateLimit(100, 60.0, burst=True)
    assert (burst.capacity, burst.window, burst.guard_window) == pytest.approx((100, 61.2, 61.2))
    assert burst.min_gap == 0.0


# --- the schedule, as pure arithmetic ------------------------------------------------------


def simulate(limit: RateLimit, steps: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Sends through a :class:`Schedule` the way the limiter makes them: each step is
    (idle time before the next waiter's turn, how late it wakes if it has to sleep).
    Returns the planned slots and the actual send times."""
    schedule = Schedule()
    slots: list[float] = []
    sent: list[float] = []
    last = 0.0
    for idle, lateness in steps:
        turn = last + idle
        slot = schedule.next_send_time(limit, turn)
        last = slot + lateness if slot > turn else turn
        schedule.record(limit, slot, last)
        slots.append(slot)
        sent.append(last)
    return slots, sent


limits = st.builds(
    RateLimit,
    max_requests=st.integers(1, 12),
    period=st.floats(0.01, 100.0),
    burst=st.booleans(),
    margin=st.one_of(st.just(0.0), st.just(0.02), st.floats(0.0, 0.5)),
)
steps = st.lists(
    st.tuples(
        st.one_of(st.just(0.0), st.floats(0.0, 3.0)),
        st.one_of(st.just(0.0), st.floats(0.0, 3.0)),
    ),
    max_size=80,
)


@given(limit=limits, steps=steps)
def test_no_window_of_period_ever_holds_more_than_max_requests(
    limit: RateLimit, steps: list[tuple[float, float]]
) -> None:
    _, sent = simulate(limit, steps)
    assert max_in_window(sent, limit.period * (1 - TOLERANCE)) <= limit.max_requests


@given(limit=limits, steps=steps)
def test_late_sends_never_eat_the_margin(
    limit: RateLimit, steps: list[tuple[float, float]]
) -> None:
    # Any max_requests + 1 consecutive sends span at least period * (1 + margin): the
    # margin stays whole for arrival jitter, however late each send was.
    _, sent = simulate(limit, steps)
    n = limit.max_requests
    for first, last in zip(sent, sent[n:], strict=False):
        assert last - first >= limit.guard_window * (1 - TOLERANCE)


@given(limit=limits.filter(lambda limit: not limit.burst), steps=steps)
def test_even_spacing_plans_slots_a_window_apart(
    limit: RateLimit, steps: list[tuple[float, float]]
) -> None:
    slots, _ = simulate(limit, steps)
    for earlier, later in itertools.pairwise(slots):
        assert later - earlier >= limit.window * (1 - TOLERANCE)


@given(limit=limits.filter(lambda limit: not limit.burst), steps=steps)
def test_even_spacing_never_sends_closer_than_the_vendors_interval(
    limit: RateLimit, steps: list[tuple[float, float]]
) -> None:
    # However late a waker is, the next send keeps period / max_requests from it.
    _, sent = simulate(limit, steps)
    for earlier, later in itertools.pairwise(sent):
        assert later - earlier >= limit.period / limit.max_requests * (1 - TOLERANCE)


@given(
    limit=limits.filter(lambda limit: not limit.burst),
    late=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=120),
)
def test_even_spacing_absorbs_lateness_within_the_margin(
    limit: RateLimit, late: list[float]
) -> None:
    # Always a waiter ready; each wakes late by up to the margin's share of an interval.
    # The plan forgives it: the k-th send is late by at most one wake-up per max_requests
    # sends, not k of them.
    lateness = [fraction * (limit.window - limit.min_gap) for fraction in late]
    _, sent = simulate(limit, [(0.0, x) for x in lateness])
    worst = max(lateness)
    for k, at in enumerate(sent):
        bound = k * limit.window + (k // limit.max_requests + 1) * worst
        assert at <= bound + TOLERANCE * (1 + bound)


@given(
    limit=limits.filter(lambda limit: limit.burst),
    late=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=60),
)
def test_burst_mode_sends_a_whole_burst_per_window(limit: RateLimit, late: list[float]) -> None:
    _, sent = simulate(limit, [(0.0, x) for x in late])
    worst = max(late)
    assert sent[: limit.max_requests] == [0.0] * len(sent[: limit.max_requests])
    for k, at in enumerate(sent):
        bound = (k // limit.max_requests) * (limit.guard_window + worst)
        assert at <= bound + TOLERANCE * (1 + bound)


def test_a_late_send_holds_back_the_send_that_would_crowd_its_window() -> None:
    # 3 per 3 s, no margin: slots at 0, 1, 2, 3... The send planned for 1 goes at 1.9.
    # Sends at 1.9, 2, 3 and 4 would be four in (1, 4]: the guard moves the fourth to 4.9.
    limit = RateLimit(3, 3.0, margin=0.0)
    schedule = Schedule()
    for slot, sent in [(0.0, 0.0), (1.0, 1.9), (2.0, 2.0), (3.0, 3.0)]:
        schedule.record(limit, slot, sent)
    assert schedule.next_send_time(limit, 3.0) == pytest.approx(4.9)
    # Without the late send, the plan alone would have said 4.
    punctual = Schedule()
    for at in (0.0, 1.0, 2.0, 3.0):
        punctual.record(limit, at, at)
    assert punctual.next_send_time(limit, 3.0) == pytest.approx(4.0)


@pytest.mark.parametrize(("burst", "first"), [(False, 0.1), (True, 0.0)])
def test_a_fresh_schedule_leaves_room_for_a_predecessors_last_send(
    burst: bool, first: float
) -> None:
    # Even spacing: as if a send had just happened. Burst mode: the burst goes at once.
    limit = RateLimit(10, 1.0, burst=burst, margin=0.0)
    assert Schedule.fresh(5.0).next_send_time(limit, 5.0) == pytest.approx(5.0 + first)


def test_push_back_holds_every_later_send() -> None:
    limit = RateLimit(10, 1.0)
    schedule = Schedule()
    schedule.record(limit, 0.0, 0.0)
    schedule.push_back(5.0)
    schedule.push_back(2.0)  # an earlier push-back never shortens a later one
    assert schedule.next_send_time(limit, 0.5) == 5.0
    schedule.record(limit, 5.0, 5.0)
    assert schedule.next_send_time(limit, 5.0) == pytest.approx(5.0 + limit.window)


# --- the limiter's queue, on a hand-moved clock ------------------------------------------------


class ManualClock:
    """A clock only the test moves; sleepers wake when it reaches their deadline."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + delay, future))
        await future

    def deadlines(self) -> list[float]:
        return sorted(d for d, future in self._sleepers if not future.done())

    async def advance_to(self, when: float) -> None:
        """Move to ``when``; every sleeper due by then wakes (late, if it was due earlier)."""
        self.now = when
        for deadline, future in self._sleepers:
            if deadline <= when and not future.done():
                future.set_result(None)
        self._sleepers = [(d, f) for d, f in self._sleepers if not f.done()]
        await settle()

    async def run_until(self, when: float) -> None:
        """Wake each sleeper exactly on its deadline, up to ``when``."""
        while (due := [d for d in self.deadlines() if d <= when]) != []:
            await self.advance_to(due[0])
        await self.advance_to(when)


async def settle() -> None:
    """Let every ready task run until it blocks again."""
    for _ in range(20):
        await asyncio.sleep(0)


class Senders:
    """Tasks that each acquire one slot and record (name, time) when they get it."""

    def __init__(self, limiter: InProcessLimiter, clock: ManualClock, limit: RateLimit) -> None:
        self.limiter, self.clock, self.limit = limiter, clock, limit
        self.sent: list[tuple[str, float]] = []
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self, *names: str, key: str = KEY) -> None:
        """Queue senders in this order (each reaches the queue before the next starts)."""
        for name in names:
            self.tasks[name] = asyncio.create_task(self._send(name, key))
            await settle()

    async def _send(self, name: str, key: str) -> None:
        await self.limiter.acquire(key, self.limit)
        self.sent.append((name, self.clock.now))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def limiter(clock: ManualClock) -> InProcessLimiter:
    return InProcessLimiter(clock=clock, sleep=clock.sleep, timer_slack=0.0)


LIMIT = RateLimit(10, 1.0, margin=0.0)  # a slot every 0.1 s
W = LIMIT.window


async def test_waiters_are_served_first_come_first_served(
    clock: ManualClock, limiter: InProcessLimiter
) -> None:
    senders = Senders(limiter, clock, LIMIT)
    await senders.start("a", "b", "c", "d", "e")
    await clock.run_until(1.0)

    # The first waits one slot too: a restarted predecessor may have sent a moment ago.
    assert [name for name, _ in senders.sent] == list("abcde")
    assert [at for _, at in senders.sent] == pytest.approx([1 * W, 2 * W, 3 * W, 4 * W, 5 * W])


async def test_acquire_reports_the_seconds_waited(
    clock: ManualClock, limiter: InProcessLimiter
) -> None:
    waiting = [asyncio.create_task(limiter.acquire(KEY, LIMIT)) for _ in range(2)]
    await settle()
    await clock.run_until(1.0)
    assert [task.result() for task in waiting] == [pytest.approx(W), pytest.approx(2 * W)]


async def test_a_waiter_cancelled_in_the_queue_leaks_no_capacity(
    clock: ManualClock, limiter: InProcessLimiter
) -> None:
    senders = Senders(limiter, clock, LIMIT)
    await senders.start("a", "b", "c", "d")
    senders.tasks["c"].cancel()  # queued behind a (sleeping until 0.1) and b
    await clock.run_until(1.0)

    assert senders.sent == [("a", W), ("b", pytest.approx(2 * W)), ("d", pytest.approx(3 * W))]


async def test_a_waiter_cancelled_while_sleeping_leaks_no_capacity(
    clock: ManualClock, limiter: InProcessLimiter
) -> None:
    senders = Senders(limiter, clock, LIMIT)
    await senders.start("a", "b", "c")
    await clock.run_until(W)
    assert clock.deadlines() == [pytest.approx(2 * W)]  # b sleeps; c waits behind it
    await clock.advance_to(1.5 * W)
    senders.tasks["b"].cancel()
    await settle()
    await clock.run_until(1.0)

    # c takes b's slot: the schedule neither skips it nor crowds it.
    assert senders.sent == [("a", W), ("c", pytest.approx(2 * W))]


async def test_push_back_delays_every_waiter_and_keeps_their_order(
    clock: ManualClock, limiter: InProcessLimiter
) -> None:
    senders = Senders(limiter, clock, LIMIT)
    await senders.start("a", "b", "c")
    await clock.run_until(W)
    await limiter.push_back(KEY, LIMIT, 5.0)  # b is already sleeping until 0.2
    await clock.run_until(10.0)

    assert senders.sent == [("a", W), ("b", W + 5.0), ("c", pytest.approx(2 * W + 5.0))]


async def test_push_back_and_schedule_are_per_key(
    clock: ManualClock, limiter: InProcessLimiter
) -> None:
    await limiter.push_back(KEY, LIMIT, 5.0)
    other = asyncio.create_task(limiter.acquire("other", LIMIT))
    await settle()
    await clock.run_until(1.0)
    assert other.result() == pytest.approx(W)


async def test_a_late_waker_is_caught_up_without_crowding_anyone(
    clock: ManualClock, limiter: InProcessLimiter
) -> None:
    # 3 per 3 s with a 10% margin: slots 1.1 s apart from 1.1. b, due at 2.2, wakes at 2.35.
    limit = RateLimit(3, 3.0, margin=0.1)
    senders = Senders(limiter, clock, limit)
    await senders.start("a", "b", "c", "d", "e")
    await clock.run_until(1.1)
    await clock.advance_to(2.35)
    await clock.run_until(10.0)

    # c keeps a whole vendor interval (1 s) from b, so its slot is 3.35: the 0.1 s margin
    # absorbed all but 0.05 s of b's lateness, and d follows one window after c. e, planned
    # for 5.55, would make four sends in (2.25, 5.55]: it waits until b's send is 3.3 s
    # (period + margin) old.
    assert senders.sent == [
        ("a", pytest.approx(1.1)),
        ("b", pytest.approx(2.35)),
        ("c", pytest.approx(3.35)),
        ("d", pytest.approx(4.45)),
        ("e", pytest.approx(5.65)),
    ]


async def test_clients_with_different_limits_for_one_key_share_its_schedule(
    clock: ManualClock, limiter: InProcessLimiter
) -> None:
    wide = RateLimit(4, 1.0, burst=True, margin=0.0)
    narrow = RateLimit(2, 1.0, burst=True, margin=0.0)
    async with asyncio.timeout(5):  # a burst never sleeps: fail rather than hang if it did
        for _ in range(4):
            assert await limiter.acquire(KEY, wide) == 0.0
    waiting = asyncio.create_task(limiter.acquire(KEY, narrow))
    await settle()

    # The narrow limit counts the wide client's sends too: no fresh schedule for it.
    assert clock.deadlines() == [1.0]
    await clock.run_until(2.0)
    assert waiting.result() == 1.0


# --- under a real event loop ---------------------------------------------------------------------


@pytest.mark.parametrize("burst", [False, True])
async def test_concurrent_senders_on_a_real_clock_keep_the_limit(burst: bool) -> None:
    limit = RateLimit(5, 0.25, burst=burst)
    limiter = InProcessLimiter()
    sent: list[float] = []

    async def send() -> None:
        await limiter.acquire(KEY, limit)
        sent.append(time.monotonic())

    await asyncio.gather(*(send() for _ in range(16)))

    assert len(sent) == 16
    assert max_in_window(sent, limit.period) <= limit.max_requests
    if burst:
        # The schedule gives up nothing it does not have to: a whole burst goes at once.
        assert max_in_window(sent, limit.period) == limit.max_requests
