"""Memory: delete_many over a generator of 1,000,000 numbers against the emulator (rate limit
lifted), results consumed and discarded. The client's resident memory must not grow with the
input.

    python benchmarks/memory.py [--count 1000000] [--concurrency 8]

The emulator runs in a child process (its own record of requests is not the client's memory).
RSS is read from /proc/self/status: VmRSS now, VmHWM the peak so far. Takes minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Iterator

from _emulator import Emulator, emulator_process

from ozoasync import CloudAgentClient

CAMPAIGN = "cleanup"
FIRST = 9_000_000_000


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


async def run(emulator: Emulator, count: int, concurrency: int) -> None:
    checkpoints = sorted({c for c in (10_000, 100_000, 500_000, count) if c <= count})
    outcomes: Counter[str] = Counter()
    async with CloudAgentClient(
        emulator.username,
        emulator.api_key,
        base_url=emulator.url,
        rate_limits={"deleteCampaignData": None},
    ) as ca:
        started = time.perf_counter()
        done = 0
        stream = ca.campaign_data.delete_many(CAMPAIGN, numbers(count), concurrency=concurrency)
        async for result in stream:
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
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"before the run: RSS {rss_mib()[0]:.1f} MiB")
    with emulator_process(campaigns={CAMPAIGN: (FIRST, args.count)}) as emulator:
        asyncio.run(run(emulator, args.count, args.concurrency))


if __name__ == "__main__":
    main()
