"""Three OS processes sharing one RedisCoordination against one emulator in this process:
together they keep the account's rate limit as the emulator counts it, and share one token."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ozoasync.testing import FakeCloudAgent
from ozoasync.testing.readings import max_in_window

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("redis_client")]

WORKER = Path(__file__).with_name("redis_worker.py")
CAMPAIGN = "spring"


async def run_workers(fake: FakeCloudAgent, prefix: str, jobs: list[dict[str, Any]]) -> list[Any]:
    """Start one process per job, let them all go at once, and return their outputs."""
    common = {"url": fake.url, "username": fake.username, "api_key": fake.api_key}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            json.dumps({**common, "prefix": prefix, "campaign": CAMPAIGN, **job}),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for job in jobs
    ]
    for process in processes:
        assert process.stdout is not None
        ready = await asyncio.wait_for(process.stdout.readline(), 60)
        if ready.strip() != b"ready":
            _, errors = await process.communicate()
            pytest.fail(f"worker did not start: {errors.decode()}")
    outputs = await asyncio.gather(
        *(asyncio.wait_for(process.communicate(b"go\n"), 60) for process in processes)
    )
    for process, (_, errors) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, errors.decode()
    return [json.loads(out) for out, _ in outputs]


def numbers(count: int) -> list[str]:
    return [f"98765{n:05d}" for n in range(count)]


async def test_three_processes_stay_within_the_emulators_limit(prefix: str) -> None:
    # 120 requests at 100 per 3 s: more than one window's worth, in about four seconds.
    everything = numbers(120)
    async with FakeCloudAgent(rate_limits={"deleteCampaignData": (100, 3.0)}) as fake:
        fake.add_campaign(CAMPAIGN, everything)
        jobs = [
            {"auth": "api_key", "rate_limit": [100, 3.0], "numbers": everything[i::3]}
            for i in range(3)
        ]
        outcomes = await run_workers(fake, prefix, jobs)

    assert [len(done) for done in outcomes] == [40, 40, 40]
    assert all(outcome == "deleted" for done in outcomes for outcome in done)
    assert fake.campaigns[CAMPAIGN] == set()
    arrivals = sorted(request.arrived for request in fake.requests_to("deleteCampaignData"))
    shortest = min(arrivals[i + 100] - arrivals[i] for i in range(len(arrivals) - 100))
    assert fake.counters["rejected"] == 0, f"101 arrivals within {shortest:.3f} s"
    assert len(arrivals) == 120
    assert max_in_window(arrivals, 3.0) <= 100
    # Together they still use the account: at least 80% of the steady limit rate.
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    assert rate >= 0.8 * 100 / 3.0, f"{rate:.1f} requests/s"


async def test_three_processes_share_one_token(prefix: str) -> None:
    everything = numbers(30)
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign(CAMPAIGN, everything)
        jobs = [
            {"auth": "token", "rate_limit": None, "numbers": everything[i::3]} for i in range(3)
        ]
        outcomes = await run_workers(fake, prefix, jobs)

    assert fake.tokens_generated == 1
    assert all(outcome == "deleted" for done in outcomes for outcome in done)
    assert fake.campaigns[CAMPAIGN] == set()
