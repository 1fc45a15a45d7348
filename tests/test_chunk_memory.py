"""Memory stays flat on the streaming chunk path: ``delete_chunks`` over ten times the numbers
peaks at (about) the same traced memory, because nothing holds the whole input or the merged
result (de-duplication is bounded; see ozoasync.batching). The emulator runs in a child
process, so that only the client's allocations are traced."""

from __future__ import annotations

import asyncio
import multiprocessing
import tracemalloc
from collections.abc import Iterator
from multiprocessing.connection import Connection

from ozoasync import CloudAgentClient, InProcessCoordination, Outcome
from ozoasync.testing import FakeCloudAgent

GROUP = 5


def numbers(count: int) -> Iterator[str]:
    return (str(9_000_000_000 + n) for n in range(count))


async def _serve(conn: Connection) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_block_group(GROUP)  # empty: every number is not found, the state stays empty
        conn.send(fake.url)
        while not conn.poll():
            fake.requests.clear()  # the emulator records every request
            await asyncio.sleep(0.05)


def _emulator(conn: Connection) -> None:
    asyncio.run(_serve(conn))


async def peak_of_delete_chunks(url: str, count: int) -> int:
    """The traced peak while streaming ``count`` numbers through delete_chunks."""
    async with CloudAgentClient(
        "demo", "KK-demo-key", base_url=url, coordination=InProcessCoordination()
    ) as ca:
        seen = 0
        tracemalloc.start()
        try:
            async for chunk in ca.block_numbers.delete_chunks(GROUP, numbers(count)):
                assert chunk.items[-1].outcome is Outcome.NOT_FOUND
                seen += len(chunk.items)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert seen == count
    return peak


async def test_delete_chunks_memory_is_flat_from_20k_to_200k_numbers() -> None:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_emulator, args=(child,), daemon=True)
    process.start()
    try:
        url = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
        small = await peak_of_delete_chunks(url, 20_000)
        large = await peak_of_delete_chunks(url, 200_000)
    finally:
        parent.send("stop")
        process.join(10)
    assert large < 2 * small, (small, large)
