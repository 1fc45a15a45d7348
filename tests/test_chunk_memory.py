"""Memory stays flat on the streaming chunk path: ``delete_chunks`` and the command line's
block-number run over ten times the numbers peak at (about) the same traced memory, because
nothing holds the whole input or the merged result (de-duplication is bounded; see
ozoasync.batching). The emulator runs in a child process, so that only the client's
allocations are traced."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import tracemalloc
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from ozoasync import CloudAgentClient, InProcessCoordination, Outcome, cli
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


@pytest.fixture
def emulator_url() -> Iterator[str]:
    """A FakeCloudAgent with an empty group GROUP, in a child process."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_emulator, args=(child,), daemon=True)
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(10)


async def test_delete_chunks_memory_is_flat_from_20k_to_200k_numbers(emulator_url: str) -> None:
    small = await peak_of_delete_chunks(emulator_url, 20_000)
    large = await peak_of_delete_chunks(emulator_url, 200_000)
    assert large < 2 * small, (small, large)


def peak_of_the_command_line(tmp_path: Path, count: int) -> int:
    """The traced peak of ``ozoasync block-numbers delete`` over a file of ``count`` numbers,
    every line reported as a JSON line as it finishes (to a file: a captured stdout would
    itself hold every line)."""
    source = tmp_path / f"numbers-{count}.txt"
    source.write_text("".join(f"{number}\n" for number in numbers(count)))
    report = tmp_path / f"report-{count}.jsonl"
    argv = ["block-numbers", "delete", "--group", str(GROUP), "--output", "jsonl", str(source)]
    with report.open("w") as out, contextlib.redirect_stdout(out):
        tracemalloc.start()
        try:
            code = cli.run(argv)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert code == 0
    with report.open() as lines:
        assert sum(1 for _ in lines) == count  # one line per number
    return peak


def test_the_command_line_memory_is_flat_from_20k_to_200k_numbers(
    emulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OZONETEL_BASE_URL", emulator_url)
    monkeypatch.setenv("OZONETEL_USERNAME", "demo")
    monkeypatch.setenv("OZONETEL_API_KEY", "KK-demo-key")
    small = peak_of_the_command_line(tmp_path, 20_000)
    large = peak_of_the_command_line(tmp_path, 200_000)
    assert large < 2 * small, (small, large)
