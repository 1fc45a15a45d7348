"""Fixtures for the RedisCoordination tests: the real redis-server on 127.0.0.1:6379 (CI
starts one), a key prefix of the test's own, and every key under it deleted afterwards.

(No ``__init__.py`` here on purpose: a package named ``redis`` would shadow redis-py.)
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio
from redis_helpers import REDIS_HOST, REDIS_PORT, NewCoordination, RedisServer, redis_is_up

from ozoasync import RedisCoordination


@pytest.fixture
def prefix() -> str:
    return f"ozoasync-test-{uuid.uuid4().hex}"


@pytest.fixture
async def redis_client(prefix: str) -> AsyncIterator[redis.asyncio.Redis]:
    if not redis_is_up():
        pytest.skip(f"no redis-server on {REDIS_HOST}:{REDIS_PORT}")
    client = redis.asyncio.Redis(host=REDIS_HOST, port=REDIS_PORT)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def new_coordination(
    redis_client: redis.asyncio.Redis, prefix: str
) -> AsyncIterator[NewCoordination]:
    """Makes RedisCoordination instances with the test's prefix, each over its own Redis
    connection, as separate processes would have."""
    made: list[tuple[RedisCoordination, redis.asyncio.Redis]] = []

    def make() -> RedisCoordination:
        client = redis.asyncio.Redis(host=REDIS_HOST, port=REDIS_PORT)
        coordination = RedisCoordination(client, prefix=prefix)
        made.append((coordination, client))
        return coordination

    yield make
    for coordination, client in made:
        await coordination.aclose()
        await client.aclose()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, on a free port, that the test may restart empty."""
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server binary")
    server = RedisServer()
    server.start()
    yield server
    server.stop()
