"""Rate limits: the guarantee, the schedule arithmetic, and the in-process limiter.

Both schedules are one rule over the log of past send times: the next send may happen at
``max(now, log[-capacity] + window)``.

- even spacing (the default) is ``capacity=1, window=period / max_requests * (1 + margin)``:
  a token bucket of capacity 1 (GCRA). No server reading (fixed window, sliding log, sliding
  counter, token bucket) rejects it, even when arrivals jitter or the process restarts.
- burst mode is ``capacity=max_requests, window=period * (1 + margin)``: a sliding log, for
  servers known to count per fixed minute.

In both, any window of ``period`` seconds holds at most ``max_requests`` sends.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field

DEFAULT_MARGIN = 0.02


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Never send more than ``max_requests`` in any sliding ``period`` seconds.

    ``burst=False`` (default) spaces sends evenly, ``period / max_requests * (1 + margin)``
    apart. ``burst=True`` lets up to ``max_requests`` go at once, then keeps a sliding log.
    """

    max_requests: int
    period: float
    burst: bool = False
    margin: float = DEFAULT_MARGIN

    def __post_init__(self) -> None:
        if isinstance(self.max_requests, bool) or self.max_requests < 1:
            raise ValueError("RateLimit.max_requests must be a positive int")
        if self.period <= 0:
            raise ValueError("RateLimit.period must be positive")
        if not 0 <= self.margin < 1:
            raise ValueError("RateLimit.margin must be in [0, 1)")

    @property
    def capacity(self) -> int:
        """How many sends the log keeps: the burst size."""
        return self.max_requests if self.burst else 1

    @property
    def window(self) -> float:
        """Seconds that must pass after the ``capacity``-th most recent send."""
        base = self.period if self.burst else self.period / self.max_requests
        return base * (1 + self.margin)


def next_send_time(log: collections.deque[float], limit: RateLimit, now: float) -> float:
    """When the next send may happen, given the past send times (oldest first)."""
    if len(log) < limit.capacity:
        return now
    return max(now, log[-limit.capacity] + limit.window)


@dataclass(slots=True)
class _KeyState:
    limit: RateLimit
    log: collections.deque[float]
    # asyncio.Lock wakes waiters in arrival order: first come, first served.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    not_before: float = 0.0


class InProcessLimiter:
    """The schedule for one process: one lock per key, held while waiting for the send time.

    The time recorded is the moment the holder actually proceeds, so a coroutine that wakes
    late pushes the next one back instead of ending up closer to it than the window. A waiter
    cancelled in the queue or while sleeping records nothing: no capacity is lost.
    """

    def __init__(self, clock: collections.abc.Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._keys: dict[str, _KeyState] = {}

    def _state(self, key: str, limit: RateLimit) -> _KeyState:
        state = self._keys.get(key)
        if state is None or state.limit != limit:
            state = _KeyState(limit, collections.deque(maxlen=limit.capacity))
            self._keys[key] = state
        return state

    async def acquire(self, key: str, limit: RateLimit) -> float:
        """Wait for the next send slot of ``key``; returns the seconds waited."""
        state = self._state(key, limit)
        started = self._clock()
        async with state.lock:
            while True:
                now = self._clock()
                at = max(next_send_time(state.log, limit, now), state.not_before)
                if at <= now:
                    break
                await asyncio.sleep(at - now)
            state.log.append(now)
        return now - started

    async def push_back(self, key: str, limit: RateLimit, delay: float) -> None:
        """No send of ``key`` before ``delay`` seconds from now (after a 429)."""
        state = self._state(key, limit)
        state.not_before = max(state.not_before, self._clock() + delay)
