"""RedisCoordination: the rate-limit schedule and the API token shared by every process and
host that uses one Redis.

The schedule is the in-process rule (:class:`ozoasync.transport.ratelimit.Schedule`): a send
waits for the *plan* (``planned[-capacity] + window`` over the slots handed out), the
*guards* (at most ``max_requests`` actual sends in any ``guard_window``; evenly spaced, no
two actual sends closer than ``min_gap``) and any push-back.
Here the logs live in Redis and every step is one Lua script that reads the Redis server's
clock (``TIME``), so processes' clocks never matter and no two processes take one slot:

- ``reserve`` hands out the next slot of the key's queue and answers how long to sleep
  until it (first come, first served across processes, one round trip, no polling);
- ``confirm``, right before sending, checks the guards against the *actual* send times (a
  waiter that woke late and the punctual ones after it must not crowd a window) and logs
  the send, or answers how much longer to wait;
- ``push_back`` (after a 429) sets a "not before" time and moves every queued reservation
  back by the same amount, so waiting senders keep their order and spacing.

Per schedule key the store holds four Redis keys, all expiring on their own: ``queue``
(reservations still waiting, by slot), ``planned`` and ``sent`` (the slot and the actual
time of each send) and ``state`` (the push-back and how far back the logs must reach).
Times are integer microseconds of the Redis clock.

The token of an account is a Redis hash (value, refresh_at, expires_at) expiring with the
token; a lock (``SET NX PX``, renewed while held, released by compare-and-delete) makes
generation single-flight across processes; a sorted set of generation times keeps the
vendor's budget (10 per hour). ``redis`` is an optional dependency, imported on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import CoordinationError, TokenBudgetExhaustedError
from .coordination import (
    SharedToken,
    TokenBudget,
    TokenGenerator,
    bounded_slot,
    budget_error,
    refresh_time,
    refusal_period,
    token_usable,
)
from .ratelimit import RateLimit

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

T = TypeVar("T")

log = logging.getLogger("ozoasync")

#: How long the token-generation lock lives without renewal: a process that dies while
#: generating blocks its siblings for at most this long.
LOCK_TTL = 10.0
#: How often a process waiting for another's token generation looks again.
TOKEN_POLL_INTERVAL = 0.05

_COMMON_LUA = """
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
-- Lua's default number formatting keeps 14 digits; microsecond times need 16.
local function int(x) return string.format('%.0f', x) end
-- Keep a log until its latest entry is older than the horizon.
local function expire_log(key, now, horizon)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIRE', key, int(math.ceil((tonumber(last[2]) - now + horizon) / 1000) + 1000))
  end
end
-- The depth-th latest time across the given logs, or nil when they hold fewer.
local function nth_latest(keys, depth)
  local times = {}
  for _, key in ipairs(keys) do
    local entries = redis.call('ZRANGE', key, -depth, -1, 'WITHSCORES')
    for i = 2, #entries, 2 do times[#times + 1] = tonumber(entries[i]) end
  end
  if #times < depth then return nil end
  table.sort(times, function(a, b) return a > b end)
  return times[depth]
end
local function after(keys, depth, window)
  local latest = nth_latest(keys, depth)
  return latest and latest + window or 0
end
"""

# The schedule scripts share KEYS (queue, planned, sent, state) and ARGV (id, capacity,
# window, max_requests, guard window, min gap; times in us), and open by reading the clock, the
# push-back and the horizon, and dropping what is older than the horizon.
_SCHEDULE_LUA = (
    _COMMON_LUA
    + """
local queue, planned, sent, state = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, capacity, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local max_requests, guard_window = tonumber(ARGV[4]), tonumber(ARGV[5])
local min_gap = tonumber(ARGV[6])
local now = now_us()
local not_before = tonumber(redis.call('HGET', state, 'not_before') or '0')
-- How far back any client of the key looks: clients configured with different limits
-- share one schedule, and each send obeys its own limit against every send of the key.
local horizon = math.max(tonumber(redis.call('HGET', state, 'horizon') or '0'), guard_window)
redis.call('HSET', state, 'horizon', int(horizon))
local function keep_state(until_)
  local ms = math.ceil((math.max(until_ - now, 0) + horizon) / 1000) + 1000
  redis.call('PEXPIRE', state, int(ms))
end
keep_state(not_before)
for _, key in ipairs({queue, planned, sent}) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now - horizon))
end
local function keep(key) expire_log(key, now, horizon) end
-- The guards: no more than max_requests actual sends in any guard window, and (even
-- spacing) no two actual sends closer than the vendor's interval.
local function guarded(at)
  return math.max(at, not_before, after({sent}, max_requests, guard_window),
                  after({sent}, 1, min_gap))
end
local function record_send(slot)
  redis.call('ZREM', queue, id)
  redis.call('ZADD', planned, int(slot), id)
  redis.call('ZADD', sent, int(now), id)
  keep(planned)
  keep(sent)
end
"""
)

# Reserve: the slot the plan gives (``planned[-capacity] + window`` over every slot handed
# out, waiting ones included), within the guard. Returns the microseconds until the slot;
# 0 means "send now" (already logged).
_RESERVE_LUA = (
    _SCHEDULE_LUA
    + """
local slot = guarded(math.max(now, after({queue, planned}, capacity, window)))
if slot <= now then
  record_send(now)
  return 0
end
redis.call('ZADD', queue, int(slot), id)
keep(queue)
return slot - now
"""
)

# Confirm, right before sending: 0 and the send is logged, or the microseconds still to wait
# (a push-back moved the slot, or the guard holds it), the slot moved to match.
_CONFIRM_LUA = (
    _SCHEDULE_LUA
    + """
local slot = tonumber(redis.call('ZSCORE', queue, id) or now)
slot = guarded(slot)
if slot > now then
  redis.call('ZADD', queue, int(slot), id)
  keep(queue)
  return slot - now
end
-- The plan keeps the slot, not the (later) wake-up time: lateness is not passed on.
record_send(slot)
return 0
"""
)

# Push back: nothing before now + delay (ARGV[7], us); the whole queue moves back by one
# amount, so waiting senders keep their order and spacing.
_PUSH_BACK_LUA = (
    _SCHEDULE_LUA
    + """
local until_ = math.max(not_before, now + tonumber(ARGV[7]))
redis.call('HSET', state, 'not_before', int(until_))
keep_state(until_)
local first = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
if first[2] and tonumber(first[2]) < until_ then
  local shift = until_ - tonumber(first[2])
  local entries = redis.call('ZRANGE', queue, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    redis.call('ZADD', queue, int(tonumber(entries[i + 1]) + shift), entries[i])
  end
  keep(queue)
end
return 0
"""
)

# KEYS: generations, refused. ARGV: max generations, period (us), id. Counts one token
# request against the budget: 0 when it fits (and is recorded), else microseconds until one
# would (also while a refusal of the server is remembered).
_CHARGE_GENERATION_LUA = (
    _COMMON_LUA
    + """
local refused = redis.call('PTTL', KEYS[2])
if refused > 0 then return refused * 1000 end
local now = now_us()
local allowed, period = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now - period))
local count = redis.call('ZCARD', KEYS[1])
if count < allowed then
  redis.call('ZADD', KEYS[1], int(now), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], int(math.ceil(period / 1000)))
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], count - allowed, count - allowed, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + period - now, 1)
"""
)

# KEYS: token, lock. ARGV: value, refresh_at, expires_at (epoch s), lock owner. Stores the
# token only while the caller still holds the lock: 1 when stored, 0 when the lock was lost
# (another process may be generating; it will store its own).
_STORE_TOKEN_LUA = (
    _COMMON_LUA
    + """
if redis.call('GET', KEYS[2]) ~= ARGV[4] then return 0 end
local now = now_us()
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'refresh_at', ARGV[2], 'expires_at', ARGV[3])
local token_ms = math.ceil(tonumber(ARGV[3]) * 1000 - now / 1000)
redis.call('PEXPIRE', KEYS[1], int(math.max(token_ms, 1000)))
return 1
"""
)

# KEYS: lock. ARGV: owner, ttl (ms). Only the owner may extend or release the lock.
_RENEW_LOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE_LOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _microseconds(seconds: float) -> int:
    # Rounded up: a window a microsecond short could let two sends share it.
    return math.ceil(seconds * 1_000_000)


def _text(value: bytes | str) -> str:
    # The caller's client may or may not have decode_responses=True.
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class ScheduleKeys:
    """The Redis keys of one schedule (hash-tagged: one cluster slot per schedule)."""

    queue: str
    planned: str
    sent: str
    state: str

    def all(self) -> list[str]:
        return [self.queue, self.planned, self.sent, self.state]


@dataclass(frozen=True, slots=True)
class TokenKeys:
    """The Redis keys of one account's token."""

    token: str
    lock: str
    generations: str
    refused: str


def schedule_keys(prefix: str, key: str) -> ScheduleKeys:
    base = f"{prefix}:rate:{{{key}}}"
    return ScheduleKeys(f"{base}:queue", f"{base}:planned", f"{base}:sent", f"{base}:state")


def token_keys(prefix: str, key: str) -> TokenKeys:
    base = f"{prefix}:token:{{{key}}}"
    return TokenKeys(base, f"{base}:lock", f"{base}:generations", f"{base}:refused")


@dataclass(frozen=True, slots=True)
class Reservation:
    """One place in a shared schedule, from :meth:`RedisCoordination.reserve`."""

    keys: ScheduleKeys
    id: str
    limit: RateLimit

    def script_args(self) -> list[str | int]:
        return schedule_args(self.id, self.limit)


def schedule_args(reservation_id: str, limit: RateLimit) -> list[str | int]:
    """What every schedule script is told: the reservation and the limit, in microseconds."""
    return [
        reservation_id,
        limit.capacity,
        _microseconds(limit.window),
        limit.max_requests,
        _microseconds(limit.guard_window),
        _microseconds(limit.min_gap),
    ]


class RedisCoordination:
    """Shares rate limits and the CloudAgent token between every process and host that uses
    the same Redis and ``prefix``. Pass it as ``coordination=`` to each client.

    ``redis`` is a ``redis.asyncio.Redis`` you own: it is used, never closed. When Redis
    cannot be reached or errors, calls raise :class:`~ozoasync.CoordinationError`; there is
    no silent fallback to a per-process limit, which would multiply the account's rate by
    the number of processes.
    """

    def __init__(self, redis: Redis, *, prefix: str = "ozoasync") -> None:
        try:
            import redis.exceptions as redis_exceptions
        except ImportError as error:
            raise ImportError(
                "RedisCoordination needs the redis package: pip install 'ozoasync[redis]'"
            ) from error
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("RedisCoordination prefix must be a non-empty string")
        self._redis = redis
        self.prefix = prefix
        self._errors: tuple[type[BaseException], ...] = (redis_exceptions.RedisError, OSError)
        self._reserve = redis.register_script(_RESERVE_LUA)
        self._confirm = redis.register_script(_CONFIRM_LUA)
        self._push_back = redis.register_script(_PUSH_BACK_LUA)
        self._charge_generation = redis.register_script(_CHARGE_GENERATION_LUA)
        self._store_token = redis.register_script(_STORE_TOKEN_LUA)
        self._renew_lock = redis.register_script(_RENEW_LOCK_LUA)
        self._release_lock = redis.register_script(_RELEASE_LOCK_LUA)
        # Clean-ups that must finish even when their caller is cancelled.
        self._cleanups: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"RedisCoordination(prefix={self.prefix!r})"

    async def _call(self, doing: str, request: Awaitable[T]) -> T:
        try:
            return await request
        except self._errors as error:
            raise CoordinationError(
                f"Redis coordination failed while {doing} ({type(error).__name__}: {error}); "
                f"there is no fallback to a per-process limit or token, which would multiply "
                f"the account's rate and token generations by the number of processes"
            ) from error

    async def _script(
        self, doing: str, script: AsyncScript, keys: list[str], args: list[Any]
    ) -> Any:
        return await self._call(doing, script(keys=keys, args=args))

    # --- rate limits ----------------------------------------------------------------------

    async def acquire(self, key: str, limit: RateLimit) -> float:
        """Reserve a slot, sleep until it, confirm it against the actual sends (again after
        any extra wait the confirmation asks for); returns the seconds waited."""
        started = time.monotonic()
        reservation, wait = await self.reserve(key, limit)
        async with self._given_back_on_cancel(reservation):
            while wait > 0:
                await asyncio.sleep(wait)
                wait = await self.confirm(reservation)
        return time.monotonic() - started

    def slot(
        self, key: str, limit: RateLimit, *, max_wait: float | None = None
    ) -> contextlib.AbstractAsyncContextManager[float]:
        return bounded_slot(self.acquire, key, limit, max_wait)

    async def reserve(self, key: str, limit: RateLimit) -> tuple[Reservation, float]:
        """The first step of :meth:`acquire`: a place in ``key``'s shared queue and the
        seconds until its slot (0: the send is already logged, go now). Sleep that long,
        then :meth:`confirm`; :meth:`cancel` a place that will not be used."""
        reservation = Reservation(schedule_keys(self.prefix, key), uuid.uuid4().hex, limit)
        async with self._given_back_on_cancel(reservation):
            wait = await self._script(
                "reserving a send slot",
                self._reserve,
                reservation.keys.all(),
                reservation.script_args(),
            )
        return reservation, int(wait) / 1_000_000

    async def confirm(self, reservation: Reservation) -> float:
        """The last step of :meth:`acquire`, right before sending: 0 when the send may go
        now (it is logged), else the seconds still to wait (then confirm again)."""
        wait = await self._script(
            "confirming a send slot",
            self._confirm,
            reservation.keys.all(),
            reservation.script_args(),
        )
        return int(wait) / 1_000_000

    async def cancel(self, reservation: Reservation) -> None:
        """Give a place back (a waiter that will not send)."""
        keys = reservation.keys
        async with self._redis.pipeline(transaction=True) as pipe:
            for log in (keys.queue, keys.planned, keys.sent):
                pipe.zrem(log, reservation.id)
            await self._call("giving back a send slot", pipe.execute())

    async def push_back(self, key: str, limit: RateLimit, delay: float) -> None:
        """No send of ``key`` before ``delay`` seconds from now, in every process; the
        waiting queue moves back with it."""
        await self._script(
            "pushing back the schedule",
            self._push_back,
            schedule_keys(self.prefix, key).all(),
            [*schedule_args("", limit), _microseconds(delay)],
        )

    @contextlib.asynccontextmanager
    async def _given_back_on_cancel(self, reservation: Reservation) -> AsyncIterator[None]:
        # A cancelled waiter must not keep its place: it would hold a slot nobody uses.
        try:
            yield
        except asyncio.CancelledError:
            await self._detached("give back a send slot", self.cancel(reservation))
            raise

    async def _detached(self, doing: str, cleanup: Coroutine[Any, Any, None]) -> None:
        """Run ``cleanup`` to the end even if the caller is cancelled again; a failure is
        only logged (every key expires on its own)."""

        async def quietly() -> None:
            try:
                await cleanup
            except CoordinationError as error:
                log.warning("could not %s in Redis: %s", doing, error)

        task = asyncio.ensure_future(quietly())
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        await asyncio.shield(task)

    # --- the shared token -----------------------------------------------------------------

    async def token(
        self, key: str, stale: str | None, generate: TokenGenerator, budget: TokenBudget
    ) -> SharedToken:
        """The account's token from Redis; one process generates it (holding a lock) while
        the others wait for it to appear."""
        keys = token_keys(self.prefix, key)
        owner = uuid.uuid4().hex
        while True:
            current = await self._read_token(keys)
            if token_usable(current, stale):
                assert current is not None
                return current
            locked = await self._call(
                "taking the token lock",
                self._redis.set(keys.lock, owner, nx=True, px=round(LOCK_TTL * 1000)),
            )
            if locked:
                async with self._holding_lock(keys.lock, owner):
                    return await self._generate_locked(keys, owner, stale, generate, budget)
            # Another process is generating: its token will be stored shortly.
            await asyncio.sleep(TOKEN_POLL_INTERVAL)

    async def _read_token(self, keys: TokenKeys) -> SharedToken | None:
        value, refresh_at, expires_at = await self._call(
            "reading the shared token",
            self._redis.hmget(keys.token, ["value", "refresh_at", "expires_at"]),
        )
        if value is None or refresh_at is None or expires_at is None:
            return None
        return SharedToken(_text(value), float(_text(refresh_at)), float(_text(expires_at)))

    async def _generate_locked(
        self,
        keys: TokenKeys,
        owner: str,
        stale: str | None,
        generate: TokenGenerator,
        budget: TokenBudget,
    ) -> SharedToken:
        # Whoever held the lock before may have stored a new token already.
        current = await self._read_token(keys)
        if token_usable(current, stale):
            assert current is not None
            return current

        async def charge() -> None:
            retry_after = await self._script(
                "charging the token budget",
                self._charge_generation,
                [keys.generations, keys.refused],
                [budget.max_generations, _microseconds(budget.period), uuid.uuid4().hex],
            )
            if int(retry_after) > 0:
                raise budget_error(retry_after=int(retry_after) / 1_000_000)

        try:
            value, expires_at = await generate(charge)
        except TokenBudgetExhaustedError as error:
            # Every process asking next fails fast instead of asking the server again.
            period_ms = max(1, round(refusal_period(error, budget) * 1000))
            await self._call(
                "remembering the refusal", self._redis.set(keys.refused, "1", px=period_ms)
            )
            raise
        token = SharedToken(value, refresh_time(time.time(), expires_at), expires_at)
        stored = await self._script(
            "storing the new token",
            self._store_token,
            [keys.token, keys.lock],
            [value, repr(token.refresh_at), repr(expires_at), owner],
        )
        if not stored:
            log.info("token lock lost while generating; the new token was not shared")
        return token

    @contextlib.asynccontextmanager
    async def _holding_lock(self, lock: str, owner: str) -> AsyncIterator[None]:
        """Keep ``lock`` alive while the body runs (a generation may take several retries),
        then release it if it is still ours."""
        ttl_ms = round(LOCK_TTL * 1000)

        async def renew() -> None:
            while True:
                await asyncio.sleep(LOCK_TTL / 3)
                try:
                    if not await self._renew_lock(keys=[lock], args=[owner, ttl_ms]):
                        return  # no longer ours: the store will not share our token
                except self._errors:
                    continue  # a passing fault: the lock still has two thirds of its life

        renewal = asyncio.ensure_future(renew())
        try:
            yield
        finally:
            renewal.cancel()
            await self._detached(
                "release the token lock",
                self._call(
                    "releasing the token lock", self._release_lock(keys=[lock], args=[owner])
                ),
            )

    async def aclose(self) -> None:
        """Wait for pending clean-ups; the Redis client is yours to close."""
        if self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)
