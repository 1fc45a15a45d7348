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

Per schedule key the store holds five Redis keys, all expiring on their own: ``queue``
(reservations still waiting, by slot), ``planned`` and ``sent`` (the slot and the actual
time of each send), ``state`` (the push-back and how far back the logs must reach) and
``epoch`` (which life of the key's state this is; it lasts a week); and ``in_flight`` (the
leases of the places of ``RateLimit.concurrency``). Times are integer microseconds of the
Redis clock.

A store that lost a key's state (restarted empty, flushed) has no epoch: the first script
to see that starts a new life as a fresh process would (a send is taken to have happened
just now, so the next one waits an interval), and each process, on its next call, gives
back the sends it remembers (:class:`KeyMemory`). A waiting reservation of the old life is
made afresh. The guard against the vendor's interval therefore holds across the loss.

The token store (:class:`RedisTokenStore`, the coordination's ``tokens``): a Redis hash per
account (value, refresh_at, expires_at) expiring with the token; a lock (``SET NX PX``,
renewed while held, released by compare-and-delete) makes generation single-flight across
processes; a sorted set of charges keeps the vendor's budget (10 per hour), into which every
client puts back its own should the store lose them. ``redis`` is an optional dependency,
imported on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import CoordinationError, DeadlineExceededError
from .coordination import (
    BudgetMemory,
    Charge,
    SharedToken,
    TokenBudget,
    TokenWriter,
    deadline_error,
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
#: How often a waiter for a place in flight looks again (places are given back unannounced).
IN_FLIGHT_POLL_INTERVAL = 0.02
#: How often a held place in flight is renewed (at most; a third of the lease if shorter).
#: A store that lost its places keeps their room for two renewals, until every live holder
#: has put itself back: no two requests in flight, even then.
IN_FLIGHT_RENEWAL = 0.5

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

# The schedule scripts share KEYS (queue, planned, sent, state, epoch) and ARGV (id, capacity,
# window, max_requests, guard window, min gap, an extra value, then the recovery arguments:
# the epoch the caller knows, a new epoch should the store have none, whether the caller's
# memory follows, and that memory: its push-back, then (id, slot, sent) of its latest sends;
# times in us). They open by reading the clock, detecting a store that lost the key's state,
# reading the push-back and the horizon, and dropping what is older than the horizon.
_SCHEDULE_LUA = (
    _COMMON_LUA
    + """
local queue, planned, sent, state, epoch_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, capacity, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local max_requests, guard_window = tonumber(ARGV[4]), tonumber(ARGV[5])
local min_gap, extra = tonumber(ARGV[6]), tonumber(ARGV[7])
local known, memory_given = ARGV[8], ARGV[10] == '1'
local now = now_us()
-- The epoch names one life of the key's state. None: the store lost it (restarted empty,
-- flushed, or idle for a week): restart as a fresh process would, as if a send had just
-- happened (no one knows when the last one was), so the first send waits one interval.
local epoch = redis.call('GET', epoch_key)
if not epoch then
  epoch = ARGV[9]
  redis.call('ZADD', planned, int(now), 'restart:' .. epoch)
end
redis.call('SET', epoch_key, epoch, 'PX', 604800000)
if known ~= '' and known ~= epoch then
  -- The caller remembers sends of a life the store has forgotten: have them first.
  if not memory_given then return {-1, epoch} end
  for i = 12, #ARGV, 3 do
    redis.call('ZADD', planned, 'NX', ARGV[i + 1], ARGV[i])
    redis.call('ZADD', sent, 'NX', ARGV[i + 2], ARGV[i])
  end
  local remembered = tonumber(ARGV[11])
  if remembered > tonumber(redis.call('HGET', state, 'not_before') or '0') then
    redis.call('HSET', state, 'not_before', int(remembered))
  end
end
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
-- Answers: {microseconds to wait (0: sent, logged), epoch, slot, send time}.
local function record_send(slot)
  redis.call('ZREM', queue, id)
  redis.call('ZADD', planned, int(slot), id)
  redis.call('ZADD', sent, int(now), id)
  keep(planned)
  keep(sent)
  return {0, epoch, int(slot), int(now)}
end
-- The slot the plan gives (planned[-capacity] + window over every slot handed out,
-- waiting ones included), within the guard.
local function reserve()
  local slot = guarded(math.max(now, after({queue, planned}, capacity, window)))
  if slot <= now then return record_send(now) end
  redis.call('ZADD', queue, int(slot), id)
  keep(queue)
  return {slot - now, epoch, int(slot), 0}
end
"""
)

_RESERVE_LUA = _SCHEDULE_LUA + "\nreturn reserve()\n"

# Confirm, right before sending: the send is logged, or the time still to wait (a push-back
# moved the slot, or the guard holds it), the slot moved to match. A reservation the store
# no longer holds (it lost its state) is made afresh, behind the waiters of the new life.
_CONFIRM_LUA = (
    _SCHEDULE_LUA
    + """
local planned_slot = redis.call('ZSCORE', queue, id)
if not planned_slot then return reserve() end
planned_slot = tonumber(planned_slot)
local slot = guarded(planned_slot)
if slot > now then
  -- Held back (a late send before it, a push-back): so is every reservation after it, by
  -- as much; moving them now spares each a confirmation that would only learn that.
  local shift = slot - planned_slot
  if shift > 0 then
    local later = redis.call('ZRANGEBYSCORE', queue, '(' .. int(planned_slot), '+inf', 'WITHSCORES')
    for i = 1, #later, 2 do
      redis.call('ZADD', queue, int(tonumber(later[i + 1]) + shift), later[i])
    end
  end
  redis.call('ZADD', queue, int(slot), id)
  keep(queue)
  return {slot - now, epoch, int(slot), 0}
end
-- The plan keeps the slot, not the (later) wake-up time: lateness is not passed on.
return record_send(slot)
"""
)

# Push back: nothing before now + delay (the extra value); the whole queue moves back by
# one amount, so waiting senders keep their order and spacing.
_PUSH_BACK_LUA = (
    _SCHEDULE_LUA
    + """
local until_ = math.max(not_before, now + extra)
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
return {0, epoch, int(until_), 0}
"""
)

# The in-flight scripts share KEYS (the set of holders -> lease expiry, a marker that the
# store knows the set) and ARGV (holder, places, lease, grace; us). With no marker the store
# never had the set, or lost it (restarted empty, flushed) while requests may be in flight:
# their room is kept for the grace, within which each live holder renews and takes it back.
_IN_FLIGHT_LUA = (
    _COMMON_LUA
    + """
local holders, places = KEYS[1], tonumber(ARGV[2])
local now = now_us()
if redis.call('EXISTS', KEYS[2]) == 0 then
  for i = 1, places do
    redis.call('ZADD', holders, int(now + tonumber(ARGV[4])), 'unknown:' .. i)
  end
end
redis.call('SET', KEYS[2], '1', 'PX', 604800000)
redis.call('ZREMRANGEBYSCORE', holders, '-inf', int(now))
local function hold()
  redis.call('ZADD', holders, int(now + tonumber(ARGV[3])), ARGV[1])
  expire_log(holders, now, 0)
end
"""
)

# Takes a place (0), or answers the microseconds until the first lease runs out.
_ENTER_LUA = (
    _IN_FLIGHT_LUA
    + """
if redis.call('ZCARD', holders) < places then
  hold()
  return 0
end
local first = redis.call('ZRANGE', holders, 0, 0, 'WITHSCORES')
return math.max(tonumber(first[2]) - now, 1)
"""
)

# Renews a held place, or puts it back into a store that lost it (in the room kept for it):
# 1, or 0 when the place is gone (its lease ran out and others took the room).
_RENEW_PLACE_LUA = (
    _IN_FLIGHT_LUA
    + """
if not redis.call('ZSCORE', holders, ARGV[1]) then
  local kept = false
  for i = 1, places do
    if redis.call('ZREM', holders, 'unknown:' .. i) == 1 then
      kept = true
      break
    end
  end
  if not kept and redis.call('ZCARD', holders) >= places then return 0 end
end
hold()
return 1
"""
)

# The budget scripts share KEYS (generations, refused, token) and open by putting back what
# the caller remembers and the store lost: ARGV[1] the budget period (us), ARGV[2] the
# refusal the caller saw (until, us), then from ARGV[first] (id, time) of its own charges.
_BUDGET_LUA = (
    _COMMON_LUA
    + """
local generations, refused_key = KEYS[1], KEYS[2]
local now = now_us()
local period = tonumber(ARGV[1])
local refused = tonumber(redis.call('GET', refused_key) or '0')
local remembered = tonumber(ARGV[2])
if remembered > refused and remembered > now then
  redis.call('SET', refused_key, int(remembered), 'PX', int(math.ceil((remembered - now) / 1000)))
  refused = remembered
end
local function restore_charges(first)
  if #ARGV < first then return end
  for i = first, #ARGV, 2 do
    redis.call('ZADD', generations, 'NX', ARGV[i + 1], ARGV[i])
  end
  redis.call('ZREMRANGEBYSCORE', generations, '-inf', int(now - period))
  local last = redis.call('ZRANGE', generations, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIRE', generations, int(math.ceil((tonumber(last[2]) + period - now) / 1000)))
  end
end
"""
)

# ARGV[3]: max generations, ARGV[4]: the new charge's id, charges from ARGV[5]. Counts one
# token request against the budget: {0, time} when it fits (and is recorded), else
# {microseconds until one would (also while a refusal lasts), 0}.
_CHARGE_GENERATION_LUA = (
    _BUDGET_LUA
    + """
if refused > now then return {int(refused - now), 0} end
restore_charges(5)
redis.call('ZREMRANGEBYSCORE', generations, '-inf', int(now - period))
local allowed = tonumber(ARGV[3])
local count = redis.call('ZCARD', generations)
if count < allowed then
  redis.call('ZADD', generations, int(now), ARGV[4])
  redis.call('PEXPIRE', generations, int(math.ceil(period / 1000)))
  return {0, int(now)}
end
local oldest = redis.call('ZRANGE', generations, count - allowed, count - allowed, 'WITHSCORES')
return {int(math.max(tonumber(oldest[2]) + period - now, 1)), 0}
"""
)

# ARGV[3..5]: a token's value, refresh_at and expires_at (epoch s; an empty value: none),
# charges from ARGV[6]. Gives a store that may have lost them the charges, the refusal and
# the token (kept when the store holds none, or an older one: a later token revokes earlier
# ones), then answers {1 if the token was put back, value, refresh_at, expires_at}.
_RESTORE_LUA = (
    _BUDGET_LUA
    + """
restore_charges(6)
local put = 0
if ARGV[3] ~= '' then
  local current = redis.call('HGET', KEYS[3], 'expires_at')
  if not current or tonumber(current) < tonumber(ARGV[5]) then
    redis.call('HSET', KEYS[3], 'value', ARGV[3], 'refresh_at', ARGV[4], 'expires_at', ARGV[5])
    local token_ms = math.ceil(tonumber(ARGV[5]) * 1000 - now / 1000)
    redis.call('PEXPIRE', KEYS[3], int(math.max(token_ms, 1000)))
    put = 1
  end
end
local token = redis.call('HMGET', KEYS[3], 'value', 'refresh_at', 'expires_at')
return {put, token[1], token[2], token[3]}
"""
)

# KEYS: refused. ARGV: seconds (us). Remembers a refusal of the vendor: until when (us).
_REFUSE_LUA = (
    _COMMON_LUA
    + """
local now = now_us()
local until_ = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], int(until_), 'PX', int(math.ceil((until_ - now) / 1000)))
return int(until_)
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
    epoch: str
    in_flight: str
    in_flight_known: str

    def all(self) -> list[str]:
        """The keys every schedule script is given."""
        return [self.queue, self.planned, self.sent, self.state, self.epoch]


@dataclass(frozen=True, slots=True)
class TokenKeys:
    """The Redis keys of one account's token."""

    token: str
    lock: str
    generations: str
    refused: str


def schedule_keys(prefix: str, key: str) -> ScheduleKeys:
    base = f"{prefix}:rate:{{{key}}}"
    return ScheduleKeys(
        f"{base}:queue",
        f"{base}:planned",
        f"{base}:sent",
        f"{base}:state",
        f"{base}:epoch",
        f"{base}:in_flight",
        f"{base}:in_flight:known",
    )


def token_keys(prefix: str, key: str) -> TokenKeys:
    base = f"{prefix}:token:{{{key}}}"
    return TokenKeys(base, f"{base}:lock", f"{base}:generations", f"{base}:refused")


@dataclass(slots=True)
class KeyMemory:
    """What this process remembers of one shared schedule, to give back to a store that lost
    it: the life (epoch) it last saw, its own latest sends (id, slot, send time) and the
    latest push-back it made (times in microseconds of the Redis clock)."""

    epoch: str = ""
    sends: deque[tuple[str, int, int]] = field(default_factory=deque)
    not_before: int = 0

    def recovery_args(self, include: bool) -> list[str | int]:
        if not include:
            return [self.epoch, uuid.uuid4().hex, 0, 0]
        triples = [value for send in self.sends for value in send]
        return [self.epoch, uuid.uuid4().hex, 1, self.not_before, *triples]

    def record(self, send: tuple[str, int, int], depth: int) -> None:
        self.sends.append(send)
        while len(self.sends) > depth:
            self.sends.popleft()


@dataclass(frozen=True, slots=True)
class Reservation:
    """One place in a shared schedule, from :meth:`RedisCoordination.reserve`."""

    key: str
    keys: ScheduleKeys
    id: str
    limit: RateLimit

    def script_args(self) -> list[str | int]:
        return schedule_args(self.id, self.limit)


def schedule_args(reservation_id: str, limit: RateLimit, extra: int = 0) -> list[str | int]:
    """What every schedule script is told: the reservation and the limit, in microseconds."""
    return [
        reservation_id,
        limit.capacity,
        _microseconds(limit.window),
        limit.max_requests,
        _microseconds(limit.guard_window),
        _microseconds(limit.min_gap),
        extra,
    ]


class RedisCoordination:
    """Shares rate limits and the CloudAgent token between every process and host that uses
    the same Redis and ``prefix``. Pass it as ``coordination=`` to each client.

    ``redis`` is a ``redis.asyncio.Redis`` you own: it is used, never closed. When Redis
    cannot be reached or errors, calls raise :class:`~ozoasync.CoordinationError`; there is
    no silent fallback to a per-process limit, which would multiply the account's rate by
    the number of processes. ``lease``: how long a place in flight (``RateLimit.concurrency``)
    outlives a holder that died without giving it back (it is renewed while held).
    ``timer_slack``: waiters wake this much before their slot, then yield until it.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "ozoasync",
        lease: float = 30.0,
        timer_slack: float = 0.002,
    ) -> None:
        try:
            import redis.exceptions as redis_exceptions
        except ImportError as error:
            raise ImportError(
                "RedisCoordination needs the redis package: pip install 'ozoasync[redis]'"
            ) from error
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("RedisCoordination prefix must be a non-empty string")
        if not lease > 0 or math.isinf(lease):
            raise ValueError("RedisCoordination lease must be a positive number of seconds")
        self._redis = redis
        self.prefix = prefix
        self.lease = lease
        self._timer_slack = timer_slack
        self._errors: tuple[type[BaseException], ...] = (redis_exceptions.RedisError, OSError)
        self._reserve = redis.register_script(_RESERVE_LUA)
        self._confirm = redis.register_script(_CONFIRM_LUA)
        self._push_back = redis.register_script(_PUSH_BACK_LUA)
        self._enter = redis.register_script(_ENTER_LUA)
        self._renew_place = redis.register_script(_RENEW_PLACE_LUA)
        self._memory: dict[str, KeyMemory] = {}
        # Clean-ups that must finish even when their caller is cancelled.
        self._cleanups: set[asyncio.Task[None]] = set()
        self._tokens = RedisTokenStore(self)

    def __repr__(self) -> str:
        return f"RedisCoordination(prefix={self.prefix!r})"

    @property
    def tokens(self) -> RedisTokenStore:
        return self._tokens

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

    async def _schedule_script(
        self, doing: str, script: AsyncScript, key: str, args: list[str | int], depth: int
    ) -> tuple[float, int, int]:
        """Run a schedule script with this process's memory of ``key``, handing the memory
        over when the store has lost the state it was part of; returns the seconds to wait,
        the slot (or push-back) and the send time (us; 0 when not sent)."""
        memory = self._memory.setdefault(key, KeyMemory())
        keys = schedule_keys(self.prefix, key).all()
        answer = await self._script(doing, script, keys, [*args, *memory.recovery_args(False)])
        if int(answer[0]) < 0:
            log.warning(
                "the Redis coordination store lost the schedule of %s (restarted empty or "
                "flushed); restarting it from what this process remembers",
                key.rsplit("|", 1)[-1],
            )
            answer = await self._script(doing, script, keys, [*args, *memory.recovery_args(True)])
        memory.epoch = _text(answer[1])
        wait, slot, sent_at = int(answer[0]), int(answer[2]), int(answer[3])
        if wait == 0 and sent_at:
            memory.record((str(args[0]), slot, sent_at), depth)
        return wait / 1_000_000, slot, sent_at

    async def acquire(self, key: str, limit: RateLimit) -> float:
        """Reserve a slot, sleep until it, confirm it against the actual sends (again after
        any extra wait the confirmation asks for); returns the seconds waited."""
        started = time.monotonic()
        await self._acquire(key, limit, None)
        return time.monotonic() - started

    async def _acquire(self, key: str, limit: RateLimit, deadline: float | None) -> None:
        # The wait is counted from when the script was asked, not from when its answer came
        # back: the request's way there and the answer's way back are about equal, so the
        # next confirmation then reaches Redis right at the slot, not a round trip late.
        asked = time.monotonic()
        reservation, wait = await self.reserve(key, limit)
        async with self._given_back_on_cancel(reservation):
            while wait > 0:
                if deadline is not None and asked + wait > deadline:
                    # Give the slot back at once, not after sleeping: the callers behind
                    # move up now.
                    await self._detached("give back a send slot", self.cancel(reservation))
                    raise deadline_error(key, deadline - time.monotonic())
                await self._sleep_until_nearly(asked + wait)
                asked = time.monotonic()
                wait = await self.confirm(reservation)

    async def _sleep_until_nearly(self, when: float) -> None:
        """Sleep until ``when``: asyncio rounds sleeps up to whole milliseconds, so sleep
        ``timer_slack`` short of it and yield to the loop for the rest."""
        remaining = when - time.monotonic()
        if remaining > self._timer_slack:
            await asyncio.sleep(remaining - self._timer_slack)
        while time.monotonic() < when:  # noqa: ASYNC110 - yields until the slot, no poll
            await asyncio.sleep(0)

    @contextlib.asynccontextmanager
    async def slot(
        self, key: str, limit: RateLimit, *, max_wait: float | None = None
    ) -> AsyncIterator[float]:
        started = time.monotonic()
        deadline = None if max_wait is None else started + max_wait
        async with contextlib.AsyncExitStack() as stack:
            if limit.concurrency is not None:
                await stack.enter_async_context(
                    self._in_flight(key, limit.concurrency, deadline, max_wait)
                )
            try:
                await self._acquire(key, limit, deadline)
            except DeadlineExceededError:
                raise deadline_error(key, max_wait) from None
            yield time.monotonic() - started

    async def reserve(self, key: str, limit: RateLimit) -> tuple[Reservation, float]:
        """The first step of :meth:`acquire`: a place in ``key``'s shared queue and the
        seconds until its slot (0: the send is already logged, go now). Sleep that long,
        then :meth:`confirm`; :meth:`cancel` a place that will not be used."""
        reservation = Reservation(key, schedule_keys(self.prefix, key), uuid.uuid4().hex, limit)
        async with self._given_back_on_cancel(reservation):
            wait, _, _ = await self._schedule_script(
                "reserving a send slot",
                self._reserve,
                key,
                reservation.script_args(),
                limit.max_requests,
            )
        return reservation, wait

    async def confirm(self, reservation: Reservation) -> float:
        """The last step of :meth:`acquire`, right before sending: 0 when the send may go
        now (it is logged), else the seconds still to wait (then confirm again)."""
        wait, _, _ = await self._schedule_script(
            "confirming a send slot",
            self._confirm,
            reservation.key,
            reservation.script_args(),
            reservation.limit.max_requests,
        )
        return wait

    async def cancel(self, reservation: Reservation) -> None:
        """Give a place back (a waiter that will not send)."""
        keys = reservation.keys
        async with self._redis.pipeline(transaction=True) as pipe:
            for log_key in (keys.queue, keys.planned, keys.sent):
                pipe.zrem(log_key, reservation.id)
            await self._call("giving back a send slot", pipe.execute())

    async def push_back(self, key: str, limit: RateLimit, delay: float) -> None:
        """No send of ``key`` before ``delay`` seconds from now, in every process; the
        waiting queue moves back with it."""
        _, until, _ = await self._schedule_script(
            "pushing back the schedule",
            self._push_back,
            key,
            schedule_args("", limit, _microseconds(delay)),
            limit.max_requests,
        )
        memory = self._memory[key]
        memory.not_before = max(memory.not_before, until)

    @contextlib.asynccontextmanager
    async def _in_flight(
        self, key: str, places: int, deadline: float | None, max_wait: float | None
    ) -> AsyncIterator[None]:
        """Hold one of ``places`` places of ``key`` in flight (renewed while held, given back
        on exit); a holder that dies loses it when its lease runs out."""
        keys = schedule_keys(self.prefix, key)
        set_key, script_keys = keys.in_flight, [keys.in_flight, keys.in_flight_known]
        holder = uuid.uuid4().hex
        renew_every = min(self.lease / 3, IN_FLIGHT_RENEWAL)
        args: list[str | int] = [
            holder,
            places,
            _microseconds(self.lease),
            _microseconds(2 * renew_every),
        ]
        while True:
            wait = int(
                await self._script("taking a place in flight", self._enter, script_keys, args)
            )
            if wait == 0:
                break
            # Places are given back without notice: look again soon, or when a lease ends.
            pause = min(wait / 1_000_000, IN_FLIGHT_POLL_INTERVAL)
            if deadline is not None and time.monotonic() + pause > deadline:
                raise deadline_error(key, max_wait)
            await asyncio.sleep(pause)

        async def renew() -> None:
            while True:
                await asyncio.sleep(renew_every)
                try:
                    if not await self._renew_place(keys=script_keys, args=args):
                        log.warning("a place in flight for %s was lost", key.rsplit("|", 1)[-1])
                        return
                except self._errors:
                    continue  # a passing fault: the lease still has two thirds of its life

        renewal = asyncio.ensure_future(renew())
        try:
            yield
        finally:
            renewal.cancel()
            await self._detached(
                "give back a place in flight",
                self._call("giving back a place in flight", self._give_back(set_key, holder)),
            )

    async def _give_back(self, set_key: str, holder: str) -> None:
        await self._redis.zrem(set_key, holder)

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

    async def aclose(self) -> None:
        """Wait for pending clean-ups; the Redis client is yours to close."""
        if self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class _LockedWriter:
    coordination: RedisCoordination
    keys: TokenKeys
    owner: str

    async def store(self, token: SharedToken) -> bool:
        stored = await self.coordination._script(
            "storing the new token",
            self.coordination.tokens._store_token,
            [self.keys.token, self.keys.lock],
            [token.value, repr(token.refresh_at), repr(token.expires_at), self.owner],
        )
        if not stored:
            log.info("token lock lost while generating; the new token was not shared")
        return bool(stored)


class RedisTokenStore:
    """The token store of a :class:`RedisCoordination` (its ``tokens``): a hash per account
    (value, refresh_at, expires_at) expiring with the token, a lock (``SET NX PX``, renewed
    while held, released by compare-and-delete) for single-flight generation, a sorted set
    of charges for the budget and a key remembering a vendor refusal."""

    def __init__(self, coordination: RedisCoordination) -> None:
        self._coordination = coordination
        redis = coordination._redis
        self._charge_generation = redis.register_script(_CHARGE_GENERATION_LUA)
        self._refuse = redis.register_script(_REFUSE_LUA)
        self._restore = redis.register_script(_RESTORE_LUA)
        self._store_token = redis.register_script(_STORE_TOKEN_LUA)
        self._renew_lock = redis.register_script(_RENEW_LOCK_LUA)
        self._release_lock = redis.register_script(_RELEASE_LOCK_LUA)

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self._coordination.prefix!r})"

    def _keys(self, key: str) -> TokenKeys:
        return token_keys(self._coordination.prefix, key)

    async def read(self, key: str) -> SharedToken | None:
        value, refresh_at, expires_at = await self._coordination._call(
            "reading the shared token",
            self._coordination._redis.hmget(
                self._keys(key).token, ["value", "refresh_at", "expires_at"]
            ),
        )
        if value is None or refresh_at is None or expires_at is None:
            return None
        return SharedToken(_text(value), float(_text(refresh_at)), float(_text(expires_at)))

    async def restore(
        self, key: str, token: SharedToken | None, budget: TokenBudget, memory: BudgetMemory
    ) -> SharedToken | None:
        keys = self._keys(key)
        held: list[str | int] = ["", 0, 0]
        if token is not None:
            held = [token.value, repr(token.refresh_at), repr(token.expires_at)]
        period, refused_until, *charges = self._memory_args(budget, memory)
        put, value, refresh_at, expires_at = await self._coordination._script(
            "giving back the token and budget",
            self._restore,
            [keys.generations, keys.refused, keys.token],
            [period, refused_until, *held, *charges],
        )
        if put:
            log.warning("the Redis coordination store had lost the token; it was put back")
        if value is None or refresh_at is None or expires_at is None:
            return None
        return SharedToken(_text(value), float(_text(refresh_at)), float(_text(expires_at)))

    @staticmethod
    def _memory_args(budget: TokenBudget, memory: BudgetMemory) -> list[str | int]:
        charges = [value for c in memory.charges for value in (c.id, _microseconds(c.at))]
        return [_microseconds(budget.period), _microseconds(memory.refused_until), *charges]

    @contextlib.asynccontextmanager
    async def generating(self, key: str) -> AsyncIterator[TokenWriter]:
        keys = self._keys(key)
        owner = uuid.uuid4().hex
        redis = self._coordination._redis
        lock = redis.set(keys.lock, owner, nx=True, px=round(LOCK_TTL * 1000))
        while not await self._coordination._call("taking the token lock", lock):
            # Another process is generating: it stores its token and lets go shortly.
            await asyncio.sleep(TOKEN_POLL_INTERVAL)
            lock = redis.set(keys.lock, owner, nx=True, px=round(LOCK_TTL * 1000))
        async with self._holding_lock(keys.lock, owner):
            yield _LockedWriter(self._coordination, keys, owner)

    @contextlib.asynccontextmanager
    async def _holding_lock(self, lock: str, owner: str) -> AsyncIterator[None]:
        """Keep ``lock`` alive while the body runs (a generation may take several retries),
        then release it if it is still ours."""
        ttl_ms = round(LOCK_TTL * 1000)
        coordination = self._coordination

        async def renew() -> None:
            while True:
                await asyncio.sleep(LOCK_TTL / 3)
                try:
                    if not await self._renew_lock(keys=[lock], args=[owner, ttl_ms]):
                        return  # no longer ours: the store will not share our token
                except coordination._errors:
                    continue  # a passing fault: the lock still has two thirds of its life

        renewal = asyncio.ensure_future(renew())
        try:
            yield
        finally:
            renewal.cancel()
            await coordination._detached(
                "release the token lock",
                coordination._call(
                    "releasing the token lock", self._release_lock(keys=[lock], args=[owner])
                ),
            )

    async def charge(self, key: str, budget: TokenBudget, memory: BudgetMemory) -> Charge | float:
        keys = self._keys(key)
        charge_id = uuid.uuid4().hex
        period, refused_until, *charges = self._memory_args(budget, memory)
        wait, at = await self._coordination._script(
            "charging the token budget",
            self._charge_generation,
            [keys.generations, keys.refused, keys.token],
            [period, refused_until, budget.max_generations, charge_id, *charges],
        )
        if int(wait) > 0:
            return int(wait) / 1_000_000
        return Charge(charge_id, int(at) / 1_000_000)

    async def refuse(self, key: str, seconds: float) -> float:
        until = await self._coordination._script(
            "remembering the refusal",
            self._refuse,
            [self._keys(key).refused],
            [_microseconds(seconds)],
        )
        return int(until) / 1_000_000
