"""OZOASYNC_REDIS_URL: the command line shares its rate-limit schedule through Redis (the
real redis-server on 127.0.0.1:6379), and refuses to start without it."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio
from cli_helpers import cloudagent_env, one_line_error, ozoasync

from ozoasync.testing import FakeCloudAgent

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no redis-server on 127.0.0.1:6379")
    name = f"ozoasync-test-cli-{uuid.uuid4().hex}"
    yield name
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{name}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_the_schedule_lives_in_redis(
    fake: FakeCloudAgent, tmp_path: Path, prefix: str
) -> None:
    numbers = [str(9_500_000_000 + i) for i in range(10)]
    fake.add_campaign("spring", numbers)
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(numbers))
    env = {**cloudagent_env(fake), "OZOASYNC_REDIS_URL": REDIS_URL, "OZOASYNC_REDIS_PREFIX": prefix}

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", "spring", "--rate-limit", "100/1", str(source),
        env=env,
    )  # fmt: skip

    assert result.code == 0, result.stderr
    assert fake.campaigns["spring"] == set()
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    keys = [key.decode() async for key in client.scan_iter(match=f"{prefix}:*")]
    await client.aclose()
    assert any(f"{fake.url}|{fake.username}|deleteCampaignData" in key for key in keys), keys


async def test_an_unreachable_redis_exits_2_before_sending(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    source = tmp_path / "numbers.txt"
    source.write_text("9500000000\n")
    env = {**cloudagent_env(fake), "OZOASYNC_REDIS_URL": "redis://127.0.0.1:1/0"}

    result = await ozoasync("campaign-data", "delete", "--campaign", "spring", str(source), env=env)

    assert result.code == 2
    assert one_line_error(result).startswith("ozoasync: OZOASYNC_REDIS_URL: cannot reach Redis")
    assert fake.requests == []
