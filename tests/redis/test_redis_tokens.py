"""The shared token over a real Redis: one generation per expiry for every instance,
single-flight, a rejected token replaced once, and the generation budget kept in Redis."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio
from redis_helpers import NewCoordination

from ozoasync import RedisCoordination, TokenBudget, TokenBudgetExhaustedError
from ozoasync.cloudagent.token_store import AccountToken, BudgetCharge, TokenGenerator
from ozoasync.transport.coordination import SharedToken
from ozoasync.transport.redis_coordination import token_keys

pytestmark = pytest.mark.redis

KEY = "token|http://127.0.0.1:1|demo"
BUDGET = TokenBudget()


async def shared_token(
    coordination: RedisCoordination,
    stale: str | None,
    generate: TokenGenerator,
    budget: TokenBudget,
) -> SharedToken:
    """The account's token as a client that remembers nothing of it sees it."""
    return await AccountToken(coordination.tokens, KEY, budget).current(stale, generate)


class Generator:
    """A token generator that counts its calls; ``lifetime`` is the token's life, ``requests``
    how many requests (each charged to the budget) one generation sends."""

    def __init__(self, lifetime: float = 3600.0, delay: float = 0.0, requests: int = 1) -> None:
        self.lifetime = lifetime
        self.delay = delay
        self.requests = requests
        self.calls = 0
        self.failures: list[BaseException] = []

    async def __call__(self, charge: BudgetCharge) -> tuple[str, float]:
        for _ in range(self.requests):
            await charge()
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        return f"token-{self.calls}", time.time() + self.lifetime


async def test_concurrent_callers_across_instances_generate_once(
    new_coordination: NewCoordination,
) -> None:
    generate = Generator(delay=0.2)
    instances = [new_coordination() for _ in range(3)]

    tokens = await asyncio.gather(
        *(shared_token(instances[i % 3], None, generate, BUDGET) for i in range(12))
    )

    assert generate.calls == 1
    assert {token.value for token in tokens} == {"token-1"}
    assert tokens[0].refresh_at < tokens[0].expires_at


async def test_a_rejected_token_is_replaced_once_for_everyone(
    new_coordination: NewCoordination,
) -> None:
    generate = Generator()
    first, second = new_coordination(), new_coordination()
    rejected = await shared_token(first, None, generate, BUDGET)

    replaced = await shared_token(second, rejected.value, generate, BUDGET)
    # The other instance saw the same rejection later: the replacement is already there.
    seen_by_first = await shared_token(first, rejected.value, generate, BUDGET)

    assert replaced.value == seen_by_first.value == "token-2"
    assert generate.calls == 2


async def test_a_token_due_for_refresh_is_regenerated(new_coordination: NewCoordination) -> None:
    generate = Generator(lifetime=0.12)
    coordination = new_coordination()
    await shared_token(coordination, None, generate, BUDGET)
    await asyncio.sleep(0.15)

    token = await shared_token(coordination, None, generate, BUDGET)

    assert token.value == "token-2"


async def test_a_failed_generation_releases_the_lock_at_once(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    generate = Generator()
    generate.failures.append(RuntimeError("vendor down"))
    first, second = new_coordination(), new_coordination()

    with pytest.raises(RuntimeError, match="vendor down"):
        await shared_token(first, None, generate, BUDGET)
    assert not await redis_client.exists(token_keys(prefix, KEY).lock)
    token = await shared_token(second, None, generate, BUDGET)

    assert token.value == "token-2"


async def test_a_cancelled_generation_releases_the_lock(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    slow = Generator(delay=60.0)
    coordination = new_coordination()
    task = asyncio.create_task(shared_token(coordination, None, slow, BUDGET))
    lock = token_keys(prefix, KEY).lock
    for _ in range(1000):
        if slow.calls:
            break
        await asyncio.sleep(0.005)
    assert await redis_client.exists(lock)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert not await redis_client.exists(lock)


async def test_the_generation_budget_is_shared(new_coordination: NewCoordination) -> None:
    budget = TokenBudget(max_generations=2, period=3600.0)
    generate = Generator()
    first, second = new_coordination(), new_coordination()
    token = await shared_token(first, None, generate, budget)
    token = await shared_token(second, token.value, generate, budget)

    with pytest.raises(TokenBudgetExhaustedError) as raised:
        await shared_token(first, token.value, generate, budget)

    assert generate.calls == 2
    assert raised.value.retry_after is not None
    assert 3500 < raised.value.retry_after <= 3600
    # The token in use is still served: only a new generation is refused.
    assert (await shared_token(second, None, generate, budget)).value == "token-2"


async def test_every_request_of_a_generation_is_charged_to_the_budget(
    new_coordination: NewCoordination,
) -> None:
    # A generation whose first answer was lost sends again: the vendor may have issued a
    # token for each request, so each one spends the budget.
    budget = TokenBudget(max_generations=5, period=3600.0)
    first, second = new_coordination(), new_coordination()
    token = await shared_token(first, None, Generator(requests=3), budget)  # 3 of 5 spent

    refused = Generator(requests=3)
    with pytest.raises(TokenBudgetExhaustedError):
        await shared_token(second, token.value, refused, budget)  # 4, 5, then refused
    assert refused.calls == 0
    # The refused generation's two requests were spent too: not even a one-request one fits.
    with pytest.raises(TokenBudgetExhaustedError):
        await shared_token(first, token.value, Generator(), budget)


async def test_the_token_keys_expire_and_hold_no_secret_in_their_names(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    await shared_token(new_coordination(), None, Generator(), TokenBudget(10, 3600.0))

    keys = [key.decode() async for key in redis_client.scan_iter(match=f"{prefix}:*")]
    assert sorted(keys) == sorted(
        [token_keys(prefix, KEY).token, token_keys(prefix, KEY).generations]
    )
    for key in keys:
        assert "token-1" not in key
        assert 3_500_000 < await redis_client.pttl(key) <= 3_600_000
