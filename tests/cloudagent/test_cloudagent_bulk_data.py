"""DeleteBulkData (``campaign_data.delete_across``) over real HTTP: 100 numbers x 100
campaigns per request, streamed per chunk, at a time-scaled 2-per-period limit, against an
emulator that enforces the limit and the one-in-flight rule strictly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest

from ozoasync import (
    APIError,
    AuthenticationError,
    BulkDataChunk,
    BulkDataUnavailableError,
    InvalidParameterError,
    NumberResult,
    Outcome,
    Progress,
    RateLimit,
    RequestValidationError,
    ScheduledNumberResult,
    ScheduledRow,
    ScheduledRowsDeletion,
)
from ozoasync.cloudagent.bulk_data import unavailable
from ozoasync.cloudagent.client import DEFAULT_RATE_LIMITS
from ozoasync.errors import dooms_later_requests
from ozoasync.results import to_json
from ozoasync.testing import BULK_DATA_BUSY, FakeCloudAgent

PERIOD = 0.2  # the vendor's 60 s, scaled
# A wide margin: at this scale the 2% default is 4 ms, less than a loaded machine's jitter.
FAST = {"DeleteBulkData": RateLimit(2, PERIOD, margin=0.5, concurrency=1)}
SERVER_LIMIT = {"DeleteBulkData": (2, PERIOD)}


def numbers(count: int, start: int = 9000000000) -> list[str]:
    return [str(start + i) for i in range(count)]


async def collect(chunks: AsyncIterator[BulkDataChunk]) -> list[BulkDataChunk]:
    return [chunk async for chunk in chunks]


def test_default_limit_is_the_vendors() -> None:
    assert DEFAULT_RATE_LIMITS["DeleteBulkData"] == RateLimit(2, 60.0, concurrency=1)


async def test_250_numbers_by_120_campaigns_take_six_requests(make_client: Any) -> None:
    campaigns = [f"c{i}" for i in range(120)]
    phones = numbers(250)
    async with FakeCloudAgent(rate_limits=SERVER_LIMIT) as fake:
        for name in campaigns:
            fake.add_campaign(name, phones[::2])
        client = make_client(fake.url, rate_limits=FAST)
        chunks = await collect(client.campaign_data.delete_across(iter(campaigns), phones))
        assert all(not numbers_left for numbers_left in fake.campaigns.values())
    sent = fake.requests_to("DeleteBulkData")
    assert len(sent) == 6
    assert not any(r.rejected for r in sent)
    shapes = [(len(r.json()["phoneNumber"]), len(r.json()["campaignName"])) for r in sent]
    assert shapes == [(100, 100), (100, 20), (100, 100), (100, 20), (50, 100), (50, 20)]
    assert [len(c.items) for c in chunks] == [100, 100, 100, 100, 50, 50]
    assert [len(c.campaigns) for c in chunks] == [100, 20] * 3
    assert {item.number for c in chunks for item in c.items} == set(phones)
    # Half of each chunk's pairs were there: the count confirms only part of the chunk.
    assert chunks[0].deleted_count == 50 * 100
    assert {i.outcome for c in chunks for i in c.items} == {Outcome.PARTLY_CONFIRMED}


async def test_body_and_path(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        fake.add_campaign("autumn")
        client = make_client(fake.url, rate_limits=FAST)
        (chunk,) = await collect(
            client.campaign_data.delete_across(["spring", "autumn", "spring"], ["9876543210"])
        )
    (request,) = fake.requests
    assert (request.method, request.path) == ("DELETE", "/ca_apis/DeleteBulkData")
    assert request.json() == {
        "userName": "demo",
        "phoneNumber": ["9876543210"],
        "campaignName": ["spring", "autumn"],
    }
    assert chunk == BulkDataChunk(
        items=(
            NumberResult(
                number="9876543210",
                outcome=Outcome.PARTLY_CONFIRMED,
                message="Data deleted successfully",
            ),
        ),
        campaigns=("spring", "autumn"),
        message="Data deleted successfully",
        deleted_count=1,
    )


@pytest.mark.parametrize(
    ("answer", "present", "outcome", "count"),
    [
        ("counts", True, Outcome.DELETED, 1),
        ("counts", False, Outcome.NOT_FOUND, 0),
        ("plain", True, Outcome.DELETED, None),
        ("plain", False, Outcome.DELETED, None),
    ],
)
async def test_success_readings(
    make_client: Any, answer: Any, present: bool, outcome: Outcome, count: int | None
) -> None:
    async with FakeCloudAgent(bulk_data_answer=answer) as fake:
        fake.add_campaign("spring", ["9876543210"] if present else [])
        client = make_client(fake.url, rate_limits=FAST)
        (chunk,) = await collect(client.campaign_data.delete_across(["spring"], ["9876543210"]))
    assert chunk.items[0].outcome is outcome
    assert chunk.deleted_count == count
    assert chunk.message == "Data deleted successfully"


async def test_token_mode(make_client: Any) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign("spring", ["9876543210"])
        client = make_client(fake.url, auth="token", rate_limits=FAST)
        (chunk,) = await collect(client.campaign_data.delete_across(["spring"], ["9876543210"]))
    assert chunk.ok
    assert fake.campaigns["spring"] == set()


async def test_an_invalid_campaign_stops_the_call_after_its_chunk(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        client = make_client(fake.url, rate_limits=FAST)
        seen: list[BulkDataChunk] = []

        async def consume() -> None:
            async for chunk in client.campaign_data.delete_across(["spring", "nope"], numbers(150)):
                seen.append(chunk)

        with pytest.raises(InvalidParameterError) as caught:
            await consume()
    assert len(fake.requests) == 1
    (chunk,) = seen
    assert {i.outcome for i in chunk.items} == {Outcome.FAILED}
    assert isinstance(chunk.items[0].error, InvalidParameterError)
    assert chunk.items[0].error.message == "Passed campaign are invalid"
    assert caught.value.partial == Progress(done=100, failed=100, rate=caught.value.partial.rate)


async def test_bad_credentials_raise(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring")
        client = make_client(fake.url, api_key="KK-wrong", rate_limits=FAST)
        with pytest.raises(AuthenticationError):
            await collect(client.campaign_data.delete_across(["spring"], numbers(3)))


async def test_lazy_input_reports_bad_numbers_unsent(make_client: Any) -> None:
    def lazy() -> Any:
        yield "9876543210"
        yield "not-a-number"

    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        client = make_client(fake.url, rate_limits=FAST)
        chunks = await collect(client.campaign_data.delete_across(["spring"], lazy()))
    rejected, sent = chunks
    assert rejected.requests == 0
    assert rejected.items[0].number == "not-a-number"
    assert rejected.items[0].outcome is Outcome.FAILED
    assert [i.number for i in sent.items] == ["9876543210"]
    assert fake.requests_to("DeleteBulkData")[0].json()["phoneNumber"] == ["9876543210"]


@pytest.mark.parametrize(
    ("campaigns", "phones"),
    [([], ["1"]), ("spring", ["1"]), (["spring"], []), (["spring"], ["x"]), ([" "], ["1"])],
)
async def test_bad_input_raises_before_sending(
    make_client: Any, campaigns: Any, phones: Any
) -> None:
    async with FakeCloudAgent() as fake:
        client = make_client(fake.url, rate_limits=FAST)
        with pytest.raises(RequestValidationError):
            client.campaign_data.delete_across(campaigns, phones)  # at the call itself
    assert fake.requests == []


async def test_chunks_stream_lazily(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring")
        client = make_client(fake.url, rate_limits=FAST)
        stream = client.campaign_data.delete_across(["spring"], numbers(500))
        async for _ in stream:
            break
        await stream.aclose()
    assert len(fake.requests) == 1


async def raw_delete(session: aiohttp.ClientSession, fake: FakeCloudAgent) -> Any:
    body = {"userName": "demo", "phoneNumber": ["1"], "campaignName": ["spring"]}
    async with session.delete(
        f"{fake.url}/ca_apis/DeleteBulkData", json=body, headers={"apiKey": fake.api_key}
    ) as response:
        return response.status, await response.json()


async def test_emulator_refuses_a_request_while_one_is_processing() -> None:
    async with (
        FakeCloudAgent(
            bulk_data_processing_time=0.3, rate_limits={"DeleteBulkData": (9, 60)}
        ) as fake,
        aiohttp.ClientSession() as session,
    ):
        fake.add_campaign("spring")
        first = asyncio.create_task(raw_delete(session, fake))
        await asyncio.sleep(0.1)
        second = await raw_delete(session, fake)
        assert (await first)[1]["status"] == "success"
        third = await raw_delete(session, fake)  # the first has finished: accepted
    assert second == (200, {"status": "Error", "message": BULK_DATA_BUSY})
    assert third[1]["status"] == "success"


@pytest.mark.parametrize("answer", ["429", "body"])
async def test_emulator_allows_two_requests_a_minute(answer: Any) -> None:
    async with (
        FakeCloudAgent(rate_limit_answer=answer) as fake,
        aiohttp.ClientSession() as session,
    ):
        fake.add_campaign("spring")
        answers = [await raw_delete(session, fake) for _ in range(3)]
    assert [a[1]["status"] for a in answers[:2]] == ["success", "success"]
    assert answers[2][1]["status"].lower() == "error"
    assert answers[2][1]["message"] == "Max limit exceeded"
    assert answers[2][0] == (429 if answer == "429" else 200)


async def test_emulator_documented_errors() -> None:
    async with FakeCloudAgent(rate_limits={"DeleteBulkData": (99, 60)}) as fake:
        fake.add_campaign("spring")
        async with aiohttp.ClientSession() as session:

            async def send(body: dict[str, Any]) -> Any:
                async with session.delete(
                    f"{fake.url}/ca_apis/DeleteBulkData",
                    json={"userName": "demo", **body},
                    headers={"apiKey": fake.api_key},
                ) as response:
                    return (await response.json())["message"]

            assert await send({"campaignName": ["spring"]}) == (
                "PhoneNumbers should not be null are empty"
            )
            assert await send({"phoneNumber": ["1"]}) == "Campaign should not be null are empty"
            too_many = await send({"phoneNumber": numbers(101), "campaignName": ["spring"]})
            assert too_many.startswith("A maximum of 100 phone numbers or 10")
            assert await send({"phoneNumber": ["1"], "campaignName": ["spring", "x"]}) == (
                "Passed campaign are invalid"
            )


async def test_a_busy_refusal_is_retried(make_client: Any) -> None:
    """Another client of the account (not sharing our coordination) holds the endpoint: the
    refusal did nothing, so the request is retried and succeeds."""
    async with FakeCloudAgent(
        bulk_data_processing_time=0.2, rate_limits={"DeleteBulkData": (99, 60)}
    ) as fake:
        fake.add_campaign("spring", ["9876543210"])
        other = make_client(fake.url, rate_limits=FAST)
        ours = make_client(fake.url, rate_limits=FAST)
        theirs = asyncio.create_task(collect(other.campaign_data.delete_across(["spring"], ["1"])))
        await asyncio.sleep(0.05)
        (chunk,) = await collect(ours.campaign_data.delete_across(["spring"], ["9876543210"]))
        await theirs
    assert chunk.ok
    assert fake.campaigns["spring"] == set()
    assert any(r.json().get("phoneNumber") == ["9876543210"] for r in fake.requests)
    assert len(fake.requests) >= 3  # theirs, our refused attempt, our retry


async def test_failed_chunks_and_scheduled_reports_encode_to_json(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        client = make_client(fake.url, api_key="KK-wrong", rate_limits=FAST)
        fake.add_campaign("spring")
        chunks: list[BulkDataChunk] = []

        async def consume() -> None:
            async for chunk in client.campaign_data.delete_across(["spring"], ["9876543210"]):
                chunks.append(chunk)

        with pytest.raises(AuthenticationError):
            await consume()
    encoded = msgspec.json.decode(to_json(chunks[0]))
    assert encoded["items"][0]["outcome"] == "failed"
    assert encoded["items"][0]["error"]["type"] == "AuthenticationError"
    failed = ScheduledRowsDeletion(
        items=(
            ScheduledNumberResult(
                number="1", outcome=Outcome.FAILED, error=RequestValidationError("x", "y")
            ),
        )
    )
    assert msgspec.json.decode(to_json(failed))["items"][0]["error"]["message"] == "x: y"
    row = ScheduledRow(id=1, response={"a": [1]}, params={"Name": "A"})
    assert msgspec.json.decode(to_json(row))["response"] == {"a": [1]}


@pytest.mark.parametrize("refusal", ["404", "not_enabled"])
async def test_an_account_without_delete_bulk_data_stops_after_one_request(
    make_client: Any, refusal: Any
) -> None:
    async with FakeCloudAgent(bulk_data_refusal=refusal) as fake:
        fake.add_campaign("spring", numbers(3))
        client = make_client(fake.url, rate_limits=FAST)
        chunks: list[BulkDataChunk] = []

        async def drain() -> None:
            async for chunk in client.campaign_data.delete_across(["spring"], numbers(250)):
                chunks.append(chunk)

        with pytest.raises(BulkDataUnavailableError) as raised:
            await drain()
        sent = len(fake.requests_to("DeleteBulkData"))
        left = fake.campaigns["spring"]

    assert sent == 1  # the later chunks would be refused too
    assert left == set(numbers(3))
    assert dooms_later_requests(raised.value)
    assert raised.value.http_status == (404 if refusal == "404" else 200)
    (chunk,) = chunks
    assert {item.outcome for item in chunk.items} == {Outcome.FAILED}
    assert all(isinstance(item.error, BulkDataUnavailableError) for item in chunk.items)


@pytest.mark.parametrize(
    ("message", "http_status", "refused"),
    [
        ("API is not enabled for this account", 200, True),
        ("This API is not allowed for the user", 200, True),
        ("Not Found", 404, True),
        ("Method Not Allowed", 405, True),
        ("Passed campaign are invalid", 200, False),
        ("Invalid User Details", 200, False),
        ("Bad Gateway", 502, False),
    ],
)
def test_which_refusals_say_delete_bulk_data_is_unavailable(
    message: str, http_status: int, refused: bool
) -> None:
    error = APIError(message, endpoint="DeleteBulkData", http_status=http_status, attempts=1)
    found = unavailable(error)
    assert (found is not None) is refused
    if found is not None:
        assert (found.message, found.http_status, found.attempts) == (message, http_status, 1)
