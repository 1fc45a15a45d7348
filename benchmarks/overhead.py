"""Client overhead: the same 2,000 chunked block-number requests (100 numbers each) against
the emulator, through ozoasync and through hand-written raw aiohttp calls, in one run.

    python benchmarks/overhead.py [--requests 2000] [--rounds 2]

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

import aiohttp
from _emulator import Emulator, emulator_process, numbers

from ozoasync import CloudAgentClient

GROUP = 1
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


Side = Callable[[Emulator, int, int], Awaitable[int]]


async def measure(side: Side, emulator: Emulator, start: int, count: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    requests = await side(emulator, start, count)
    assert requests == count // CHUNK
    return time.perf_counter() - wall, time.process_time() - cpu


async def run(emulator: Emulator, requests: int, rounds: int) -> None:
    count = requests * CHUNK
    sides: dict[str, Side] = {"raw aiohttp": through_raw_aiohttp, "ozoasync": through_ozoasync}
    totals = {name: [0.0, 0.0] for name in sides}
    await through_raw_aiohttp(emulator, FIRST, WARM_UP)  # warm up the emulator
    start = FIRST + WARM_UP
    for round_number in range(rounds):
        order = list(sides.items()) if round_number % 2 == 0 else list(sides.items())[::-1]
        for name, side in order:
            wall, cpu = await measure(side, emulator, start, count)
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
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    count = args.requests * CHUNK
    # Every side of every round deletes numbers of its own, all seeded up front.
    seeded = (FIRST, WARM_UP + 2 * args.rounds * count)
    with emulator_process(groups={GROUP: seeded}) as emulator:
        asyncio.run(run(emulator, args.requests, args.rounds))


if __name__ == "__main__":
    main()
