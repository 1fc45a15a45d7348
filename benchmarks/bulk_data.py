"""Forgetting numbers across campaigns: deleteCampaignData alone vs DeleteBulkData.

Numbers removed per minute from N campaigns at the vendor's limits, time-scaled: the vendor's
minute becomes ``60 / scale`` seconds. deleteCampaignData is one number x one campaign per
request at 100 per minute; DeleteBulkData is up to 100 numbers x 100 campaigns per request at
2 per minute, one in flight. The emulator enforces both limits strictly (counted on arrival),
the client runs its default schedules (``RateLimit(100, period)`` and ``RateLimit(2, period,
concurrency=1)``), and every number is seeded in every campaign. A number counts as removed
when it is gone from all N campaigns; a process's first send waits one interval, as in the
other benchmarks, so short runs understate the steady rate a little.

    .venv/bin/python benchmarks/bulk_data.py [--scale 60] [--campaigns 1 10 100]
        [--single-requests 300] [--bulk-numbers 800]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import time
from dataclasses import dataclass

from ozoasync import CloudAgentClient, InProcessCoordination, RateLimit
from ozoasync.testing import FakeCloudAgent


@dataclass(frozen=True)
class Run:
    mode: str
    campaigns: int
    numbers: int
    requests: int
    rejected: int
    minutes: float  # vendor minutes (scaled back)
    left: int

    @property
    def per_minute(self) -> float:
        return self.numbers / self.minutes


def phones(count: int) -> list[str]:
    return [str(9000000000 + i) for i in range(count)]


async def run(mode: str, campaigns: int, numbers: int, period: float) -> Run:
    names = [f"campaign-{i}" for i in range(campaigns)]
    numbers_list = phones(numbers)
    server_limits = {"deleteCampaignData": (100, period), "DeleteBulkData": (2, period)}
    async with FakeCloudAgent(rate_limits=server_limits) as fake:
        for name in names:
            fake.add_campaign(name, numbers_list)
        limits = {
            "deleteCampaignData": RateLimit(100, period),
            "DeleteBulkData": RateLimit(2, period, concurrency=1),
        }
        async with CloudAgentClient(
            fake.username,
            fake.api_key,
            base_url=fake.url,
            rate_limits=limits,
            coordination=InProcessCoordination(),
        ) as ca:
            started = time.monotonic()
            if mode == "deleteCampaignData":

                async def one(name: str) -> None:
                    async for _ in ca.campaign_data.delete_many(name, numbers_list):
                        pass

                await asyncio.gather(*(one(name) for name in names))
            else:
                async for _ in ca.campaign_data.delete_across(names, numbers_list):
                    pass
            elapsed = time.monotonic() - started
        return Run(
            mode=mode,
            campaigns=campaigns,
            numbers=numbers,
            requests=len(fake.requests),
            rejected=sum(r.rejected for r in fake.requests),
            minutes=elapsed / period,
            left=sum(len(n) for n in fake.campaigns.values()),
        )


def markdown(runs: list[Run]) -> str:
    lines = [
        "| campaigns | mode | numbers | requests | vendor minutes | numbers removed / minute "
        "| rejected | left |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.campaigns} | {r.mode} | {r.numbers} | {r.requests} | {r.minutes:.2f} "
            f"| {r.per_minute:.1f} | {r.rejected} | {r.left} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=60.0, help="vendor minute / 60 s")
    parser.add_argument("--campaigns", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument(
        "--single-requests",
        type=int,
        default=300,
        help="deleteCampaignData requests per run (numbers = this / campaigns)",
    )
    parser.add_argument("--bulk-numbers", type=int, default=800)
    args = parser.parse_args()
    period = 60.0 / args.scale
    print(
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; the vendor's minute = {period:g} s ({args.scale:g}x)\n"
    )
    runs = []
    for campaigns in args.campaigns:
        single = max(1, math.ceil(args.single_requests / campaigns))
        runs.append(await run("deleteCampaignData", campaigns, single, period))
        runs.append(await run("DeleteBulkData", campaigns, args.bulk_numbers, period))
    print(markdown(runs))


if __name__ == "__main__":
    asyncio.run(main())
