"""A worker process for the multi-process tests: one CloudAgentClient sharing a
RedisCoordination, deleting its numbers (8 at a time) once told to go.

Usage: python redis_worker.py '<json job>'; prints "ready", waits for a line on stdin,
then prints the outcomes as one JSON list.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import redis.asyncio
from redis_helpers import FAST_RETRY, REDIS_HOST, REDIS_PORT

from ozoasync import CampaignDataDeletion, CloudAgentClient, RateLimit, RedisCoordination

# Requests in flight per worker, as a web worker would have.
CONCURRENCY = 8


async def main(job: dict[str, Any]) -> list[str]:
    client = redis.asyncio.Redis(host=REDIS_HOST, port=job.get("redis_port", REDIS_PORT))
    await client.ping()
    coordination = RedisCoordination(client, prefix=job["prefix"])
    limit = job["rate_limit"]
    async with CloudAgentClient(
        job["username"],
        job["api_key"],
        auth=job["auth"],
        base_url=job["url"],
        retry=FAST_RETRY,
        timeout=5.0,
        rate_limits={"deleteCampaignData": RateLimit(*limit) if limit else None},
        coordination=coordination,
    ) as ca:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def delete(number: str) -> CampaignDataDeletion:
            async with gate:
                return await ca.campaign_data.delete(job["campaign"], number)

        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        results = await asyncio.gather(*(delete(number) for number in job["numbers"]))
    await coordination.aclose()
    await client.aclose()
    return [result.outcome.value for result in results]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))), flush=True)
