"""Four ways a server may read "at most N requests per T seconds".

The vendor says "100 requests per minute" and not how it counts, so a client's schedule has
to pass every plausible reading. Each reading here is an online counter: :meth:`admit` takes
one arrival time (in time order) and says whether the server would serve it. A rejected
arrival consumes nothing, except in a :class:`SlidingLog` built with ``count_rejected``.
:func:`rejections` replays a list of arrival times; :func:`max_in_window` is the busiest
sliding window. The emulators count their strict limits with :class:`SlidingLog`; tests and
``benchmarks/rate_limit.py`` use all four.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

# Float noise: an arrival on a boundary must not be rejected by a rounding error, so times
# within this fraction of a period (or of a token) count as on the boundary.
_EPSILON = 1e-9


def _left(then: float, now: float, period: float) -> bool:
    """Whether an event at ``then`` has left the window ``(now - period, now]``."""
    return then <= now - period * (1 - _EPSILON)


class Reading(Protocol):
    """A server's way of counting requests against its limit."""

    def admit(self, now: float) -> bool:
        """Whether the server serves an arrival at ``now`` (arrivals come in time order)."""
        ...


@dataclass
class FixedWindow:
    """At most ``max_requests`` per clock-aligned window ``[origin + kT, origin + (k+1)T)``
    (a counter per minute of the clock)."""

    max_requests: int
    period: float
    origin: float = 0.0
    _window: int | None = field(default=None, init=False, repr=False)
    _count: int = field(default=0, init=False, repr=False)

    def admit(self, now: float) -> bool:
        window = math.floor((now - self.origin) / self.period + _EPSILON)
        if window != self._window:
            self._window, self._count = window, 0
        if self._count >= self.max_requests:
            return False
        self._count += 1
        return True


@dataclass
class SlidingLog:
    """At most ``max_requests`` arrivals in any window ``(t - period, t]``.

    ``count_rejected``: rejected arrivals are logged too, so a client that keeps knocking
    stays locked out (the strictest reading, the emulators' own).
    """

    max_requests: int
    period: float
    count_rejected: bool = False
    _log: deque[float] = field(default_factory=deque, init=False, repr=False)

    def _expire(self, now: float) -> None:
        while self._log and _left(self._log[0], now, self.period):
            self._log.popleft()

    def admit(self, now: float) -> bool:
        self._expire(now)
        admitted = len(self._log) < self.max_requests
        if admitted or self.count_rejected:
            self._log.append(now)
        return admitted

    def retry_after(self, now: float) -> float:
        """Seconds from ``now`` until an arrival would be admitted."""
        self._expire(now)
        if len(self._log) < self.max_requests:
            return 0.0
        # The max_requests-th latest entry has to leave the window.
        return self._log[-self.max_requests] + self.period - now


@dataclass
class SlidingCounter:
    """The previous fixed window's count, weighted by the share of it the sliding window
    still covers, plus the current window's count: an arrival is served while that
    estimate, counting the arrival itself, stays at most ``max_requests`` (the cheap
    approximation of a sliding window many gateways use)."""

    max_requests: int
    period: float
    origin: float = 0.0
    _window: int | None = field(default=None, init=False, repr=False)
    _current: int = field(default=0, init=False, repr=False)
    _previous: int = field(default=0, init=False, repr=False)

    def admit(self, now: float) -> bool:
        position = (now - self.origin) / self.period + _EPSILON
        window = math.floor(position)
        if window != self._window:
            follows = self._window is not None and window == self._window + 1
            self._previous = self._current if follows else 0
            self._window, self._current = window, 0
        covered = 1 - (position - window)
        estimate = self._previous * covered + self._current + 1
        if estimate > self.max_requests + _EPSILON:
            return False
        self._current += 1
        return True


@dataclass
class TokenBucket:
    """A bucket of ``capacity`` tokens, full at the start and refilled at
    ``max_requests / period`` per second; an arrival takes a token or is rejected."""

    max_requests: int
    period: float
    capacity: float
    _tokens: float = field(init=False, repr=False)
    _last: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._tokens = self.capacity

    def admit(self, now: float) -> bool:
        if self._last is not None:
            refill = (now - self._last) * self.max_requests / self.period
            self._tokens = min(self.capacity, self._tokens + refill)
        self._last = now
        if self._tokens < 1 - _EPSILON:
            return False
        self._tokens -= 1
        return True


def rejections(reading: Reading, arrivals: Iterable[float]) -> int:
    """How many of ``arrivals`` (any order) ``reading`` rejects."""
    return sum(not reading.admit(now) for now in sorted(arrivals))


def max_in_window(times: Iterable[float], period: float) -> int:
    """The most events in any window ``(t - period, t]``."""
    ordered = sorted(times)
    most = start = 0
    for end, now in enumerate(ordered):
        while _left(ordered[start], now, period):
            start += 1
        most = max(most, end - start + 1)
    return most
