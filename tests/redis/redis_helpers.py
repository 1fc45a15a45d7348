"""What the Redis tests and their worker processes share."""

from __future__ import annotations

import socket
from collections.abc import Callable

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ozoasync import RedisCoordination, RetryPolicy

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379

NewCoordination = Callable[[], RedisCoordination]
"""Makes a RedisCoordination over its own connection (the ``new_coordination`` fixture)."""

# Fast retries: tests assert behaviour, not the production back-off.
FAST_RETRY = RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05)


def redis_is_up() -> bool:
    try:
        socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5).close()
    except OSError:
        return False
    return True


def fail_fast_redis(port: int) -> redis.asyncio.Redis:
    """A client that gives up at once (redis-py retries a refused connection for seconds)."""
    return redis.asyncio.Redis(
        host=REDIS_HOST, port=port, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0)
    )


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind((REDIS_HOST, 0))
        return int(probe.getsockname()[1])
