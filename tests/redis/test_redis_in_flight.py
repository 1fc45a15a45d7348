"""RateLimit(concurrency=...) and slot(max_wait=...) on a real Redis: at most N requests of a
key in flight across processes, a dead holder (SIGKILL) blocks no one beyond its lease, and a
caller that gives up keeps no slot."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import sys
import time
from pathlib import Path

import pytest
import redis.asyncio
from redis_helpers import NewCoordination, RedisServer

from ozoasync import DeadlineExceededError, RateLimit, RedisCoordination
from ozoasync.transport.redis_coordination import schedule_keys

pytestmark = pytest.mark.redis

KEY = "http://127.0.0.1:1|demo|DeleteBulkData"
WORKER = Path(__file__).with_name("slot_worker.py")


async def test_one_in_flight_across_instances(new_coordination: NewCoordination) -> None:
    limit = RateLimit(1000, 1.0, burst=True, concurrency=1)
    instances = [new_coordination() for _ in range(3)]
    in_flight = 0
    most = 0

    async def send(coordination: RedisCoordination) -> None:
        nonlocal in_flight, most
        async with coordination.slot(KEY, limit):
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.02)
            in_flight -= 1

    await asyncio.gather(*(send(instances[i % 3]) for i in range(9)))
    assert most == 1


async def test_a_caller_that_cannot_get_a_place_in_time_keeps_none(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    limit = RateLimit(1000, 1.0, burst=True, concurrency=1)
    holder, other = new_coordination(), new_coordination()
    async with holder.slot(KEY, limit):
        with pytest.raises(DeadlineExceededError) as raised:
            async with other.slot(KEY, limit, max_wait=0.1):
                pytest.fail("entered while the only place was held")
        assert raised.value.attempts == 0
        assert await redis_client.zcard(schedule_keys(prefix, KEY).in_flight) == 1
    assert await redis_client.zcard(schedule_keys(prefix, KEY).in_flight) == 0
    async with other.slot(KEY, limit, max_wait=0.1):
        pass


async def test_a_slot_beyond_max_wait_is_given_back_at_once(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    limit = RateLimit(2, 2.0)  # a slot every 1.02 s
    first, impatient = new_coordination(), new_coordination()
    async with first.slot(KEY, limit):  # (a fresh schedule: one interval first)
        pass
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="nothing was sent"):
        async with impatient.slot(KEY, limit, max_wait=0.3):
            pytest.fail("sent beyond the deadline")
    # Refused as soon as the slot was known to lie beyond the deadline, not at the deadline.
    assert time.monotonic() - started < 0.3
    assert await redis_client.zcard(schedule_keys(prefix, KEY).queue) == 0
    # The next caller gets the slot the impatient one gave up, not the one after it.
    reservation, delay = await first.reserve(KEY, limit)
    assert delay <= limit.window
    await first.cancel(reservation)


async def test_the_one_in_flight_rule_holds_across_processes_when_the_holder_is_killed(
    own_redis: RedisServer, prefix: str
) -> None:
    lease = 1.0

    async def worker(count: int, hold: float) -> asyncio.subprocess.Process:
        job = {"redis_port": own_redis.port, "prefix": prefix, "key": KEY, "lease": lease}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            json.dumps({**job, "count": count, "hold": hold}),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n"
        return process

    doomed = await worker(count=1, hold=60.0)
    others = [await worker(count=3, hold=0.05) for _ in range(2)]
    assert doomed.stdin is not None
    assert doomed.stdout is not None
    doomed.stdin.write(b"go\n")
    doomed_entered = json.loads(await asyncio.wait_for(doomed.stdout.readline(), 30))["entered"]
    for process in others:
        assert process.stdin is not None
        process.stdin.write(b"go\n")
    await asyncio.sleep(0.3)  # the others wait while the doomed one holds the place
    doomed.send_signal(signal.SIGKILL)
    killed_at = time.time()
    await doomed.wait()
    outputs = await asyncio.gather(*(asyncio.wait_for(p.communicate(), 60) for p in others))

    held = [(doomed_entered, killed_at)]
    for process, (out, errors) in zip(others, outputs, strict=True):
        assert process.returncode == 0, errors.decode()
        held += [tuple(json.loads(line)["held"]) for line in out.splitlines() if b"held" in line]
    assert len(held) == 1 + 2 * 3  # everyone else proceeded
    held.sort()
    # Never two in flight: each place was taken after the previous one was left.
    for (_, left), (entered, _) in itertools.pairwise(held):
        assert entered >= left
    # The dead holder blocked the account until its lease ran out, not longer than that.
    first_after = held[1][0]
    assert first_after >= doomed_entered + lease - 0.05


async def test_a_store_that_lost_its_places_keeps_room_for_the_holders(
    own_redis: RedisServer, prefix: str
) -> None:
    limit = RateLimit(1000, 1.0, burst=True, concurrency=1)
    clients = [own_redis.client(), own_redis.client()]
    holder, other = (RedisCoordination(client, prefix=prefix) for client in clients)
    try:
        async with holder.slot(KEY, limit):
            await clients[0].flushdb()  # the holder's place is gone with everything else
            with pytest.raises(DeadlineExceededError):
                async with other.slot(KEY, limit, max_wait=0.3):
                    pytest.fail("two in flight after the store lost the holder's place")
            await asyncio.sleep(0.7)  # the holder has renewed, putting its place back
            with pytest.raises(DeadlineExceededError):
                async with other.slot(KEY, limit, max_wait=0.3):
                    pytest.fail("two in flight once the room kept for the holder ran out")
        async with other.slot(KEY, limit, max_wait=2.0):
            pass
    finally:
        for client in clients:
            await client.aclose()
