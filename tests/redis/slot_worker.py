"""A worker process for the in-flight tests: takes ``count`` places of one key (at most one
in flight across every process), holding each for ``hold`` seconds.

Usage: python slot_worker.py '<json job>'; prints "ready", waits for a line on stdin, then
prints one JSON line per place: [entered, left] (epoch seconds), as it leaves it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import redis.asyncio
from redis_helpers import REDIS_HOST

from ozoasync import RateLimit, RedisCoordination


async def main(job: dict[str, Any]) -> None:
    client = redis.asyncio.Redis(host=REDIS_HOST, port=job["redis_port"])
    await client.ping()
    coordination = RedisCoordination(client, prefix=job["prefix"], lease=job["lease"])
    limit = RateLimit(1000, 1.0, burst=True, concurrency=1)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)

    async def take() -> None:
        async with coordination.slot(job["key"], limit):
            entered = time.time()
            print(json.dumps({"entered": entered}), flush=True)
            await asyncio.sleep(job["hold"])
            left = time.time()
        print(json.dumps({"held": [entered, left]}), flush=True)

    # Several coroutines at once, as a web worker would have.
    await asyncio.gather(*(take() for _ in range(job["count"])))
    await coordination.aclose()
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
