"""Memory: a bulk call over a generator of 1,000,000 numbers against the emulator (rate limit
lifted), results consumed and discarded. The client's resident memory must not grow with the
input.

    python benchmarks/memory.py [--operation delete_many|delete_chunks] [--count 1000000]
                                [--concurrency 8]

``delete_many``: campaign_data.delete_many, one request per number, ``concurrency`` at once.
``delete_chunks``: block_numbers.delete_chunks, 100 numbers per request, one after another.

The emulator runs in a child process (its own record of requests is not the client's memory).
RSS is read from /proc/self/status: VmRSS now, VmHWM the peak so far. Takes minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

from _emulator import Emulator, emulator_process

from ozoasync import CloudAgentClient, NumberResult

CAMPAIGN = "cleanup"
GROUP = 7
FIRST = 9_000_000_000
OPERATIONS = ("delete_many", "delete_chunks")


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process, in MiB."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def numbers(count: int) -> Iterator[str]:
    return (str(FIRST + index) for index in range(count))


async def results(
    ca: CloudAgentClient, operation: str, count: int, concurrency: int
) -> AsyncIterator[NumberResult]:
    """Every number's result, as the operation yields it."""
    if operation == "delete_many":
        async for result in ca.campaign_data.delete_many(
            CAMPAIGN, numbers(count), concurrency=concurrency
        ):
            yield result
        return
    async for chunk in ca.block_numbers.delete_chunks(GROUP, numbers(count)):
        for item in chunk.items:
            yield item


async def run(emulator: Emulator, operation: str, count: int, concurrency: int) -> None:
    checkpoints = sorted({c for c in (10_000, 100_000, 500_000, count) if c <= count})
    outcomes: Counter[str] = Counter()
    async with CloudAgentClient(
        emulator.username,
        emulator.api_key,
        base_url=emulator.url,
        rate_limits={"deleteCampaignData": None, "deleteBlockNumberGroup": None},
    ) as ca:
        started = time.perf_counter()
        done = 0
        async for result in results(ca, operation, count, concurrency):
            outcomes[result.outcome.value] += 1
            done += 1
            if done == checkpoints[0]:
                checkpoints.pop(0)
                elapsed = time.perf_counter() - started
                current, peak = rss_mib()
                print(
                    f"{done:>9,} numbers  {elapsed:7.1f} s  {done / elapsed:6,.0f}/s  "
                    f"RSS {current:6.1f} MiB  peak RSS {peak:6.1f} MiB",
                    flush=True,
                )
    print("outcomes:", dict(outcomes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operation", choices=OPERATIONS, default="delete_many")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.operation}: before the run: RSS {rss_mib()[0]:.1f} MiB")
    seeded = (FIRST, args.count)
    many = args.operation == "delete_many"
    with emulator_process(
        campaigns={CAMPAIGN: seeded} if many else None, groups=None if many else {GROUP: seeded}
    ) as emulator:
        asyncio.run(run(emulator, args.operation, args.count, args.concurrency))


if __name__ == "__main__":
    main()
