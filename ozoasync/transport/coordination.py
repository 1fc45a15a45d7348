"""Coordination: where the rate-limit schedule and the shared API token live.

Two small protocols: a :class:`ScheduleStore` (send slots, places in flight, push-backs)
and a :class:`TokenStore` (the storage under the token algorithm, which is written once, in
``ozoasync.cloudagent.token_store``). A :class:`Coordination` is what a user passes to a
client: a schedule store that also offers a token store as ``.tokens``.
``InProcessCoordination`` (the default) shares them between every client of one process
that uses the same instance; ``ozoasync.RedisCoordination`` shares them between processes
and hosts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from ..errors import DeadlineExceededError
from .ratelimit import InFlightLimiter, InProcessLimiter, RateLimit, SlotTooLate

S = TypeVar("S")


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


@dataclass(frozen=True, slots=True)
class Charge:
    """One token request counted against the budget: an id, and when (epoch seconds on the
    store's clock)."""

    id: str
    at: float


@dataclass(frozen=True, slots=True)
class BudgetMemory:
    """What one client remembers of an account's budget: the charges it made itself and the
    vendor refusal it saw. Every charge hands it to the store, which puts back whatever it
    lost (a restarted or flushed Redis), so the budget is rebuilt, never reset to zero."""

    charges: tuple[Charge, ...] = ()
    refused_until: float = 0.0


class ScheduleStore(Protocol):
    """Send slots per key, places in flight, and back-off: what the transport needs."""

    async def acquire(self, key: str, limit: RateLimit) -> float:
        """Wait until a request to ``key`` may be sent; returns the seconds waited. (The
        rate part of :meth:`slot` alone: no place in flight, no bound.)"""
        ...

    def slot(
        self, key: str, limit: RateLimit, *, max_wait: float | None = None
    ) -> AbstractAsyncContextManager[float]:
        """``async with store.slot(key, limit, max_wait=s) as waited:`` wait for a send slot
        of ``key`` (and, when ``limit.concurrency`` is set, first a place among the requests
        in flight, held until the block exits); ``waited`` is the seconds it took. When
        either cannot be had within ``max_wait`` seconds it raises DeadlineExceededError
        as soon as that is known, having consumed nothing and kept no place in any queue."""
        ...

    async def push_back(self, key: str, limit: RateLimit, delay: float) -> None:
        """Hold every sender of ``key`` for ``delay`` seconds (the server said slow down)."""
        ...


class TokenWriter(Protocol):
    """The single right to replace a key's token, from :meth:`TokenStore.generating`."""

    async def store(self, token: SharedToken) -> bool:
        """Share ``token``; False when the right was lost meanwhile (it was not stored)."""
        ...


class TokenStore(Protocol):
    """Storage primitives for one token per key; the algorithm over them (single flight,
    budget, refusal memory, recovery) lives in ``ozoasync.cloudagent.token_store``."""

    async def read(self, key: str) -> SharedToken | None:
        """The stored token, if any."""
        ...

    async def restore(
        self, key: str, token: SharedToken | None, budget: TokenBudget, memory: BudgetMemory
    ) -> SharedToken | None:
        """Give a store that may have lost them (restarted empty, flushed) what a client
        remembers: the charges and refusal in ``memory``, and ``token`` when the store holds
        none or an older one (each new token revokes the earlier ones); then the token the
        store holds, as :meth:`read`."""
        ...

    def generating(self, key: str) -> AbstractAsyncContextManager[TokenWriter]:
        """Wait for, then hold, the right to generate ``key``'s token: one holder at a time
        across everyone sharing the store (a holder that dies loses it after a short lease)."""
        ...

    async def charge(self, key: str, budget: TokenBudget, memory: BudgetMemory) -> Charge | float:
        """Count one token request against ``budget``, after putting back the charges and
        refusal in ``memory`` that the store lost: the recorded Charge, or the seconds until
        one would fit (also while a refusal is remembered)."""
        ...

    async def refuse(self, key: str, seconds: float) -> float:
        """Remember that the vendor refused a token for ``seconds``; returns until when
        (epoch seconds on the store's clock)."""
        ...


class Coordination(ScheduleStore, Protocol):
    """What a client is given to share: a schedule store, with the token store of the same
    place as ``tokens``."""

    @property
    def tokens(self) -> TokenStore:
        """Where CloudAgent accounts keep their shared token and budget."""
        ...

    async def aclose(self) -> None:
        """Release what the coordination holds (not a connection it was given)."""
        ...


#: The methods of a :class:`ScheduleStore`, checked when a client is given one.
SCHEDULE_STORE_METHODS = ("acquire", "slot", "push_back")


def deadline_error(key: str, max_wait: float | None) -> DeadlineExceededError:
    """The error of a caller that could not get a slot of ``key`` within ``max_wait``."""
    endpoint = key.rsplit("|", 1)[-1]
    return DeadlineExceededError(
        f"no rate-limit slot for {endpoint} within the deadline ({max_wait or 0:.3g} s); "
        f"nothing was sent",
        endpoint=endpoint,
        http_status=0,
    )


class PerLoop(Generic[S]):
    """One state per running event loop: asyncio locks and futures belong to one loop."""

    def __init__(self, make: type[S]) -> None:
        self._make = make
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, S] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> S:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = self._make()
        return state


@dataclass(slots=True)
class _ScheduleState:
    limiter: InProcessLimiter = field(default_factory=InProcessLimiter)
    in_flight: InFlightLimiter = field(default_factory=InFlightLimiter)


@dataclass(slots=True)
class _TokenState:
    tokens: dict[str, SharedToken] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    charges: dict[str, dict[str, float]] = field(default_factory=dict)
    refused_until: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _DictWriter:
    tokens: dict[str, SharedToken]
    key: str

    async def store(self, token: SharedToken) -> bool:
        self.tokens[self.key] = token
        return True


class InProcessTokenStore:
    """The token store of one process (per event loop)."""

    def __init__(self) -> None:
        self._loops = PerLoop(_TokenState)

    async def read(self, key: str) -> SharedToken | None:
        return self._loops.get().tokens.get(key)

    async def restore(
        self, key: str, token: SharedToken | None, budget: TokenBudget, memory: BudgetMemory
    ) -> SharedToken | None:
        state = self._loops.get()
        self._restore(state, key, memory)
        current = state.tokens.get(key)
        if token is not None and (current is None or current.expires_at < token.expires_at):
            state.tokens[key] = current = token
        return current

    @staticmethod
    def _restore(state: _TokenState, key: str, memory: BudgetMemory) -> None:
        state.refused_until[key] = max(state.refused_until.get(key, 0.0), memory.refused_until)
        charges = state.charges.setdefault(key, {})
        for remembered in memory.charges:
            charges.setdefault(remembered.id, remembered.at)

    @asynccontextmanager
    async def generating(self, key: str) -> AsyncIterator[TokenWriter]:
        state = self._loops.get()
        async with state.locks.setdefault(key, asyncio.Lock()):
            yield _DictWriter(state.tokens, key)

    async def charge(self, key: str, budget: TokenBudget, memory: BudgetMemory) -> Charge | float:
        state = self._loops.get()
        now = time.time()
        self._restore(state, key, memory)
        if state.refused_until[key] > now:
            return state.refused_until[key] - now
        charges = state.charges[key]
        for charge_id in [i for i, at in charges.items() if at <= now - budget.period]:
            del charges[charge_id]
        recent = sorted(charges.values())
        if len(recent) >= budget.max_generations:
            # The request that must age out before another fits the budget.
            return max(recent[-budget.max_generations] + budget.period - now, 1e-6)
        charge = Charge(uuid.uuid4().hex, now)
        charges[charge.id] = charge.at
        return charge

    async def refuse(self, key: str, seconds: float) -> float:
        state = self._loops.get()
        until = max(state.refused_until.get(key, 0.0), time.time() + seconds)
        state.refused_until[key] = until
        return until


class InProcessCoordination:
    """Coordination within one process: the default, shared by every client that is not
    given another, so two clients of one account do not double its rate. (asyncio locks
    belong to one event loop, so each running loop has its own state.)"""

    def __init__(self) -> None:
        self._loops = PerLoop(_ScheduleState)
        self._tokens = InProcessTokenStore()

    @property
    def tokens(self) -> TokenStore:
        return self._tokens

    async def acquire(self, key: str, limit: RateLimit) -> float:
        return await self._loops.get().limiter.acquire(key, limit)

    @asynccontextmanager
    async def slot(
        self, key: str, limit: RateLimit, *, max_wait: float | None = None
    ) -> AsyncIterator[float]:
        state = self._loops.get()
        started = state.limiter.clock()
        deadline = None if max_wait is None else started + max_wait
        entered = False
        try:
            try:
                # Waiting in a queue has no known end: the bound cancels it, which gives the
                # place back. A slot known to lie beyond the deadline is refused at once.
                async with asyncio.timeout(max_wait):
                    if limit.concurrency is not None:
                        await state.in_flight.enter(key, limit.concurrency)
                        entered = True
                    await state.limiter.acquire(key, limit, deadline)
            except (TimeoutError, SlotTooLate):
                raise deadline_error(key, max_wait) from None
            yield state.limiter.clock() - started
        finally:
            if entered:
                state.in_flight.leave(key)

    async def push_back(self, key: str, limit: RateLimit, delay: float) -> None:
        await self._loops.get().limiter.push_back(key, limit, delay)

    async def aclose(self) -> None:
        return None


PROCESS_COORDINATION = InProcessCoordination()
"""The default coordination of every client in this process."""
