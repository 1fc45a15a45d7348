"""Coordination: where the rate-limit schedule and the shared API token live.

``InProcessCoordination`` (the default) shares them between every client of one process
that uses the same instance; ``ozoasync.RedisCoordination`` shares them between processes
and hosts. Both implement :class:`Coordination`.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import DeadlineExceededError, TokenBudgetExhaustedError
from .ratelimit import InProcessLimiter, RateLimit


@dataclass(frozen=True, slots=True)
class SharedToken:
    """A token and the wall-clock times (epoch seconds) it should be refreshed and expires."""

    value: str
    refresh_at: float
    expires_at: float

    def __repr__(self) -> str:
        return f"SharedToken(value=<redacted>, expires_at={self.expires_at})"

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at


@dataclass(frozen=True, slots=True)
class TokenBudget:
    """At most ``max_generations`` tokens per ``period`` seconds per account (the vendor's
    limit: 10 per hour, each new token invalidating the earlier ones)."""

    max_generations: int = 10
    period: float = 3600.0


def refresh_time(received: float, expires_at: float) -> float:
    """Refresh after 11/12 of the token's remaining life: 55 minutes for the vendor's
    60-minute token, early enough that no request carries an expired one."""
    return received + (expires_at - received) * 11 / 12


BudgetCharge = Callable[[], Awaitable[None]]
"""Counts one token request against the generation budget, or raises
TokenBudgetExhaustedError. Called before *every* request that may make the vendor issue a
token (retries included): each one spends the vendor's budget, answered or not."""

TokenGenerator = Callable[[BudgetCharge], Awaitable[tuple[str, float]]]
"""Generates a token, charging the budget before each request it sends: returns the token's
value and its expiry (epoch seconds)."""


class Coordination(Protocol):
    """What a client needs shared: send slots per key, back-off, and one token per account."""

    async def acquire(self, key: str, limit: RateLimit) -> float:
        """Wait until a request to ``key`` may be sent; returns the seconds waited."""
        ...

    def slot(
        self, key: str, limit: RateLimit, *, max_wait: float | None = None
    ) -> AbstractAsyncContextManager[float]:
        """``async with coordination.slot(key, limit, max_wait=s) as waited:`` wait for a send
        slot of ``key`` (and, when ``limit.concurrency`` is set, a place among the requests in
        flight, held until the block exits); ``waited`` is the seconds it took. When neither
        can be had within ``max_wait`` seconds it raises DeadlineExceededError, having
        consumed nothing and kept no place in the queue."""
        ...

    async def push_back(self, key: str, limit: RateLimit, delay: float) -> None:
        """Hold every sender of ``key`` for ``delay`` seconds (the server said slow down)."""
        ...

    async def token(
        self, key: str, stale: str | None, generate: TokenGenerator, budget: TokenBudget
    ) -> SharedToken:
        """The shared token of ``key``; generated once (single-flight) when there is none, it
        is due for refresh, or it equals ``stale`` (the server rejected it). ``generate`` is
        handed the charge that keeps every request it sends within ``budget``."""
        ...

    async def aclose(self) -> None:
        """Release what the coordination holds (not a connection it was given)."""
        ...


#: The methods of :class:`Coordination`, checked when a client is given one.
COORDINATION_METHODS = ("acquire", "slot", "push_back", "token", "aclose")


@dataclass(slots=True)
class _LoopState:
    limiter: InProcessLimiter = field(default_factory=InProcessLimiter)
    tokens: dict[str, SharedToken] = field(default_factory=dict)
    token_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    generations: dict[str, list[float]] = field(default_factory=dict)
    refused_until: dict[str, float] = field(default_factory=dict)


class InProcessCoordination:
    """Coordination within one process: the default, shared by every client that is not
    given another, so two clients of one account do not double its rate. (asyncio locks
    belong to one event loop, so each running loop has its own state.)"""

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState()
        return state

    async def acquire(self, key: str, limit: RateLimit) -> float:
        return await self._state().limiter.acquire(key, limit)

    def slot(
        self, key: str, limit: RateLimit, *, max_wait: float | None = None
    ) -> AbstractAsyncContextManager[float]:
        return bounded_slot(self.acquire, key, limit, max_wait)

    async def push_back(self, key: str, limit: RateLimit, delay: float) -> None:
        await self._state().limiter.push_back(key, limit, delay)

    async def token(
        self, key: str, stale: str | None, generate: TokenGenerator, budget: TokenBudget
    ) -> SharedToken:
        state = self._state()
        current = state.tokens.get(key)
        if token_usable(current, stale):
            assert current is not None
            return current
        async with state.token_locks.setdefault(key, asyncio.Lock()):
            # Whoever held the lock before us may have refreshed it already.
            current = state.tokens.get(key)
            if token_usable(current, stale):
                assert current is not None
                return current

            async def charge() -> None:
                now = time.time()
                if state.refused_until.get(key, 0.0) > now:
                    raise budget_error(retry_after=state.refused_until[key] - now)
                recent = [t for t in state.generations.get(key, []) if t > now - budget.period]
                if len(recent) >= budget.max_generations:
                    # The request that must age out before another fits the budget.
                    oldest = recent[-budget.max_generations]
                    raise budget_error(retry_after=oldest + budget.period - now)
                state.generations[key] = [*recent, now]

            try:
                value, expires_at = await generate(charge)
            except TokenBudgetExhaustedError as error:
                # Every caller queued behind this one fails fast instead of asking again.
                state.refused_until[key] = time.time() + refusal_period(error, budget)
                raise
            token = SharedToken(value, refresh_time(time.time(), expires_at), expires_at)
            state.tokens[key] = token
            return token

    async def aclose(self) -> None:
        return None


@asynccontextmanager
async def bounded_slot(
    acquire: Callable[[str, RateLimit], Awaitable[float]],
    key: str,
    limit: RateLimit,
    max_wait: float | None,
) -> AsyncIterator[float]:
    """A slot from ``acquire`` within ``max_wait`` seconds: a waiter cancelled by the bound
    gives its place back, as every cancelled waiter does."""
    try:
        async with asyncio.timeout(max_wait):
            waited = await acquire(key, limit)
    except TimeoutError:
        raise DeadlineExceededError(
            f"no rate-limit slot for {key.rsplit('|', 1)[-1]} within the deadline "
            f"({max_wait:.3g} s); nothing was sent",
            endpoint=key.rsplit("|", 1)[-1],
            http_status=0,
        ) from None
    yield waited


PROCESS_COORDINATION = InProcessCoordination()
"""The default coordination of every client in this process."""


def token_usable(token: SharedToken | None, stale: str | None) -> bool:
    """The token exists, is not the one the server rejected, and is not due for refresh."""
    return token is not None and token.value != stale and token.fresh(time.time())


def refusal_period(error: TokenBudgetExhaustedError, budget: TokenBudget) -> float:
    """How long a spent budget stays spent: as long as the server said, or one whole budget
    period when it did not say (the vendor's own refusal comes without a Retry-After)."""
    return error.retry_after if error.retry_after is not None else budget.period


def budget_error(retry_after: float) -> TokenBudgetExhaustedError:
    """The error raised instead of a generation that would exceed the budget."""
    error = TokenBudgetExhaustedError(
        f"token generation budget exhausted; the next token may be generated in "
        f"{retry_after:.0f} s (generating one now would invalidate the token in use)",
        endpoint="generateToken",
        http_status=0,
    )
    error.retry_after = max(retry_after, 0.0)
    return error
