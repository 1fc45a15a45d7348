"""Client overhead: the same requests against the emulator, through ozoasync and through
hand-written raw aiohttp calls, in one run. Workloads: ``block`` (2,000 chunked block-number
requests of 100 numbers, one after the other), ``delete_many`` (campaign-data deletes, 8 at
once, rate limit lifted) and ``gathered`` (single campaign-data deletes gathered 8 at a time).

    python benchmarks/overhead.py [--workload block|delete_many|gathered|all] [--requests N]
        [--rounds 2] [--telemetry off|on|sdk]

The emulator runs in a child process; each side deletes its own, freshly seeded numbers, one
request after the other, and the sides alternate over the rounds. Wall time is what a user
waits; CPU time is the client process's own work (what ozoasync adds: validation, chunking,
the retry layer, logging calls, typed decoding). The ozoasync side runs with
``telemetry=False``. ``--telemetry on`` adds a third side with telemetry on and
OpenTelemetry's API without providers (what an application that has ``ozoasync[otel]``
installed but no SDK pays); ``--telemetry sdk`` the same with the OpenTelemetry SDK recording
every span (through a batch processor to an exporter that drops them) and every metric.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
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

Side = Callable[[Emulator, int, int], Awaitable[int]]
"""Deletes ``count`` numbers from ``start`` and returns how many requests succeeded."""

Calls = Callable[[CloudAgentClient, int, int], Awaitable[int]]
"""A workload's calls through an open client, as a side does them."""


def through_ozoasync(calls: Calls, *, telemetry: bool) -> Side:
    """The ozoasync side of a workload: a client of its own (inside the timing, as a user's
    script opens one), with deleteCampaignData's rate limit lifted."""

    async def side(emulator: Emulator, start: int, count: int) -> int:
        async with CloudAgentClient(
            emulator.username,
            emulator.api_key,
            base_url=emulator.url,
            rate_limits={"deleteCampaignData": None},
            telemetry=telemetry,
        ) as ca:
            return await calls(ca, start, count)

    return side


async def block_calls(ca: CloudAgentClient, start: int, count: int) -> int:
    result = await ca.block_numbers.delete(GROUP, numbers(start, count))
    assert result.ok, result.failed[:3]
    return result.requests


async def delete_many_calls(ca: CloudAgentClient, start: int, count: int) -> int:
    stream = ca.campaign_data.delete_many(CAMPAIGN, numbers(start, count), concurrency=CONCURRENCY)
    return sum([result.ok async for result in stream])


async def gathered_calls(ca: CloudAgentClient, start: int, count: int) -> int:
    done = 0
    for offset in range(start, start + count, CONCURRENCY):
        batch = numbers(offset, min(CONCURRENCY, start + count - offset))
        results = await asyncio.gather(
            *(ca.campaign_data.delete(CAMPAIGN, number) for number in batch)
        )
        done += sum(result.ok for result in results)
    return done


async def block_through_raw_aiohttp(emulator: Emulator, start: int, count: int) -> int:
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


@dataclass(frozen=True)
class Workload:
    calls: Calls
    raw: Side
    numbers_per_request: int


WORKLOADS = {
    "block": Workload(block_calls, block_through_raw_aiohttp, CHUNK),
    "delete_many": Workload(delete_many_calls, delete_many_through_raw_aiohttp, 1),
    "gathered": Workload(gathered_calls, gathered_through_raw_aiohttp, 1),
}


def install_sdk() -> None:
    """The OpenTelemetry SDK as an application would set it up, minus the network: every
    span recorded and batched to an exporter that drops it, every metric aggregated."""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Dropping(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Dropping()))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))


async def measure(
    side: Side, emulator: Emulator, start: int, count: int, expected: int
) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    requests = await side(emulator, start, count)
    assert requests == expected, (requests, expected)
    return time.perf_counter() - wall, time.process_time() - cpu


async def run(
    emulator: Emulator, name: str, requests: int, rounds: int, first: int, telemetry: str
) -> None:
    workload = WORKLOADS[name]
    count = requests * workload.numbers_per_request
    sides: dict[str, Side] = {
        "raw aiohttp": workload.raw,
        "ozoasync": through_ozoasync(workload.calls, telemetry=False),
    }
    if telemetry != "off":
        sides[f"telemetry {telemetry}"] = through_ozoasync(workload.calls, telemetry=True)
    width = max(map(len, sides))
    totals = {side: [0.0, 0.0] for side in sides}
    warm_up = WARM_UP if workload.numbers_per_request > 1 else WARM_UP // CHUNK * 10
    await workload.raw(emulator, first, warm_up)  # warm up the emulator
    start = first + warm_up
    print(f"workload {name}")
    for round_number in range(rounds):
        order = list(sides.items()) if round_number % 2 == 0 else list(sides.items())[::-1]
        for side_name, side in order:
            wall, cpu = await measure(side, emulator, start, count, requests)
            start += count
            totals[side_name][0] += wall
            totals[side_name][1] += cpu
            print(
                f"round {round_number + 1} {side_name:>{width}}: {requests} requests in "
                f"{wall:.2f} s ({requests / wall:,.0f}/s), client CPU {cpu:.2f} s "
                f"({cpu / requests * 1e6:.0f} us/request)"
            )
    raw_wall, raw_cpu = totals["raw aiohttp"]
    for side_name, (wall, cpu) in totals.items():
        if side_name != "raw aiohttp":
            print(
                f"ratio {side_name} / raw aiohttp: wall {wall / raw_wall:.2f}x, "
                f"client CPU {cpu / raw_cpu:.2f}x"
            )
    if telemetry != "off":
        off_wall, off_cpu = totals["ozoasync"]
        on_wall, on_cpu = totals[f"telemetry {telemetry}"]
        extra = (on_cpu - off_cpu) / (rounds * requests) * 1e6
        print(
            f"telemetry {telemetry} / off: wall {on_wall / off_wall:.2f}x, client CPU "
            f"{on_cpu / off_cpu:.2f}x ({extra:+.0f} us/request)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="block")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--telemetry", choices=("off", "on", "sdk"), default="off")
    args = parser.parse_args()
    names = list(WORKLOADS) if args.workload == "all" else [args.workload]
    if args.telemetry == "sdk":
        install_sdk()
    # Every side of every round deletes numbers of its own, all seeded up front.
    count = args.requests * CHUNK
    sides = 2 if args.telemetry == "off" else 3
    span = WARM_UP + sides * args.rounds * count
    with emulator_process(
        campaigns={CAMPAIGN: (FIRST, span * len(names))},
        groups={GROUP: (FIRST, span * len(names))},
    ) as emulator:
        for index, name in enumerate(names):
            first = FIRST + index * span
            asyncio.run(run(emulator, name, args.requests, args.rounds, first, args.telemetry))


if __name__ == "__main__":
    main()
