"""What the Redis tests and their worker processes share."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ozoasync import RedisCoordination, RetryPolicy
from ozoasync.testing import FakeCloudAgent

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


class RedisServer:
    """A redis-server of the test's own on a free port (never the shared 6379), which the
    test may restart empty: nothing is saved to disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                REDIS_HOST,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(500):
            try:
                socket.create_connection((REDIS_HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def restart_empty(self) -> None:
        self.stop()
        self.start()

    def client(self) -> redis.asyncio.Redis:
        return redis.asyncio.Redis(host=REDIS_HOST, port=self.port)


CAMPAIGN = "spring"
WORKER = Path(__file__).with_name("redis_worker.py")


def numbers(count: int) -> list[str]:
    return [f"98765{n:05d}" for n in range(count)]


async def run_workers(
    fake: FakeCloudAgent,
    prefix: str,
    jobs: list[dict[str, Any]],
    during: Callable[[], Awaitable[object]] | None = None,
) -> list[Any]:
    """Start one redis_worker.py process per job, let them all go at once (running
    ``during`` meanwhile), and return their outputs."""
    common = {"url": fake.url, "username": fake.username, "api_key": fake.api_key}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            json.dumps({**common, "prefix": prefix, "campaign": CAMPAIGN, **job}),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for job in jobs
    ]
    for process in processes:
        assert process.stdout is not None
        ready = await asyncio.wait_for(process.stdout.readline(), 60)
        if ready.strip() != b"ready":
            _, errors = await process.communicate()
            raise AssertionError(f"worker did not start: {errors.decode()}")
    outputs = await asyncio.gather(
        *(asyncio.wait_for(process.communicate(b"go\n"), 60) for process in processes),
        *([during()] if during else []),
    )
    for process, (_, errors) in zip(processes, outputs, strict=False):
        assert process.returncode == 0, errors.decode()
    return [json.loads(out) for out, _ in outputs[: len(processes)]]
