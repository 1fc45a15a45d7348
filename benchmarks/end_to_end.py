"""End to end: numbers per second of a bulk cleanup at a time-scaled limit, against the limit.

    python benchmarks/end_to_end.py [--numbers 600] [--period 3.0] [--concurrency 1 8 32]
        [--redis redis://127.0.0.1:6379/0 [--timer-slack 0.002]]

deleteCampaignData allows 100 requests per minute. Here the minute is scaled down to
``--period`` seconds on both sides: the emulator rejects any request beyond 100 in any sliding
``period`` (counted on arrival, the strictest reading), and the client runs its default
schedule for that limit, ``RateLimit(100, period)`` (even spacing with a 2% margin).
delete_many then deletes ``--numbers`` seeded numbers; the pace is measured from the wall
clock and from the emulator's arrival times. ``--redis`` shares the schedule through a
RedisCoordination (a key prefix of its own) instead of the in-process one; ``--timer-slack``
sets how early its waiters wake before their slot (0: sleep right up to it).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ozoasync import (
    CloudAgentClient,
    Coordination,
    InProcessCoordination,
    Outcome,
    RateLimit,
    RedisCoordination,
)
from ozoasync.testing import FakeCloudAgent

CAMPAIGN = "cleanup"
LIMIT = 100
ENDPOINT = "deleteCampaignData"


def busiest_window(arrivals: list[float], period: float) -> int:
    """The most arrivals in any sliding window of ``period`` seconds."""
    return max(
        bisect.bisect_left(arrivals, start + period) - index for index, start in enumerate(arrivals)
    )


@asynccontextmanager
async def coordination(redis_url: str | None, timer_slack: float) -> AsyncIterator[Coordination]:
    if redis_url is None:
        yield InProcessCoordination()
        return
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    prefix = f"ozoasync-bench-{uuid.uuid4().hex}"
    try:
        yield RedisCoordination(client, prefix=prefix, timer_slack=timer_slack)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def run(
    count: int, period: float, concurrency: int, redis_url: str | None, timer_slack: float
) -> None:
    numbers = [str(9_000_000_000 + index) for index in range(count)]
    async with (
        FakeCloudAgent(rate_limits={ENDPOINT: (LIMIT, period)}) as fake,
        coordination(redis_url, timer_slack) as shared,
    ):
        fake.add_campaign(CAMPAIGN, numbers)
        async with CloudAgentClient(
            fake.username,
            fake.api_key,
            base_url=fake.url,
            rate_limits={ENDPOINT: RateLimit(LIMIT, period)},
            coordination=shared,
        ) as ca:
            started = time.perf_counter()
            deleted = 0
            async for result in ca.campaign_data.delete_many(
                CAMPAIGN, iter(numbers), concurrency=concurrency
            ):
                deleted += result.outcome is Outcome.DELETED
            elapsed = time.perf_counter() - started
        arrivals = [r.arrived for r in fake.requests_to(ENDPOINT)]
    limit_rate = LIMIT / period
    steady = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    print(
        f"concurrency {concurrency:>2}: {deleted}/{count} deleted in {elapsed:5.2f} s = "
        f"{count / elapsed:6.1f} numbers/s ({count / elapsed / limit_rate:5.1%} of the limit); "
        f"steady {steady:6.1f}/s ({steady / limit_rate:5.1%}); "
        f"busiest {period} s window {busiest_window(arrivals, period)}/{LIMIT}; "
        f"rejected {fake.counters['rejected']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=600)
    parser.add_argument("--period", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--redis", default=None, help="share the schedule through this Redis")
    parser.add_argument("--timer-slack", type=float, default=0.002)
    args = parser.parse_args()
    print(
        f"limit: {LIMIT} requests per {args.period} s = {LIMIT / args.period:.1f}/s "
        f"({60 / args.period:.0f}x the vendor's 100 per minute)"
    )
    for concurrency in args.concurrency:
        asyncio.run(run(args.numbers, args.period, concurrency, args.redis, args.timer_slack))


if __name__ == "__main__":
    main()
