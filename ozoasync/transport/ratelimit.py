"""Rate limits: the guarantee, the schedule arithmetic, and the in-process limiter.

A key's next send waits for two rules, each of the form ``log[-depth] + window``:

- the *plan*, over past planned slots: ``slot = max(now, planned[-capacity] + window)``.
  Even spacing (the default) is ``capacity=1, window=period / max_requests * (1 + margin)``:
  a token bucket of capacity 1 (GCRA). No server reading (fixed window, sliding log, sliding
  counter, token bucket) rejects it, even when arrivals jitter or the process restarts.
  Burst mode is ``capacity=max_requests, window=period * (1 + margin)``: a sliding log, for
  servers known to count per fixed minute.
- the *guards*, over actual send times: at most ``max_requests`` sends in any
  ``period * (1 + margin)`` seconds, and (even spacing) no two sends closer than
  ``period / max_requests``, the vendor's own interval, which even a token bucket of
  capacity 1 accepts.

A process's first even-spaced send to a key waits one interval: the process it replaces may
have sent a moment before it died.

A coroutine resumes later than its slot (coarse timers, a busy event loop). The plan forgives
that lateness, so it is not added to every later send (with the 1 ms timer granularity of
asyncio that alone would cost several percent of throughput at short periods); the guards
make sure a late send and the punctual ones after it still never put more than
``max_requests`` actual sends in any window, nor end up closer than the vendor's interval:
the margin, not the vendor's limit, absorbs the lateness.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

DEFAULT_MARGIN = 0.02


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Never send more than ``max_requests`` in any sliding ``period`` seconds.

    ``burst=False`` (default) spaces sends evenly, ``period / max_requests * (1 + margin)``
    apart. ``burst=True`` lets up to ``max_requests`` go at once, then keeps a sliding log.

    A server that counts with a sliding counter accepts even spacing only when the margin
    leaves at least one request per period unused: ``margin >= 1 / (max_requests - 1)``.
    The default 2% does for the vendor's 100 per minute (any limit above 50); raise it for
    smaller limits.

    ``concurrency``: at most this many requests of the key in flight at once, across every
    client sharing the coordination (DeleteBulkData accepts no request while one is being
    processed: ``concurrency=1``); None for no such rule.
    """

    max_requests: int
    period: float
    burst: bool = False
    margin: float = DEFAULT_MARGIN
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_requests, bool) or self.max_requests < 1:
            raise ValueError("RateLimit.max_requests must be a positive int")
        if not self.period > 0 or math.isinf(self.period):
            raise ValueError("RateLimit.period must be a positive number of seconds")
        if not 0 <= self.margin < 1:
            raise ValueError("RateLimit.margin must be in [0, 1)")
        if self.concurrency is not None and (
            isinstance(self.concurrency, bool)
            or not isinstance(self.concurrency, int)
            or self.concurrency < 1
        ):
            raise ValueError("RateLimit.concurrency must be None or a positive int")

    @property
    def capacity(self) -> int:
        """How many planned slots the plan looks back over: the burst size."""
        return self.max_requests if self.burst else 1

    @property
    def window(self) -> float:
        """Seconds the plan keeps after the ``capacity``-th most recent slot."""
        base = self.period if self.burst else self.period / self.max_requests
        return base * (1 + self.margin)

    @property
    def min_gap(self) -> float:
        """Seconds that must separate two actual sends: the vendor's interval when evenly
        spaced, nothing in burst mode."""
        return 0.0 if self.burst else self.period / self.max_requests

    @property
    def guard_window(self) -> float:
        """No more than ``max_requests`` actual sends in any window of this many seconds."""
        return self.period * (1 + self.margin)


def _after(log: Sequence[float], depth: int, window: float) -> float:
    return log[-depth] + window if len(log) >= depth else -math.inf


@dataclass(slots=True)
class Schedule:
    """One key's bookkeeping, without a clock: planned slots, actual sends, push-backs.

    Pure arithmetic over the times it is given, so its guarantees can be checked against
    any sequence of send times. Logs keep the ``max_requests`` latest entries of the
    largest limit seen: clients that configure different limits for one key share one
    schedule, and each send obeys its own limit against the sends still in the logs. (A
    client that first appears with a larger limit than any before cannot count sends the
    logs no longer hold: give every client of an account the same limits.)
    """

    planned: deque[float] = field(default_factory=deque)
    sent: deque[float] = field(default_factory=deque)
    not_before: float = -math.inf
    depth: int = 1
    started: float = -math.inf

    @classmethod
    def fresh(cls, now: float) -> Schedule:
        """The schedule of a key this process has not sent to yet. The process it replaces
        (restarted, or another run of a script) may have sent a moment ago, so the plan
        starts as if a send had happened at ``now``: even spacing then holds across
        restarts, for the price of one interval before the first send. (A burst cannot be
        protected that way: burst mode is for servers that count per fixed window.)"""
        return cls(started=now)

    def earliest(self, limit: RateLimit) -> float:
        """The earliest time the rules allow the next send (-inf: any time)."""
        return max(
            self.not_before,
            _after(self.planned or (self.started,), limit.capacity, limit.window),
            _after(self.sent, limit.max_requests, limit.guard_window),
            _after(self.sent, 1, limit.min_gap),
        )

    def next_send_time(self, limit: RateLimit, now: float) -> float:
        """When the next send may happen, asked at ``now``; that time is also its slot."""
        return max(now, self.earliest(limit))

    def record(self, limit: RateLimit, slot: float, sent_at: float) -> None:
        """A send planned for ``slot`` went at ``sent_at`` (``slot`` or later)."""
        self.depth = max(self.depth, limit.max_requests)
        for log, value in ((self.planned, slot), (self.sent, sent_at)):
            log.append(value)
            while len(log) > self.depth:
                log.popleft()

    def push_back(self, until: float) -> None:
        """No send before ``until``."""
        self.not_before = max(self.not_before, until)


@dataclass(slots=True)
class _KeyState:
    schedule: Schedule
    # asyncio.Lock wakes waiters in arrival order: first come, first served.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SlotTooLate(Exception):
    """The next slot of a key lies beyond the caller's deadline: nothing was consumed."""


class InProcessLimiter:
    """The schedule for one process: one lock per key, held while waiting for the send time.

    A waiter cancelled in the queue or while sleeping records nothing: no capacity is lost
    and the waiters behind it move up. ``clock`` and ``sleep`` are replaceable for tests.

    asyncio rounds a sleep up to whole milliseconds, which at short intervals would make
    every send late by up to that much: the holder sleeps ``timer_slack`` short of its slot
    and then yields to the loop until the slot (0 turns this off, for a test clock).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        timer_slack: float = 0.002,
    ) -> None:
        self.clock = clock
        self._sleep = sleep
        self._timer_slack = timer_slack
        self._keys: dict[str, _KeyState] = {}

    def _state(self, key: str) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState(Schedule.fresh(self.clock()))
        return state

    async def acquire(self, key: str, limit: RateLimit, deadline: float | None = None) -> float:
        """Wait for the next send slot of ``key``; returns the seconds waited. When the slot
        lies beyond ``deadline`` (on :attr:`clock`), raises SlotTooLate at once, recording
        nothing, so the waiters behind move up."""
        state = self._state(key)
        started = self.clock()
        async with state.lock:
            now = turn = self.clock()
            # Re-read after every sleep: a push-back may have moved the slot meanwhile.
            while (slot := max(turn, state.schedule.earliest(limit))) > now:
                if deadline is not None and slot > deadline:
                    raise SlotTooLate
                remaining = slot - now
                await self._sleep(
                    remaining - self._timer_slack if remaining > self._timer_slack else 0
                )
                now = self.clock()
            state.schedule.record(limit, slot, now)
        return now - started

    async def push_back(self, key: str, limit: RateLimit, delay: float) -> None:
        """No send of ``key`` before ``delay`` seconds from now (after a 429)."""
        self._state(key).schedule.push_back(self.clock() + delay)


@dataclass(slots=True)
class _InFlight:
    held: int = 0
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)

    def wake_next(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class InFlightLimiter:
    """At most ``n`` holders per key at once, in one process (``RateLimit.concurrency``).
    Waiters are woken in arrival order; each re-checks its own ``n`` (clients may configure
    different limits for one key)."""

    def __init__(self) -> None:
        self._keys: dict[str, _InFlight] = {}

    async def enter(self, key: str, n: int) -> None:
        """Wait for a place among the ``n`` holders of ``key``; cancelling gives it back."""
        state = self._keys.setdefault(key, _InFlight())
        while state.held >= n:
            waiter = asyncio.get_running_loop().create_future()
            state.waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    state.wake_next()  # woken but leaving: pass the wake-up on
                raise
        state.held += 1

    def leave(self, key: str) -> None:
        state = self._keys[key]
        state.held -= 1
        state.wake_next()
