"""CloudAgentClient over RedisCoordination, against the emulator: the token budget, and what
a caller sees when Redis is down (an error, never an unshared limit)."""

from __future__ import annotations

import subprocess
import sys
from typing import Literal

import pytest
import redis.asyncio
from redis_helpers import FAST_RETRY, NewCoordination, fail_fast_redis, free_port

from ozoasync import (
    CloudAgentClient,
    CoordinationError,
    RateLimit,
    RedisCoordination,
    TokenBudget,
    TokenBudgetExhaustedError,
)
from ozoasync.testing import FakeCloudAgent
from ozoasync.transport.redis_coordination import schedule_keys

pytestmark = pytest.mark.redis


def client(
    fake: FakeCloudAgent,
    coordination: RedisCoordination,
    auth: Literal["api_key", "token"] = "api_key",
    token_budget: TokenBudget | None = None,
) -> CloudAgentClient:
    return CloudAgentClient(
        fake.username,
        fake.api_key,
        auth=auth,
        base_url=fake.url,
        retry=FAST_RETRY,
        timeout=2.0,
        rate_limits={"deleteCampaignData": RateLimit(100, 1.0)},
        coordination=coordination,
        token_budget=token_budget,
    )


async def test_token_budget_exhaustion_raises_for_every_process(
    new_coordination: NewCoordination,
) -> None:
    budget = TokenBudget(max_generations=1, period=3600.0)
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign("spring", ["9876543210"])
        async with (
            client(fake, new_coordination(), auth="token", token_budget=budget) as first,
            client(fake, new_coordination(), auth="token", token_budget=budget) as second,
        ):
            await first.campaign_data.delete("spring", "9876543210")
            with pytest.raises(TokenBudgetExhaustedError) as raised:
                await second.tokens.generate(force=True)

    assert fake.tokens_generated == 1
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > 3500
    assert "invalidate" in str(raised.value)


@pytest.mark.parametrize("auth", ["api_key", "token"])
async def test_unreachable_redis_raises_and_nothing_is_sent(
    prefix: str, auth: Literal["api_key", "token"]
) -> None:
    unreachable = fail_fast_redis(free_port())
    async with FakeCloudAgent(auth_mode=auth) as fake:
        fake.add_campaign("spring", ["9876543210"])
        coordination = RedisCoordination(unreachable, prefix=prefix)
        async with client(fake, coordination, auth=auth) as ca:
            with pytest.raises(CoordinationError) as raised:
                await ca.campaign_data.delete("spring", "9876543210")
    await unreachable.aclose()

    assert "Redis coordination failed" in str(raised.value)
    assert "ConnectionError" in str(raised.value)
    assert fake.requests == []
    assert fake.campaigns["spring"] == {"9876543210"}


async def test_the_client_sends_through_the_shared_schedule(
    new_coordination: NewCoordination, redis_client: redis.asyncio.Redis, prefix: str
) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        async with client(fake, new_coordination()) as ca:
            await ca.campaign_data.delete("spring", "9876543210")
        keys = schedule_keys(prefix, f"{fake.url}|{fake.username}|deleteCampaignData")

    assert await redis_client.zcard(keys.sent) == 1
    assert await redis_client.zcard(keys.queue) == 0


def test_ozoasync_imports_without_redis() -> None:
    script = (
        "import sys\n"
        "sys.modules['redis'] = None\n"  # what a missing package looks like to import
        "import ozoasync\n"
        "try:\n"
        "    ozoasync.RedisCoordination(object())\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'ozoasync[redis]'" in done.stdout
