"""A worker process for the multi-process job tests: works one job of a store with a
client whose rate limit is shared through Redis, then prints its WorkReport as JSON.

argv[1]: JSON with store, schema, job, url, username, api_key, prefix, max_requests,
period, batch, lease, concurrency.
"""

from __future__ import annotations

import asyncio
import json
import sys

import msgspec
import redis.asyncio

from ozoasync import CloudAgentClient, RateLimit, RedisCoordination, RetryPolicy
from ozoasync.jobs import open_store


async def main(config: dict[str, object]) -> None:
    redis_client = redis.asyncio.Redis(host="127.0.0.1", port=6379)
    limit = RateLimit(int(str(config["max_requests"])), period=float(str(config["period"])))
    async with (
        await open_store(str(config["store"]), schema=config["schema"] or None) as store,  # type: ignore[arg-type]
        CloudAgentClient(
            str(config["username"]),
            str(config["api_key"]),
            base_url=str(config["url"]),
            rate_limits={"deleteCampaignData": limit},
            coordination=RedisCoordination(redis_client, prefix=str(config["prefix"])),
            retry=RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05),
        ) as ca,
    ):
        report = await store.work(
            str(config["job"]),
            ca,
            batch=int(str(config["batch"])),
            lease=float(str(config["lease"])),
            concurrency=int(str(config["concurrency"])),
            poll=0.2,
        )
    await redis_client.aclose()
    sys.stdout.write(msgspec.json.encode(report).decode() + "\n")


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
