"""Rate-limit benchmark: how many requests four schedules send per window, and how many each
server reading of "N per T" would reject.

Each schedule runs for real (asyncio, wall clock) over a time-scaled minute: by default
N = 100 per T = 6 s, ten times faster than the vendor's minute, for two windows, with
demand always waiting (20 coroutines asking for slots). Send times get a random arrival
jitter (by default 0-30 ms, 0.5% of the window, as 0.3 s would be of a minute) and are
replayed through the four readings of :mod:`ozoasync.testing.readings`. The "restart"
scenario kills the process 90% into the first window (its limiter state is lost) and starts
a fresh one.

    .venv/bin/python benchmarks/rate_limit.py [--requests 100] [--period 6] [--windows 2]
        [--jitter 0.03] [--waiters 20] [--seed 1] [--redis redis://127.0.0.1:6379/0]

``--redis`` adds the default schedule shared through a RedisCoordination (a key prefix of
its own; a restarted process is a new RedisCoordination over the same Redis state).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import platform
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import version

from aiolimiter import AsyncLimiter

from ozoasync import RateLimit
from ozoasync.testing.readings import (
    FixedWindow,
    Reading,
    SlidingCounter,
    SlidingLog,
    TokenBucket,
    max_in_window,
    rejections,
)
from ozoasync.transport.ratelimit import InProcessLimiter

Acquire = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Schedule:
    """A way to pace requests: ``start`` makes the pacing state of one (new) process."""

    name: str
    start: Callable[[], Acquire]
    waiters: int


class SleepLoop:
    """One loop that sends, then sleeps one interval: the naive hand-written pacing."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.first = True

    async def acquire(self) -> None:
        if not self.first:
            await asyncio.sleep(self.interval)
        self.first = False


def schedules(n: int, period: float, waiters: int, redis_url: str | None) -> list[Schedule]:
    def ozoasync(limit: RateLimit) -> Acquire:
        return functools.partial(InProcessLimiter().acquire, "key", limit)

    even, burst = RateLimit(n, period), RateLimit(n, period, burst=True)
    found = [
        Schedule("ozoasync even spacing (default)", lambda: ozoasync(even), waiters),
        Schedule("ozoasync burst mode", lambda: ozoasync(burst), waiters),
        Schedule(f"AsyncLimiter({n}, T)", lambda: AsyncLimiter(n, period).acquire, waiters),
        Schedule(f"sleep(T/{n}) loop", lambda: SleepLoop(period / n).acquire, 1),
    ]
    if redis_url is not None:
        import redis.asyncio

        from ozoasync import RedisCoordination

        prefix = f"ozoasync-bench-{uuid.uuid4().hex}"
        client = redis.asyncio.Redis.from_url(redis_url)

        def shared() -> Acquire:
            return functools.partial(RedisCoordination(client, prefix=prefix).acquire, "key", even)

        found.insert(1, Schedule("ozoasync even spacing, RedisCoordination", shared, waiters))
    return found


async def drive(schedule: Schedule, duration: float, restart_at: float | None) -> list[float]:
    """Send times (seconds from the start) with demand always waiting."""
    sends: list[float] = []
    started = time.monotonic()

    async def waiter(acquire: Acquire) -> None:
        while True:
            await acquire()
            sends.append(time.monotonic() - started)

    async def process(until: float) -> None:
        acquire = schedule.start()
        tasks = [asyncio.create_task(waiter(acquire)) for _ in range(schedule.waiters)]
        await asyncio.sleep(until - (time.monotonic() - started))
        # Python 3.11's asyncio.wait_for (which redis-py uses) can swallow a cancellation
        # that arrives as its operation completes: cancel until every waiter has stopped.
        while pending := [task for task in tasks if not task.done()]:
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=0.1)

    if restart_at is not None:
        await process(restart_at)
    await process(duration)
    return sends


def worst_alignment(make: Callable[[float], Reading], period: float, arrivals: list[float]) -> int:
    """Rejections of a clock-aligned reading, at the worst of ten window alignments."""
    return max(rejections(make(k * period / 10), arrivals) for k in range(10))


def row(
    name: str, scenario: str, sends: list[float], arrivals: list[float], n: int, period: float
) -> list[str]:
    first_window = sum(1 for s in sends if s < period)
    readings = [
        worst_alignment(lambda origin: FixedWindow(n, period, origin), period, arrivals),
        rejections(SlidingLog(n, period), arrivals),
        worst_alignment(lambda origin: SlidingCounter(n, period, origin), period, arrivals),
        rejections(TokenBucket(n, period, capacity=n), arrivals),
        rejections(TokenBucket(n, period, capacity=10), arrivals),
    ]
    return [
        name,
        scenario,
        str(len(sends)),
        f"{first_window / n:.2f}",
        f"{max_in_window(sends, period) / n:.2f}",
        *(str(count) for count in readings),
    ]


HEADER = [
    "schedule",
    "scenario",
    "sent",
    "first window / N",
    "busiest window / N",
    "fixed window",
    "sliding log",
    "sliding counter",
    "bucket C=N",
    "bucket C=10",
]


def markdown(rows: list[list[str]]) -> str:
    lines = [HEADER, ["---"] * 2 + ["---:"] * (len(HEADER) - 2), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="N (default 100)")
    parser.add_argument("--period", type=float, default=6.0, help="T in seconds (default 6)")
    parser.add_argument("--windows", type=float, default=2.0, help="run length in T (2)")
    parser.add_argument("--jitter", type=float, default=0.03, help="max arrival jitter (0.03)")
    parser.add_argument("--waiters", type=int, default=20, help="coroutines asking (20)")
    parser.add_argument("--seed", type=int, default=1, help="jitter seed (1)")
    parser.add_argument("--redis", default=None, help="also run the schedule on this Redis")
    args = parser.parse_args()
    n, period = args.requests, args.period
    duration = args.windows * period
    rng = random.Random(args.seed)

    print(
        f"N = {n} per T = {period:g} s, {args.windows:g} windows per run, "
        f"{args.waiters} waiters, arrival jitter 0-{args.jitter * 1000:g} ms, seed {args.seed}"
    )
    print(
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, aiolimiter {version('aiolimiter')}"
    )
    print("Rejections: fixed window and sliding counter at the worst of 10 window alignments.\n")
    rows = []
    for schedule in schedules(n, period, args.waiters, args.redis):
        for scenario, restart_at in (("steady", None), ("restart", 0.9 * period)):
            sends = await drive(schedule, duration, restart_at)
            arrivals = [s + rng.uniform(0, args.jitter) for s in sends]
            rows.append(row(schedule.name, scenario, sends, arrivals, n, period))
            print(f"  done: {schedule.name}, {scenario}", file=sys.stderr)
    print(markdown(rows))


if __name__ == "__main__":
    asyncio.run(main())
