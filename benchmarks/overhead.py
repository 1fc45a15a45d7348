"""Client overhead: the same requests against the emulator, through ozoasync and through
hand-written raw aiohttp calls, in one run. Workloads: ``block`` (2,000 chunked block-number
requests of 100 numbers, one after the other), ``delete_many`` (campaign-data deletes, 8 at
once, rate limit lifted) and ``gathered`` (single campaign-data deletes gathered 8 at a time).

    python benchmarks/overhead.py [--workload block|delete_many|gathered|all] [--requests N]
        [--rounds 2]

The emulator runs in a child process; each side deletes its own, freshly seeded numbers, one
request after the other, and the two sides alternate over the rounds. Wall time is what a user
waits; CPU time is the client process's own work (what ozoasync adds: validation, chunking,
the retry layer, logging calls, typed decoding).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from _emulator import Emulator, emulator_process, numbers

from ozoasync import CloudAgentClient

GROUP = 1
CAMPAIGN = "bench"
CONCURRENCY = 8
CHUNK = 100
FIRST = 9_000_000_000
WARM_UP = 10 * CHUNK


async def through_ozoasync(emulator: Emulator, start: int, count: int) -> int:
    async with CloudAgentClient(emulator.username, emulator.api_key, base_url=emulator.url) as ca:
        result = await ca.block_numbers.delete(GROUP, numbers(start, count))
    assert result.ok, result.failed[:3]
    return result.requests


async def through_raw_aiohttp(emulator: Emulator, start: int, count: int) -> int:
    """What a careful hand-written client does: one DELETE per 100 numbers, check the answer."""
    url = f"{emulator.url}/ca_apis/deleteBlockNumberGroup"
    headers = {"apiKey": emulator.api_key, "Content-Type": "application/json"}
    requests = 0
    async with aiohttp.ClientSession() as session:
        for offset in range(start, start + count, CHUNK):
            chunk = list(numbers(offset, CHUNK))
            body = json.dumps({"userName": emulator.username, "id": GROUP, "blockNumbers": chunk})
            async with session.delete(url, data=body, headers=headers) as response:
                answer = json.loads(await response.read())
            requests += 1
            if str(answer.get("status", "")).lower() != "success" or answer["output"]["error"]:
                raise RuntimeError(f"unexpected answer: {answer}")
    return requests


def single_client(emulator: Emulator) -> CloudAgentClient:
    return CloudAgentClient(
        emulator.username,
        emulator.api_key,
        base_url=emulator.url,
        rate_limits={"deleteCampaignData": None},
    )


async def delete_many_through_ozoasync(emulator: Emulator, start: int, count: int) -> int:
    async with single_client(emulator) as ca:
        stream = ca.campaign_data.delete_many(
            CAMPAIGN, numbers(start, count), concurrency=CONCURRENCY
        )
        done = [result async for result in stream if result.ok]
    return len(done)


async def gathered_through_ozoasync(emulator: Emulator, start: int, count: int) -> int:
    async with single_client(emulator) as ca:
        done = 0
        for offset in range(start, start + count, CONCURRENCY):
            batch = numbers(offset, min(CONCURRENCY, start + count - offset))
            results = await asyncio.gather(
                *(ca.campaign_data.delete(CAMPAIGN, number) for number in batch)
            )
            done += sum(result.ok for result in results)
    return done


async def raw_delete(session: aiohttp.ClientSession, emulator: Emulator, number: str) -> bool:
    body = json.dumps(
        {"userName": emulator.username, "campaignName": CAMPAIGN, "phoneNumber": number}
    )
    headers = {"apiKey": emulator.api_key, "Content-Type": "application/json"}
    url = f"{emulator.url}/ca_apis/deleteCampaignData"
    async with session.delete(url, data=body, headers=headers) as response:
        answer = json.loads(await response.read())
    return str(answer.get("status", "")).lower() == "success"


async def delete_many_through_raw_aiohttp(emulator: Emulator, start: int, count: int) -> int:
    """A careful hand-written bulk delete: 8 workers over one queue of numbers."""
    pending = iter(numbers(start, count))

    async def worker(session: aiohttp.ClientSession) -> int:
        done = 0
        for number in pending:
            done += await raw_delete(session, emulator, number)
        return done

    async with aiohttp.ClientSession() as session:
        return sum(await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY))))


async def gathered_through_raw_aiohttp(emulator: Emulator, start: int, count: int) -> int:
    async with aiohttp.ClientSession() as session:
        done = 0
        for offset in range(start, start + count, CONCURRENCY):
            batch = numbers(offset, min(CONCURRENCY, start + count - offset))
            results = await asyncio.gather(*(raw_delete(session, emulator, n) for n in batch))
            done += sum(results)
    return done


Side = Callable[[Emulator, int, int], Awaitable[int]]


@dataclass(frozen=True)
class Workload:
    sdk: Side
    raw: Side
    numbers_per_request: int


WORKLOADS = {
    "block": Workload(through_ozoasync, through_raw_aiohttp, CHUNK),
    "delete_many": Workload(delete_many_through_ozoasync, delete_many_through_raw_aiohttp, 1),
    "gathered": Workload(gathered_through_ozoasync, gathered_through_raw_aiohttp, 1),
}


async def measure(
    side: Side, emulator: Emulator, start: int, count: int, expected: int
) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    requests = await side(emulator, start, count)
    assert requests == expected, (requests, expected)
    return time.perf_counter() - wall, time.process_time() - cpu


async def run(emulator: Emulator, name: str, requests: int, rounds: int, first: int) -> None:
    workload = WORKLOADS[name]
    count = requests * workload.numbers_per_request
    sides: dict[str, Side] = {"raw aiohttp": workload.raw, "ozoasync": workload.sdk}
    totals = {side: [0.0, 0.0] for side in sides}
    warm_up = WARM_UP if workload.numbers_per_request > 1 else WARM_UP // CHUNK * 10
    await workload.raw(emulator, first, warm_up)  # warm up the emulator
    start = first + warm_up
    print(f"workload {name}")
    for round_number in range(rounds):
        order = list(sides.items()) if round_number % 2 == 0 else list(sides.items())[::-1]
        for name, side in order:
            wall, cpu = await measure(side, emulator, start, count, requests)
            start += count
            totals[name][0] += wall
            totals[name][1] += cpu
            print(
                f"round {round_number + 1} {name:>11}: {requests} requests in {wall:.2f} s "
                f"({requests / wall:,.0f}/s), client CPU {cpu:.2f} s "
                f"({cpu / requests * 1e6:.0f} us/request)"
            )
    (raw_wall, raw_cpu), (sdk_wall, sdk_cpu) = totals["raw aiohttp"], totals["ozoasync"]
    print(
        f"ratio ozoasync / raw aiohttp: wall {sdk_wall / raw_wall:.2f}x, "
        f"client CPU {sdk_cpu / raw_cpu:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="block")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    names = list(WORKLOADS) if args.workload == "all" else [args.workload]
    # Every side of every round deletes numbers of its own, all seeded up front.
    count = args.requests * CHUNK
    span = WARM_UP + 2 * args.rounds * count
    with emulator_process(
        campaigns={CAMPAIGN: (FIRST, span * len(names))},
        groups={GROUP: (FIRST, span * len(names))},
    ) as emulator:
        for index, name in enumerate(names):
            asyncio.run(run(emulator, name, args.requests, args.rounds, FIRST + index * span))


if __name__ == "__main__":
    main()
