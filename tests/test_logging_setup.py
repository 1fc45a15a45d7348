"""OZOASYNC_LOG turns on a stderr handler at import: run in fresh interpreters, each with its
own environment, against the emulator."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import pytest

from ozoasync.logging_setup import UTCFormatter

# A client in token mode deletes one number (a token generation, a rate-limit wait of one
# interval, a delete); stdout gets the API key and the token the client used.
SCRIPT = """
import asyncio
from ozoasync import CloudAgentClient
from ozoasync.testing import FakeCloudAgent

async def main():
    async with FakeCloudAgent(auth_mode="token", api_key="KK-very-secret") as fake:
        fake.add_campaign("spring", ["9876543210"])
        async with CloudAgentClient(fake.username, fake.api_key, auth="token",
                                    base_url=fake.url) as ca:
            await ca.campaign_data.delete("spring", "9876543210")
            token = await ca.tokens.generate()
        print(fake.api_key)
        print(token.value)

asyncio.run(main())
"""

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING) ozoasync: .+$")


def run(level: str | None) -> tuple[list[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "OZOASYNC_LOG"}
    if level is not None:
        env["OZOASYNC_LOG"] = level
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines(), done.stderr.splitlines()


def test_debug_logs_every_attempt_to_stderr_with_utc_timestamps_and_no_secret() -> None:
    secrets, lines = run("debug")
    assert all(LINE.match(line) for line in lines), lines
    assert any("DEBUG ozoasync: POST generateToken attempt 1: HTTP 200" in line for line in lines)
    assert any(
        "DEBUG ozoasync: DELETE deleteCampaignData attempt 1: HTTP 200" in line for line in lines
    )
    assert any(" INFO ozoasync: rate limit: waited" in line for line in lines)
    assert len(secrets) == 2
    assert not [line for line in lines for secret in secrets if secret in line]


def test_info_leaves_out_the_attempts() -> None:
    _, lines = run("INFO")
    assert lines
    assert all(LINE.match(line) for line in lines), lines
    assert not [line for line in lines if " DEBUG " in line]


@pytest.mark.parametrize("level", [None, ""])
def test_unset_it_prints_nothing(level: str | None) -> None:
    _, lines = run(level)
    assert lines == []


def test_an_unknown_level_is_refused_with_a_warning_and_nothing_logged() -> None:
    _, lines = run("verbose")
    assert len(lines) >= 1
    assert "OZOASYNC_LOG='verbose' is ignored: use one of debug, info" in lines[0]
    assert not [line for line in lines if LINE.match(line)]


def test_the_timestamp_is_utc_whatever_the_local_zone() -> None:
    record = logging.LogRecord("ozoasync", logging.INFO, __file__, 1, "hello", None, None)
    record.created = 0.5
    assert UTCFormatter().format(record) == "1970-01-01T00:00:00.500Z INFO ozoasync: hello"
