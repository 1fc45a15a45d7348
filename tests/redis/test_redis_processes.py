"""Three OS processes sharing one RedisCoordination against one emulator in this process:
together they keep the account's rate limit as the emulator counts it, and share one token."""

from __future__ import annotations

import pytest
from redis_helpers import CAMPAIGN, numbers, run_workers

from ozoasync.testing import FakeCloudAgent
from ozoasync.testing.readings import max_in_window

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("redis_client")]


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
