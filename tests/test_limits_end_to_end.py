"""End to end over real HTTP: deleteCampaignData at the vendor's limit against the emulator's
strict limit with network jitter, and a bulk run through injected faults.

The limit is time-scaled (100 per 3 s instead of per minute): a shorter period would let one
garbage-collection pause eat the whole 2% margin."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from ozoasync import (
    CampaignDataDeletion,
    CloudAgentClient,
    InProcessCoordination,
    Outcome,
    RateLimit,
    RetryPolicy,
)
from ozoasync.testing import TRANSPORT_FAULTS, FakeCloudAgent, FaultPlan

CAMPAIGN = "spring"
ENDPOINT = "deleteCampaignData"
N, T = 100, 3.0
CONCURRENCY = 8


def numbers(count: int) -> list[str]:
    return [str(9_000_000_000 + i) for i in range(count)]


async def delete_all(
    fake: FakeCloudAgent, limit: RateLimit, retry: RetryPolicy, attempt_timeout: float, count: int
) -> list[CampaignDataDeletion]:
    """Seed ``count`` numbers and delete them, ``CONCURRENCY`` at a time."""
    wanted = numbers(count)
    fake.add_campaign(CAMPAIGN, wanted)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with CloudAgentClient(
        fake.username,
        fake.api_key,
        base_url=fake.url,
        rate_limits={ENDPOINT: limit},
        retry=retry,
        timeout=attempt_timeout,
        coordination=InProcessCoordination(),
    ) as ca:

        async def delete(number: str) -> CampaignDataDeletion:
            async with gate:
                return await ca.campaign_data.delete(CAMPAIGN, number)

        return await asyncio.gather(*(delete(n) for n in wanted))


async def at_the_limit(style: str, limit: RateLimit) -> tuple[FakeCloudAgent, list[float]]:
    fake = FakeCloudAgent(
        rate_limits={ENDPOINT: (N, T)},
        rate_limit_answer="429" if style == "429" else "body",
        arrival_jitter=0.03,
    )
    async with fake:
        results = await delete_all(fake, limit, RetryPolicy(), attempt_timeout=10.0, count=350)
    assert all(r.outcome is Outcome.DELETED for r in results)
    return fake, sorted(r.arrived for r in fake.requests_to(ENDPOINT))


@pytest.mark.parametrize("style", ["429", "body"])
async def test_350_deletes_at_the_limit_are_never_rejected(style: str) -> None:
    # Both schedules at once, each against its own emulator (about 11 s in all).
    runs = await asyncio.gather(
        at_the_limit(style, RateLimit(N, T)), at_the_limit(style, RateLimit(N, T, burst=True))
    )
    for (fake, arrivals), schedule in zip(runs, ["even", "burst"], strict=True):
        assert fake.counters["rejected"] == 0, schedule
        assert len(arrivals) == 350, schedule
        rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        assert rate >= 0.95 * N / T, f"{schedule}: {rate:.2f} requests/s"


async def test_every_number_is_deleted_through_12_percent_faults() -> None:
    timeout = 0.3
    # Each attempt fails with 12% odds: ten failures in a row would take 6e-10 odds.
    faults = FaultPlan(rate=0.12, seed=20240611, slow_delay=timeout + 0.1)
    retry = RetryPolicy(max_attempts=10, initial_delay=0.01, max_delay=0.05)
    async with FakeCloudAgent(faults=faults) as fake:
        results = await delete_all(fake, RateLimit(200, 1.0), retry, timeout, count=300)

    assert Counter(r.phone_number for r in results) == Counter(numbers(300))
    assert fake.campaigns[CAMPAIGN] == set()
    # Every one was there: a lost answer followed by "No Record Found" is still DELETED.
    assert Counter(r.outcome for r in results) == Counter({Outcome.DELETED: 300})
    assert sum(r.attempts for r in results) == len(fake.requests)
    # Every kind of fault was met along the way.
    assert all(fake.counters[f"fault:{kind.value}"] for kind in TRANSPORT_FAULTS)
