"""Helpers for running the real ``ozoasync`` console script as a subprocess against
emulators that run in the test's own event loop (so they keep answering while the test
awaits the process)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from ozoasync.testing import FakeCloudAgent, FakeISales


def script() -> str:
    """The installed console script next to this interpreter (else the one on PATH)."""
    candidate = Path(sys.executable).parent / "ozoasync"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ozoasync")
    if found is None:
        pytest.fail("the ozoasync console script is not installed (pip install -e .)")
    return found


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ozoasync setting, plus ``extra``; a wide
    console so that summary lines are not wrapped."""
    prefixes = ("OZONETEL_", "ISALES_", "OZOASYNC_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


def cloudagent_env(fake: FakeCloudAgent) -> dict[str, str]:
    return clean_env(
        OZONETEL_BASE_URL=fake.url,
        OZONETEL_USERNAME=fake.username,
        OZONETEL_API_KEY=fake.api_key,
    )


def isales_env(fake: FakeISales) -> dict[str, str]:
    return clean_env(
        ISALES_BASE_URL=fake.url, ISALES_APP_KEY=fake.app_key, ISALES_APP_SECRET=fake.app_secret
    )


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str


async def start(
    *args: str, env: Mapping[str, str], stdin: bool = False
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        script(),
        *args,
        env=dict(env),
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


RUN_TIMEOUT = 60.0  # a hung process fails the test instead of hanging the suite


async def ozoasync(*args: str, env: Mapping[str, str], input: str | None = None) -> Finished:
    """Run the console script to its end."""
    process = await start(*args, env=env, stdin=input is not None)
    stdout, stderr = await asyncio.wait_for(
        process.communicate(input.encode() if input is not None else None), RUN_TIMEOUT
    )
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


def one_line_error(result: Finished) -> str:
    """The single stderr line of a failed run (asserting there is exactly one, and no
    traceback)."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def counts(stdout: str) -> dict[str, str]:
    """The rows of a printed summary: ``"  already gone   12"`` -> ``{"already gone": "12"}``."""
    rows = (
        re.fullmatch(r"\s+([a-z][a-z ()]*?)\s+([\d,]+)\s*", line) for line in stdout.splitlines()
    )
    return {row[1]: row[2] for row in rows if row is not None}
