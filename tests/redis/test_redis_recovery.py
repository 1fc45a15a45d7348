"""Redis losing its state mid-run (restarted empty, or flushed): the schedule restarts as a
fresh process would, the token in use is put back, and the budget is rebuilt from what
the clients remember. Each test runs a redis-server of its own on a free port."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from typing import Literal

import pytest
import redis.asyncio
import redis.exceptions
from redis_helpers import FAST_RETRY, RedisServer, fail_fast_redis, numbers, run_workers

from ozoasync import (
    CloudAgentClient,
    RateLimit,
    RedisCoordination,
    TokenBudget,
    TokenBudgetExhaustedError,
)
from ozoasync.cloudagent.token_store import CHECK_INTERVAL, AccountToken, BudgetCharge
from ozoasync.testing import FakeCloudAgent
from ozoasync.testing.readings import max_in_window
from ozoasync.transport.redis_coordination import schedule_keys

pytestmark = pytest.mark.redis

Wipe = Literal["restart", "flushdb"]
KEY = "token|http://127.0.0.1:1|demo"


async def wipe(server: RedisServer, how: Wipe) -> None:
    if how == "restart":
        await asyncio.to_thread(server.restart_empty)
    else:
        client = server.client()
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def coordinations(
    own_redis: RedisServer, prefix: str
) -> AsyncIterator[Callable[[], RedisCoordination]]:
    """RedisCoordination instances on the test's own redis-server, as separate processes."""
    clients: list[redis.asyncio.Redis] = []

    def make() -> RedisCoordination:
        clients.append(own_redis.client())
        return RedisCoordination(clients[-1], prefix=prefix)

    yield make
    for client in clients:
        await client.aclose()


async def watch_sends(server: RedisServer, prefix: str, key: str, sends: dict[str, float]) -> None:
    """Collect every send the shared schedule logs (id -> Redis time), until cancelled. A send
    logged just before a wipe comes back when its process gives the store its memory."""
    sent_log = schedule_keys(prefix, key).sent
    client = fail_fast_redis(server.port)
    try:
        while True:
            try:
                entries = await client.zrange(sent_log, 0, -1, withscores=True)
            except redis.exceptions.ConnectionError:
                entries = []  # restarting
            sends.update((member.decode(), int(score)) for member, score in entries)
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


@pytest.mark.parametrize("how", ["restart", "flushdb"])
async def test_three_processes_keep_the_limit_and_the_token_when_redis_loses_its_state(
    own_redis: RedisServer, prefix: str, how: Wipe
) -> None:
    # 20 per second, sends at least 50 ms apart: the store is wiped 1.5 s into a ~4.5 s run,
    # while every process has requests waiting in the shared queue.
    everything = numbers(90)
    sends: dict[str, int] = {}
    async with FakeCloudAgent(
        auth_mode="token", rate_limits={"deleteCampaignData": (20, 1.0)}
    ) as fake:
        fake.add_campaign("spring", everything)
        key = f"{fake.url}|{fake.username}|deleteCampaignData"
        late_token: list[str] = []

        async def wipe_then_ask_for_the_token() -> None:
            watcher = asyncio.create_task(watch_sends(own_redis, prefix, key, sends))
            await asyncio.sleep(1.5)
            await wipe(own_redis, how)
            # Once the workers have looked, a newcomer finds their token back in the store.
            await asyncio.sleep(CHECK_INTERVAL + 0.5)
            client = own_redis.client()
            async with CloudAgentClient(
                fake.username,
                fake.api_key,
                auth="token",
                base_url=fake.url,
                retry=FAST_RETRY,
                coordination=RedisCoordination(client, prefix=prefix),
            ) as newcomer:
                late_token.append((await newcomer.tokens.generate()).value)
            await client.aclose()
            await asyncio.sleep(3.0)  # the workers are done by then
            watcher.cancel()

        jobs = [
            {
                "auth": "token",
                "rate_limit": [20, 1.0],
                "numbers": everything[i::3],
                "redis_port": own_redis.port,
            }
            for i in range(3)
        ]
        outcomes = await run_workers(fake, prefix, jobs, during=wipe_then_ask_for_the_token)

    assert all(outcome == "deleted" for done in outcomes for outcome in done)
    assert fake.counters["rejected"] == 0
    # The actual send times, on the Redis clock: every one of the 90 was logged.
    sent = sorted(sends.values())
    assert len(sent) == 90
    assert max_in_window(sent, 1_000_000) <= 20
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert min(gaps) >= 50_000, f"two sends {min(gaps) / 1000:.3f} ms apart"
    # No process generated a token over the one they all held: it was put back.
    assert fake.tokens_generated == 1
    assert len(late_token) == 1


class Generator:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, charge: BudgetCharge) -> tuple[str, float]:
        await charge()
        self.calls += 1
        return f"token-{self.calls}", time.time() + 3600


@pytest.mark.parametrize("how", ["restart", "flushdb"])
async def test_the_budget_is_rebuilt_from_what_the_clients_remember(
    own_redis: RedisServer, coordinations: Callable[[], RedisCoordination], how: Wipe
) -> None:
    budget = TokenBudget(max_generations=3, period=3600.0)
    generate = Generator()
    first = AccountToken(coordinations().tokens, KEY, budget)
    second = AccountToken(coordinations().tokens, KEY, budget)
    await first.current(None, generate)
    await second.current("token-1", generate)  # the server rejected token-1
    assert (await first.current("token-1", generate)).value == "token-2"
    await first.current("token-2", generate)  # 3 of 3 spent: 2 by first, 1 by second
    assert generate.calls == 3

    await wipe(own_redis, how)
    await asyncio.sleep(CHECK_INTERVAL)
    # Each client looks again: first puts the token back, both put back their charges.
    assert (await first.current(None, generate)).value == "token-3"
    assert (await second.current(None, generate)).value == "token-3"

    newcomer = AccountToken(coordinations().tokens, KEY, budget)
    assert (await newcomer.current(None, generate)).value == "token-3"
    with pytest.raises(TokenBudgetExhaustedError) as raised:
        await newcomer.current("token-3", generate)
    assert generate.calls == 3
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > 3500


async def test_a_remembered_refusal_survives_the_store(
    own_redis: RedisServer, coordinations: Callable[[], RedisCoordination]
) -> None:
    budget = TokenBudget(max_generations=10, period=3600.0)

    async def refused(charge: BudgetCharge) -> tuple[str, float]:
        await charge()
        error = TokenBudgetExhaustedError(
            "Max limit exceeded", endpoint="generateToken", http_status=200
        )
        error.retry_after = 600.0
        raise error

    account = AccountToken(coordinations().tokens, KEY, budget)
    with pytest.raises(TokenBudgetExhaustedError):
        await account.current(None, refused)
    await wipe(own_redis, "restart")
    with pytest.raises(TokenBudgetExhaustedError):
        await account.current(None, refused)  # the memory puts the refusal back first

    other = AccountToken(coordinations().tokens, KEY, budget)
    generate = Generator()
    with pytest.raises(TokenBudgetExhaustedError) as raised:
        await other.current(None, generate)
    assert generate.calls == 0
    assert raised.value.retry_after is not None
    assert 500 < raised.value.retry_after <= 600


@pytest.mark.parametrize("how", ["restart", "flushdb"])
async def test_a_wiped_schedule_restarts_one_interval_out_and_guards_remembered_sends(
    own_redis: RedisServer, coordinations: Callable[[], RedisCoordination], how: Wipe
) -> None:
    limit = RateLimit(10, 1.0)  # slots 102 ms apart, sends at least 100 ms apart
    key = "http://127.0.0.1:1|demo|deleteCampaignData"
    sender, waiter = coordinations(), coordinations()
    await sender.acquire(key, limit)
    reservation, _ = await waiter.reserve(key, limit)  # queued behind the send

    await wipe(own_redis, how)
    # The queued waiter's place is gone with the store: it is made afresh, one interval out.
    held = await waiter.confirm(reservation)
    assert limit.window / 2 < held <= limit.window
    # The sender remembers its send and gives it back: the guard holds across processes.
    _, delay = await sender.reserve(key, limit)
    assert delay > held
