"""FakeCloudAgent in a child process, so the benchmarked client has its process (its CPU and
its memory) to itself."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection

from ozoasync.testing import FakeCloudAgent


@dataclass(frozen=True)
class Emulator:
    url: str
    username: str
    api_key: str


Span = tuple[int, int]
"""Numbers ``start, start + 1, ... start + count - 1``, as (start, count)."""


def numbers(start: int, count: int) -> Iterator[str]:
    return (str(start + index) for index in range(count))


async def _serve(conn: Connection, campaigns: dict[str, Span], groups: dict[int, Span]) -> None:
    async with FakeCloudAgent() as fake:
        for name, span in campaigns.items():
            fake.add_campaign(name, numbers(*span))
        for group_id, span in groups.items():
            fake.add_block_group(group_id, numbers(*span))
        conn.send(Emulator(fake.url, fake.username, fake.api_key))
        while True:
            # The emulator records every request; a benchmark of a million would fill memory.
            await asyncio.sleep(1.0)
            fake.requests.clear()


def _main(conn: Connection, campaigns: dict[str, Span], groups: dict[int, Span]) -> None:
    asyncio.run(_serve(conn, campaigns, groups))


@contextmanager
def emulator_process(
    campaigns: dict[str, Span] | None = None, groups: dict[int, Span] | None = None
) -> Iterator[Emulator]:
    """A FakeCloudAgent seeded with ``campaigns`` and block-number ``groups``, running in a
    child process until the block ends."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(
        target=_main, args=(child, campaigns or {}, groups or {}), daemon=True
    )
    process.start()
    try:
        emulator: Emulator = parent.recv()
        yield emulator
    finally:
        process.terminate()
        process.join()
