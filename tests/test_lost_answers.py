"""The lost-answer rule of deleteCampaignData, over real HTTP: when an attempt's answer was
lost and the retry answers "No Record Found", the number is gone either way and the result
is DELETED; when no answer was lost, "No Record Found" means NOT_FOUND."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ozoasync import CloudAgentClient, InProcessCoordination, Outcome, RetryPolicy
from ozoasync.testing import FakeCloudAgent, Fault, FaultPlan

CAMPAIGN = "spring"
PRESENT = "9876543210"
NEVER_THERE = "9000000000"
ENDPOINT = "deleteCampaignData"
TIMEOUT = 0.25
FAST_RETRY = RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05)


@pytest.fixture
async def emulator() -> AsyncIterator[FakeCloudAgent]:
    # A slow answer comes well after the client's timeout.
    async with FakeCloudAgent(faults=FaultPlan(slow_delay=2 * TIMEOUT)) as fake:
        fake.add_campaign(CAMPAIGN, [PRESENT])
        yield fake


@pytest.fixture
async def ca(emulator: FakeCloudAgent) -> AsyncIterator[CloudAgentClient]:
    async with CloudAgentClient(
        emulator.username,
        emulator.api_key,
        base_url=emulator.url,
        retry=FAST_RETRY,
        timeout=TIMEOUT,
        rate_limits={ENDPOINT: None},
        coordination=InProcessCoordination(),
    ) as client:
        yield client


@pytest.mark.parametrize("fault", [Fault.DROP_AFTER, Fault.SLOW, Fault.TRUNCATED])
async def test_deleted_by_an_attempt_whose_answer_was_lost(
    emulator: FakeCloudAgent, ca: CloudAgentClient, fault: Fault
) -> None:
    emulator.faults.queue(fault, endpoint=ENDPOINT)
    result = await ca.campaign_data.delete(CAMPAIGN, PRESENT)

    assert result.outcome is Outcome.DELETED
    assert result.attempts == 2
    assert "lost" in result.message
    assert "No Record Found" in result.message
    # The first attempt deleted it; the retry found nothing left.
    assert PRESENT not in emulator.campaigns[CAMPAIGN]
    assert [r.fault for r in emulator.requests_to(ENDPOINT)] == [fault, None]


@pytest.mark.parametrize("fault", [Fault.SERVER_ERROR, Fault.HTML])
async def test_an_answer_from_something_that_did_not_act_is_not_lost(
    emulator: FakeCloudAgent, ca: CloudAgentClient, fault: Fault
) -> None:
    # A 503 gateway page or a proxy's HTML page: the server never acted on the request.
    emulator.faults.queue(fault, endpoint=ENDPOINT)
    result = await ca.campaign_data.delete(CAMPAIGN, NEVER_THERE)

    assert result.outcome is Outcome.NOT_FOUND
    assert result.attempts == 2
    assert result.message == "No Record Found"


async def test_a_dropped_connection_counts_as_lost_even_before_the_server_acted(
    emulator: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    # The client cannot tell a connection dropped before the server acted from one dropped
    # after: both may have deleted it. The documented, conservative reading: DELETED, since
    # the number is gone either way.
    emulator.faults.queue(Fault.DROP_BEFORE, endpoint=ENDPOINT)
    result = await ca.campaign_data.delete(CAMPAIGN, NEVER_THERE)

    assert result.outcome is Outcome.DELETED
    assert result.attempts == 2
    assert "lost" in result.message


async def test_an_answer_lost_before_acting_and_a_successful_retry(
    emulator: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    emulator.faults.queue(Fault.DROP_BEFORE, endpoint=ENDPOINT)
    result = await ca.campaign_data.delete(CAMPAIGN, PRESENT)

    assert (result.outcome, result.attempts) == (Outcome.DELETED, 2)
    assert result.message == "Deleted Successfully"


async def test_without_a_lost_answer_no_record_found_is_not_found(
    emulator: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    result = await ca.campaign_data.delete(CAMPAIGN, NEVER_THERE)
    assert (result.outcome, result.attempts) == (Outcome.NOT_FOUND, 1)


async def test_a_refused_connection_is_not_a_lost_answer() -> None:
    async with FakeCloudAgent() as reserved:
        port = reserved.port  # free again once it stops
    restarted = FakeCloudAgent(port=port)
    restarted.add_campaign(CAMPAIGN)
    first_failed = asyncio.Event()

    class StartServerOnRetry(RetryPolicy):
        def retry_delay(self, error: BaseException, attempt: int) -> float:
            first_failed.set()
            return 0.2

    async with CloudAgentClient(
        restarted.username,
        restarted.api_key,
        base_url=f"http://127.0.0.1:{port}",
        retry=StartServerOnRetry(max_attempts=5),
        timeout=TIMEOUT,
        rate_limits={ENDPOINT: None},
        coordination=InProcessCoordination(),
    ) as ca:
        deletion = asyncio.create_task(ca.campaign_data.delete(CAMPAIGN, NEVER_THERE))
        await first_failed.wait()
        async with restarted:
            result = await deletion

    assert result.outcome is Outcome.NOT_FOUND
    assert result.attempts >= 2
    assert len(restarted.requests) == 1  # the refused attempts never reached it
