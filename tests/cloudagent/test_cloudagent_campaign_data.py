"""deleteCampaignData over real HTTP: one record per DELETE, "No Record Found" as NOT_FOUND,
and a lost answer followed by "No Record Found" reported as DELETED."""

from __future__ import annotations

from typing import Any

import pytest

from ozoasync import (
    CampaignDataDeletion,
    InvalidParameterError,
    Outcome,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
)
from ozoasync.testing import FakeCloudAgent, Fault, FaultPlan


async def test_a_number_is_deleted_then_not_found(fake: FakeCloudAgent, make_client: Any) -> None:
    fake.add_campaign("spring", ["9876543210", "9876543211"])
    ca = make_client(fake.url)

    first = await ca.campaign_data.delete(" spring ", " 9876543210 ", name="Asha")
    again = await ca.campaign_data.delete("spring", "9876543210")

    assert first == CampaignDataDeletion(
        phone_number="9876543210", outcome=Outcome.DELETED, message="Deleted Successfully"
    )
    assert again == CampaignDataDeletion(
        phone_number="9876543210", outcome=Outcome.NOT_FOUND, message="No Record Found"
    )
    assert first.ok
    assert again.ok
    assert fake.campaigns["spring"] == {"9876543211"}
    assert [(r.method, r.path) for r in fake.requests] == [
        ("DELETE", "/ca_apis/deleteCampaignData")
    ] * 2
    assert fake.requests[0].json() == {
        "userName": "demo",
        "campaignName": "spring",
        "phoneNumber": "9876543210",
        "name": "Asha",
    }
    assert fake.requests[0].headers["apiKey"] == fake.api_key
    assert "Authorization" not in fake.requests[0].headers


async def test_an_unknown_campaign_raises(fake: FakeCloudAgent, make_client: Any) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        await make_client(fake.url).campaign_data.delete("autumn", "9876543210")
    assert caught.value.message == "Passed campaign are invalid"
    assert caught.value.status == "Error"
    assert caught.value.attempts == 1


@pytest.mark.parametrize("fault", [Fault.DROP_AFTER, Fault.SLOW])
async def test_a_lost_answer_then_no_record_found_is_deleted(
    make_client: Any, fault: Fault
) -> None:
    async with FakeCloudAgent(faults=FaultPlan(slow_delay=0.6)) as fake:
        fake.add_campaign("spring", ["9876543210"])
        fake.faults.queue(fault)
        # The timeout is per attempt: the slow attempt times out, the retry gets a full one.
        ca = make_client(fake.url, timeout=0.3)
        result = await ca.campaign_data.delete("spring", "9876543210")

    assert result.outcome is Outcome.DELETED
    assert result.attempts == 2
    assert "lost" in result.message
    assert "No Record Found" in result.message
    assert fake.campaigns["spring"] == set()
    assert len(fake.requests) == 2


async def test_an_answer_lost_before_acting_is_simply_retried(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        fake.faults.queue(Fault.SERVER_ERROR)
        fake.faults.queue(Fault.DROP_BEFORE)
        result = await make_client(fake.url).campaign_data.delete("spring", "9876543210")
    assert result == CampaignDataDeletion(
        phone_number="9876543210",
        outcome=Outcome.DELETED,
        message="Deleted Successfully",
        attempts=3,
    )


async def test_retries_stop_at_the_budget(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        fake.faults.queue(Fault.SERVER_ERROR, 5)
        ca = make_client(fake.url, retry=RetryPolicy(max_attempts=3, initial_delay=0.01))
        with pytest.raises(ServerError) as caught:
            await ca.campaign_data.delete("spring", "9876543210")
    assert caught.value.http_status == 503
    assert caught.value.attempts == 3
    assert len(fake.requests) == 3


async def test_an_undecodable_answer_is_retried_then_raised_with_its_body(
    make_client: Any,
) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        fake.faults.queue(Fault.HTML, 2)
        ca = make_client(fake.url, retry=RetryPolicy(max_attempts=2, initial_delay=0.01))
        with pytest.raises(ResponseDecodeError) as caught:
            await ca.campaign_data.delete("spring", "9876543210")
    assert caught.value.attempts == 2
    assert caught.value.http_status == 200
    assert "Please wait while we check your browser" in caught.value.body
    assert fake.campaigns["spring"] == {"9876543210"}


async def test_deletes_carry_a_json_body(fake: FakeCloudAgent, make_client: Any) -> None:
    fake.add_campaign("spring", ["9876543210"])
    fake.add_block_group(1, ["9876543210"])
    fake.add_scheduled_rows([1])
    ca = make_client(fake.url)
    await ca.campaign_data.delete("spring", "9876543210")
    await ca.block_numbers.delete(1, ["9876543210"])
    await ca.scheduled_data.delete(1)
    assert [r.method for r in fake.requests] == ["DELETE"] * 3
    assert all(r.headers["Content-Type"].startswith("application/json") for r in fake.requests)
    assert all(isinstance(r.json(), dict) for r in fake.requests)
