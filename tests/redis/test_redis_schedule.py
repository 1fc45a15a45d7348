"""The shared schedule over a real Redis: several RedisCoordination instances, each over its
own connection (as separate processes would be), keep one limit per key."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio
from redis_helpers import NewCoordination, fail_fast_redis, free_port

from ozoasync import CoordinationError, RateLimit, RedisCoordination
from ozoasync.testing.readings import max_in_window
from ozoasync.transport.redis_coordination import schedule_keys

pytestmark = pytest.mark.redis

KEY = "http://127.0.0.1:1|demo|deleteCampaignData"


async def wait_for_queue(client: redis.asyncio.Redis, prefix: str, size: int) -> None:
    """Until ``size`` reservations are queued (so tasks reserve in a known order)."""
    plan = schedule_keys(prefix, KEY).queue
    for _ in range(2000):
        if await client.zcard(plan) == size:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"the queue never held {size} reservations")


# A wide margin: the times checked are when acquire() returned in this process, which
# jitter by a few milliseconds around the Redis-side send times the schedule guarantees.
@pytest.mark.parametrize("burst", [False, True])
async def test_concurrent_acquires_across_instances_keep_the_limit(
    new_coordination: NewCoordination, burst: bool
) -> None:
    limit = RateLimit(5, 0.5, burst=burst, margin=0.2)
    instances = [new_coordination() for _ in range(3)]
    sent: list[float] = []

    async def send(coordination: RedisCoordination) -> None:
        await coordination.acquire(KEY, limit)
        sent.append(time.monotonic())

    await asyncio.gather(*(send(instances[i % 3]) for i in range(12)))

    assert len(sent) == 12
    assert max_in_window(sent, limit.period) <= limit.max_requests
    if burst:
        # The first burst goes at once: the schedule gives up nothing it does not have to.
        assert max_in_window(sent, limit.period) == limit.max_requests


async def test_waiters_are_served_in_reservation_order(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    limit = RateLimit(10, 1.0)
    instances = [new_coordination() for _ in range(3)]
    await instances[0].acquire(KEY, limit)
    served: list[int] = []

    async def send(number: int) -> None:
        await instances[number % 3].acquire(KEY, limit)
        served.append(number)

    tasks = []
    for number in range(6):
        tasks.append(asyncio.create_task(send(number)))
        await wait_for_queue(redis_client, prefix, number + 1)
    await asyncio.gather(*tasks)

    assert served == list(range(6))


async def test_cancelled_waiters_give_their_places_back(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    limit = RateLimit(5, 1.0)
    first, other = new_coordination(), new_coordination()
    await first.acquire(KEY, limit)
    waiters = [asyncio.create_task(other.acquire(KEY, limit)) for _ in range(5)]
    await wait_for_queue(redis_client, prefix, 5)

    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)

    assert all(waiter.cancelled() for waiter in waiters)
    assert await redis_client.zcard(schedule_keys(prefix, KEY).queue) == 0
    # The next sender gets the slot right after the first send, not after five dead ones.
    reservation, delay = await first.reserve(KEY, limit)
    assert 0 < delay <= limit.window
    await first.cancel(reservation)


async def test_push_back_holds_every_instance_and_keeps_the_queue_order(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    limit = RateLimit(10, 1.0)
    rejected, queued = new_coordination(), new_coordination()
    await queued.acquire(KEY, limit)
    served: list[tuple[int, float]] = []

    async def send(number: int) -> None:
        await queued.acquire(KEY, limit)
        served.append((number, time.monotonic()))

    tasks = []
    for number in range(3):
        tasks.append(asyncio.create_task(send(number)))
        await wait_for_queue(redis_client, prefix, number + 1)
    pushed = time.monotonic()
    await rejected.push_back(KEY, limit, 0.5)
    await new_coordination().acquire(KEY, limit)
    newcomer_sent = time.monotonic()
    await asyncio.gather(*tasks)

    assert [number for number, _ in served] == [0, 1, 2]
    assert all(at >= pushed + 0.5 for _, at in served)
    # The newcomer waits for the push-back and then for the three queued before it.
    assert newcomer_sent >= pushed + 0.5 + 3 * limit.window


async def test_lateness_within_the_margin_is_forgiven_by_the_plan(
    new_coordination: NewCoordination,
) -> None:
    # Slots 0.3 s apart, sends at least 0.2 s apart: a 0.1 s margin per slot.
    limit = RateLimit(3, 0.6, margin=0.5)
    coordination = new_coordination()
    await coordination.reserve(KEY, limit)
    (late, late_slot), (punctual, punctual_slot) = [
        await coordination.reserve(KEY, limit) for _ in range(2)
    ]
    await asyncio.sleep(late_slot + 0.05)  # wakes 50 ms late: within the margin
    assert await coordination.confirm(late) == 0
    await asyncio.sleep(punctual_slot - late_slot - 0.05)
    # The punctual sender keeps its planned slot: the lateness is not passed down the queue.
    assert await coordination.confirm(punctual) == 0


async def test_a_late_send_holds_the_next_one_a_vendor_interval_back(
    new_coordination: NewCoordination,
) -> None:
    limit = RateLimit(3, 0.6)  # slots 0.204 s apart; sends at least 0.2 s apart
    coordination = new_coordination()
    _, first_slot = await coordination.reserve(KEY, limit)
    (late, _), (punctual, punctual_slot) = [
        await coordination.reserve(KEY, limit) for _ in range(2)
    ]
    # A schedule the store has never held starts as a fresh process does: one interval first.
    assert first_slot == pytest.approx(limit.window, abs=0.01)
    # The first waiter wakes a whole slot late, right at the punctual one's slot...
    await asyncio.sleep(punctual_slot + 0.02)
    assert await coordination.confirm(late) == 0
    # ...which must not send right behind it: it waits a whole vendor interval.
    held = await coordination.confirm(punctual)
    assert limit.min_gap / 2 < held <= limit.min_gap
    await asyncio.sleep(held)
    assert await coordination.confirm(punctual) == 0


async def test_clients_with_different_limits_keep_each_others_history(
    new_coordination: NewCoordination,
) -> None:
    strict = RateLimit(2, 1.0, burst=True)
    loose = RateLimit(10, 0.2, burst=True)
    slow, fast = new_coordination(), new_coordination()
    await slow.acquire(KEY, strict)
    await slow.acquire(KEY, strict)
    await asyncio.sleep(0.3)
    await fast.acquire(KEY, loose)  # its own window is 0.2 s: older sends do not matter to it

    # ...but they still count for the strict client: its second-latest send is 0.3 s old.
    reservation, delay = await slow.reserve(KEY, strict)
    assert delay > 0.5
    await slow.cancel(reservation)


async def test_every_key_expires(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    limit = RateLimit(10, 1.0)
    coordination = new_coordination()
    await coordination.acquire(KEY, limit)
    waiter = asyncio.create_task(coordination.acquire(KEY, limit))
    await wait_for_queue(redis_client, prefix, 1)
    await coordination.push_back(KEY, limit, 0.2)

    keys = schedule_keys(prefix, KEY)
    found = {key.decode() async for key in redis_client.scan_iter(match=f"{prefix}:*")}
    assert found == set(keys.all())
    for key in [keys.queue, keys.planned, keys.sent, keys.state]:
        assert 0 < await redis_client.pttl(key) <= 3000
    # The epoch, which tells a store that lost its state from an idle key, lasts a week.
    assert 600_000_000 < await redis_client.pttl(keys.epoch) <= 604_800_000
    await waiter


@pytest.mark.usefixtures("redis_client")
async def test_a_client_decoding_responses_works_too(prefix: str) -> None:
    client = redis.asyncio.Redis(host="127.0.0.1", port=6379, decode_responses=True)
    coordination = RedisCoordination(client, prefix=prefix)
    limit = RateLimit(100, 1.0, burst=True)
    try:
        await asyncio.gather(*(coordination.acquire(KEY, limit) for _ in range(3)))
        _, delay = await coordination.reserve(KEY, limit)
    finally:
        await client.aclose()
    assert delay == 0


async def test_unreachable_redis_raises_coordination_error(prefix: str) -> None:
    client = fail_fast_redis(free_port())
    coordination = RedisCoordination(client, prefix=prefix)
    try:
        with pytest.raises(CoordinationError, match="Redis coordination failed while reserving"):
            await coordination.acquire(KEY, RateLimit(10, 1.0))
        with pytest.raises(CoordinationError, match="no fallback to a per-process limit"):
            await coordination.push_back(KEY, RateLimit(10, 1.0), 1.0)
    finally:
        await client.aclose()


def test_a_prefix_is_required(redis_client: redis.asyncio.Redis) -> None:
    with pytest.raises(ValueError, match="prefix"):
        RedisCoordination(redis_client, prefix="")
    assert repr(RedisCoordination(redis_client, prefix="p")) == "RedisCoordination(prefix='p')"


async def test_a_held_back_reservation_moves_the_ones_behind_it(
    new_coordination: NewCoordination,
) -> None:
    limit = RateLimit(3, 0.6)  # slots 0.204 s apart; sends at least 0.2 s apart
    coordination = new_coordination()
    first, _ = await coordination.reserve(KEY, limit)
    (second, _), (third, third_slot) = [await coordination.reserve(KEY, limit) for _ in range(2)]
    # The first sends a whole slot late: the second is held back a vendor interval from it...
    await asyncio.sleep(2 * limit.window)
    assert await coordination.confirm(first) == 0
    held = await coordination.confirm(second)
    assert held > limit.min_gap / 2
    # ...and the third, one slot behind the second, learns its new slot at its first look.
    await asyncio.sleep(third_slot - 2 * limit.window)
    assert await coordination.confirm(third) > limit.min_gap / 2
    for reservation in (second, third):
        await coordination.cancel(reservation)
