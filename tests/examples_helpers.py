"""Running the recipes of examples/ as their users do: scripts and servers in processes of
their own, configured through the environment, against emulators of the test process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from ozoasync.testing import FakeCloudAgent

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# What the recipes read; the test's own environment must not leak into them.
_SETTINGS_PREFIXES = ("OZONETEL_", "OZOASYNC_", "ERASURE_", "CAMPAIGN_DATA_")


def environment(fake: FakeCloudAgent, **settings: str) -> dict[str, str]:
    """This process's environment without its ozoasync settings, pointed at ``fake``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SETTINGS_PREFIXES)}
    env.update(
        OZONETEL_USERNAME=fake.username,
        OZONETEL_API_KEY=fake.api_key,
        OZONETEL_AUTH=fake.auth_mode,
        OZONETEL_BASE_URL=fake.url,
    )
    env.update(settings)
    return env


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


async def run(*args: str, env: Mapping[str, str], within: float = 120.0) -> Finished:
    """Run ``python args...`` to its end without blocking the event loop (the emulator
    serves it meanwhile)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        env=dict(env),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), within)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


def redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


def free_port() -> int:
    """A loopback port nothing listens on (for a server that binds it itself)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def uvicorn(
    app: str, *, workers: int, env: Mapping[str, str], log: Path, startup_within: float = 90.0
) -> AsyncIterator[str]:
    """``uvicorn APP --workers N`` on a free loopback port, until every worker has started;
    its base URL. Stopped with SIGTERM (as a process manager would) when the block ends."""
    port = free_port()
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            env=dict(env),
            cwd=ROOT,
            stdout=output,
            stderr=output,
        )
    try:
        await _started(process, log, workers, startup_within)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30.0)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _started(
    process: asyncio.subprocess.Process, log: Path, workers: int, within: float
) -> None:
    async with asyncio.timeout(within):
        while (text := await asyncio.to_thread(log.read_text)).count(
            "Application startup complete."
        ) < workers:
            if process.returncode is not None:
                raise AssertionError(f"uvicorn exited {process.returncode}:\n{text}")
            await asyncio.sleep(0.1)
