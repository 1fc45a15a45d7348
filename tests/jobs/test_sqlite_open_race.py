"""Processes that open one new SQLite job store at the same moment (web workers starting
together) all get the store: none is told it is "not a job store" because another was
switching it to WAL."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

OPEN = """
import asyncio, sys, time
from ozoasync.jobs import open_store

async def main() -> None:
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all start together
    async with await open_store(sys.argv[1]) as store:
        print(len(await store.jobs()))

asyncio.run(main())
"""


async def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    for round_ in range(2):  # the race is timing-dependent: several fresh files
        path = tmp_path / f"jobs-{round_}.db"
        start = time.time() + 1.5  # once every process has imported ozoasync
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                OPEN,
                str(path),
                str(start),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(8)
        ]
        outputs = [await process.communicate() for process in processes]
        assert [process.returncode for process in processes] == [0] * 8, outputs
        assert all(out.strip() == b"0" for out, _ in outputs)
