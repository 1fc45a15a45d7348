"""Job store throughput and memory: submit, resume and export of N numbers on both stores.

For each store (a SQLite file in a temporary directory; a PostgreSQL schema of its own,
dropped after):

- **submit**: N lazily generated numbers streamed in (nothing holds the input in memory);
- **resume**: a submission interrupted half-way (its input breaks), then the whole input
  submitted again: the database drops what it has, the lines are counted once;
- **again**: the complete input submitted a third time (adds nothing);
- **export**: every row streamed back with ``store.results`` (the audit record).

Memory is the process's resident set (``/proc/self/statm``) sampled every 0.1 s: flat means
the peak of each phase stays near the RSS it started at, whatever N.

    .venv/bin/python benchmarks/jobs.py --numbers 2000000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import asyncpg

from ozoasync.jobs import Account, DeleteCampaignData, JobStore, open_store

OPERATION = DeleteCampaignData(campaign="benchmark")
ACCOUNT = Account.cloudagent("bench", "http://127.0.0.1:1")
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def numbers(count: int, *, break_at: int | None = None) -> Iterator[str]:
    for i in range(count):
        if i == break_at:
            raise OSError("the input broke")
        yield f"9{i:09d}"


async def measured(label: str, count: int, work: Awaitable[object]) -> None:
    start_rss, peak = rss_mib(), rss_mib()

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, rss_mib())
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    with suppress(OSError):
        await work
    elapsed = time.perf_counter() - started
    sampler.cancel()
    print(
        f"  {label:<8} {count:>10,} in {elapsed:7.1f} s  {count / elapsed:>9,.0f}/s  "
        f"RSS {start_rss:6.1f} -> peak {peak:6.1f} MiB (+{peak - start_rss:.1f})"
    )


async def export(store: JobStore, name: str) -> None:
    async for _ in store.results(name):
        pass


async def run(store: JobStore, count: int) -> None:
    await measured("submit", count, store.submit(OPERATION, numbers(count), account=ACCOUNT))
    half = count // 2
    broken = store.submit(OPERATION, numbers(count, break_at=half), account=ACCOUNT, name="resumed")
    await measured("break", half, broken)
    resumed = store.submit(OPERATION, numbers(count), account=ACCOUNT, name="resumed")
    await measured("resume", count, resumed)
    await measured("again", count, store.submit(OPERATION, numbers(count), account=ACCOUNT))
    status = await store.status("resumed")
    assert (status.total, status.lines, status.duplicates) == (count, count, 0), status
    await measured("export", count, export(store, "resumed"))


@asynccontextmanager
async def sqlite_store() -> AsyncIterator[JobStore]:
    with tempfile.TemporaryDirectory() as directory:
        store = await open_store(Path(directory) / "jobs.db")
        try:
            yield store
        finally:
            await store.close()


@asynccontextmanager
async def postgres_store(url: str) -> AsyncIterator[JobStore]:
    schema = f"ozo_bench_{uuid.uuid4().hex[:12]}"
    store = await open_store(url, schema=schema)
    try:
        yield store
    finally:
        await store.close()
        connection = await asyncpg.connect(url)
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=2_000_000)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for name in args.stores.split(","):
        print(f"{name}: {args.numbers:,} numbers")
        opened = sqlite_store() if name == "sqlite" else postgres_store(args.postgres_url)
        async with opened as store:
            await run(store, args.numbers)


if __name__ == "__main__":
    asyncio.run(main())
