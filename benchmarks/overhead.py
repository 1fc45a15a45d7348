"""Client overhead: the same 2,000 chunked block-number requests (100 numbers each) against
the emulator, through ozoasync and through hand-written raw aiohttp calls, in one run.

    python benchmarks/overhead.py [--requests 2000] [--rounds 2] [--telemetry off|on|sdk]

The emulator runs in a child process; each side deletes its own, freshly seeded numbers, one
request after the other, and the order of the sides alternates over the rounds. Wall time is
what a user waits; CPU time is the client process's own work (what ozoasync adds:
validation, chunking, the retry layer, logging calls, typed decoding). The ozoasync side runs
with ``telemetry=False``. ``--telemetry on`` adds a third side with telemetry on and
OpenTelemetry's API without providers (what an application that has ``ozoasync[otel]``
installed but no SDK pays); ``--telemetry sdk`` the same with the OpenTelemetry SDK recording
every span (through a batch processor to an exporter that drops them) and every metric.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
from _emulator import Emulator, emulator_process, numbers

from ozoasync import CloudAgentClient

GROUP = 1
CHUNK = 100
FIRST = 9_000_000_000
WARM_UP = 10 * CHUNK


async def through_ozoasync(emulator: Emulator, start: int, count: int, *, telemetry: bool) -> int:
    async with CloudAgentClient(
        emulator.username, emulator.api_key, base_url=emulator.url, telemetry=telemetry
    ) as ca:
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


async def run(emulator: Emulator, requests: int, rounds: int, telemetry: str) -> None:
    count = requests * CHUNK
    sides: dict[str, Side] = {
        "raw aiohttp": through_raw_aiohttp,
        "ozoasync": functools.partial(through_ozoasync, telemetry=False),
    }
    if telemetry != "off":
        if telemetry == "sdk":
            install_sdk()
        sides[f"telemetry {telemetry}"] = functools.partial(through_ozoasync, telemetry=True)
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
                f"round {round_number + 1} {name:>13}: {requests} requests in {wall:.2f} s "
                f"({requests / wall:,.0f}/s), client CPU {cpu:.2f} s "
                f"({cpu / requests * 1e6:.0f} us/request)"
            )
    raw_wall, raw_cpu = totals["raw aiohttp"]
    for name, (wall, cpu) in totals.items():
        if name != "raw aiohttp":
            print(
                f"ratio {name} / raw aiohttp: wall {wall / raw_wall:.2f}x, "
                f"client CPU {cpu / raw_cpu:.2f}x"
            )
    if telemetry != "off":
        (off_wall, off_cpu), (on_wall, on_cpu) = (
            totals["ozoasync"],
            totals[f"telemetry {telemetry}"],
        )
        extra = (on_cpu - off_cpu) / (rounds * requests) * 1e6
        print(
            f"telemetry {telemetry} / off: wall {on_wall / off_wall:.2f}x, client CPU "
            f"{on_cpu / off_cpu:.2f}x ({extra:+.0f} us/request)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--telemetry", choices=("off", "on", "sdk"), default="off")
    args = parser.parse_args()
    count = args.requests * CHUNK
    # Every side of every round deletes numbers of its own, all seeded up front.
    sides = 2 if args.telemetry == "off" else 3
    seeded = (FIRST, WARM_UP + sides * args.rounds * count)
    with emulator_process(groups={GROUP: seeded}) as emulator:
        asyncio.run(run(emulator, args.requests, args.rounds, args.telemetry))


if __name__ == "__main__":
    main()
