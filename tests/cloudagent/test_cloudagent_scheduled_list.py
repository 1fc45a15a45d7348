"""Scheduled Data Status (``scheduled_data.list``) and ``scheduled_data.delete_for`` over real
HTTP: typed rows, every reading of an empty account, the invalid-key answer, and the api_key
the vendor echoes never reaching a result, a log or an error."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync import (
    AuthenticationError,
    Outcome,
    RequestValidationError,
    ResponseDecodeError,
    ScheduledNumberResult,
    ScheduledRow,
    ScheduledRowsDeletion,
)
from ozoasync.cloudagent import wire
from ozoasync.testing import FakeCloudAgent
from ozoasync.transport.call import Answer

API_KEY = "KK-demo-key"


async def rows_of(client: Any) -> list[ScheduledRow]:
    return [row async for row in client.scheduled_data.list()]


def seed(fake: FakeCloudAgent) -> None:
    fake.add_campaign("spring")
    fake.add_scheduled_rows(
        [3, 4], phone_number="9876543210", campaign="spring", name="Asha", skill="sales"
    )
    fake.add_scheduled_rows([7], phone_number="+919800000001", campaign="autumn", sent=True)
    fake.add_scheduled_rows([9], phone_number="9876543210", campaign="autumn", response='{"a":1}')


async def test_list_yields_typed_rows_without_the_api_key(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ozoasync")
    async with FakeCloudAgent() as fake:
        seed(fake)
        rows = await rows_of(make_client(fake.url))
    (request,) = fake.requests
    assert (request.method, request.path) == ("GET", "/ca_apis/getScheduledData")
    assert request.json() == {"userName": "demo"}
    assert [row.id for row in rows] == [3, 4, 7, 9]
    first = rows[0]
    assert (first.campaign, first.phone_number, first.name, first.skill, first.sent) == (
        "spring",
        "9876543210",
        "Asha",
        "sales",
        False,
    )
    assert first.schedule_time == "2026-01-01 10:00:00"
    assert "api_key" not in first.params
    assert first.params["action"] == "start"
    assert rows[2].sent
    assert rows[2].phone_number == "+919800000001"
    assert rows[3].response == {"a": 1}
    encoded = msgspec.json.encode(rows).decode() + repr(rows)
    assert API_KEY not in encoded
    assert "api_key" not in encoded
    assert API_KEY not in caplog.text


async def test_the_emulator_echoes_the_key_as_the_vendor_does() -> None:
    """The premise of the redaction tests: the raw answer does carry the key, twice."""
    import aiohttp

    async with FakeCloudAgent() as fake, aiohttp.ClientSession() as session:
        fake.add_scheduled_rows([1], phone_number="1")
        async with session.get(
            f"{fake.url}/ca_apis/getScheduledData",
            json={"userName": "demo"},
            headers={"apiKey": API_KEY},
        ) as response:
            body = await response.text()
    assert body.count(API_KEY) == 2


async def test_one_row_answered_as_an_object(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_scheduled_rows([5], phone_number="9876543210", campaign="spring")
        assert [r.id for r in await rows_of(make_client(fake.url))] == [5]


@pytest.mark.parametrize("reading", ["empty_list", "no_data_found", "empty_message"])
async def test_an_empty_account_yields_nothing(make_client: Any, reading: Any) -> None:
    async with FakeCloudAgent(empty_scheduled_answer=reading) as fake:
        assert await rows_of(make_client(fake.url)) == []


async def test_an_invalid_key_answering_null_raises_authentication_error(
    make_client: Any,
) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_scheduled_rows([1])
        with pytest.raises(AuthenticationError) as caught:
            await rows_of(make_client(fake.url, api_key="KK-wrong"))
    assert "null" in caught.value.message


async def test_token_mode_lists_rows(make_client: Any) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_scheduled_rows([1, 2], phone_number="9876543210")
        rows = await rows_of(make_client(fake.url, auth="token"))
    assert [r.id for r in rows] == [1, 2]
    assert fake.requests[-1].headers["Authorization"].startswith("Bearer ")


# A cut-off answer: the decode error keeps the body, which held the key twice.
CUT = (
    b'{"status":"success","message":[{"Id":"1","api_key":"KK-demo-key","ScheduleParams":'
    b'"campaign_name=A&api_key=KK-demo-key&PhoneNumber=98'
)


@pytest.mark.parametrize(
    "body",
    [
        CUT,
        CUT[:55],  # cut inside the key itself
        b'{"status":"success","message":{"Id":1.5,"api_key":"KK-demo-key"}}',
        b'{"status":"fail","message":"bad key KK-demo-key","api_key":"KK-demo-key"}',
    ],
)
async def test_no_error_ever_holds_the_key(
    stub: Any, make_client: Any, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ozoasync")
    stub.answer("getScheduledData", body)
    client = make_client(stub.url)
    with pytest.raises((ResponseDecodeError, wire.APIError)) as caught:
        await rows_of(client)
    error = caught.value
    seen = str(error) + repr(error) + str(getattr(error, "body", "")) + caplog.text
    assert API_KEY not in seen
    assert "KK-demo" not in seen


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"api_key":"SECRET","x":1}', '{"api_key":"<redacted>","x":1}'),
        ('{"apiKey": 42}', '{"apiKey": "<redacted>"}'),
        ('"a=1&api_key=SECRET&b=2"', '"a=1&api_key=<redacted>&b=2"'),
        ('"a=1\\u0026api_key=SECRET"', '"a=1\\u0026api_key=<redacted>"'),
        ('{"API_KEY":"SEC\\"RET"}', '{"API_KEY":"<redacted>"}'),
        ('{"Response":"echo SECRET"}', '{"Response":"echo <redacted>"}'),
    ],
)
def test_redaction_table(text: str, expected: str) -> None:
    assert wire.redact_api_keys(text, ("SECRET",)) == expected


def test_interpreter_strips_before_decoding() -> None:
    body = (
        b'{"status":"success","message":'
        b'{"Id":"2","api_key":"SECRET","ScheduleParams":"api_key=SECRET"}}'
    )
    (record,) = wire.interpret_scheduled_data(Answer("getScheduledData", 200, {}, body))
    assert "SECRET" not in repr(record)
    assert record.ScheduleParams == "api_key=<redacted>"


async def test_delete_for_deletes_each_numbers_rows_compactly(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        seed(fake)
        fake.add_scheduled_rows([5], phone_number="9876543210", campaign="spring")
        result = await make_client(fake.url).scheduled_data.delete_for(
            ["9876543210", "919800000001", "1111111111"]
        )
        remaining = set(fake.scheduled_rows)
    assert result == ScheduledRowsDeletion(
        items=(
            ScheduledNumberResult(
                number="9876543210",
                outcome=Outcome.DELETED,
                row_ids=(3, 4, 5, 9),
                message='{"deleted":5,"row_id":"3-5,7,9"}',
            ),
            ScheduledNumberResult(
                number="919800000001",
                outcome=Outcome.DELETED,
                row_ids=(7,),
                message='{"deleted":5,"row_id":"3-5,7,9"}',
            ),
            ScheduledNumberResult(
                number="1111111111", outcome=Outcome.NOT_FOUND, message="no rows"
            ),
        ),
        row_ids="3-5,7,9",
        requests=2,
    )
    assert remaining == set()
    assert fake.requests[-1].json()["row_id"] == "3-5,7,9"


async def test_delete_for_one_campaign_only(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        seed(fake)
        result = await make_client(fake.url).scheduled_data.delete_for(
            ["9876543210"], campaign="autumn"
        )
        assert fake.scheduled_rows == {3, 4, 7}
    assert result.items[0].row_ids == (9,)
    assert result.row_ids == "9"


async def test_delete_for_nothing_matching_sends_no_deletion(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        seed(fake)
        result = await make_client(fake.url).scheduled_data.delete_for(["5555555555"])
    assert [r.endpoint for r in fake.requests] == ["getScheduledData"]
    assert result.items[0].outcome is Outcome.NOT_FOUND
    assert result.row_ids == ""


async def test_delete_for_a_failed_deletion_is_reported_per_number(
    stub: Any, make_client: Any
) -> None:
    stub.answer(
        "getScheduledData",
        b'{"status":"success","message":{"Id":"4","ScheduleParams":"PhoneNumber=9876543210"}}',
    )
    stub.answer("deleteScheduledData", b'{"status":"error","message":"Something broke"}')
    result = await make_client(stub.url).scheduled_data.delete_for(["9876543210"])
    (item,) = result.items
    assert item.outcome is Outcome.FAILED
    assert item.row_ids == ()
    assert isinstance(item.error, wire.APIError)
    assert item.error.message == "Something broke"
    assert not result.ok


@given(
    key=st.text(alphabet="ABCDEFabcdef0123456789-_", min_size=12, max_size=40),
    cut=st.integers(min_value=1, max_value=400),
)
def test_no_part_of_the_key_survives_any_cut(key: str, cut: int) -> None:
    """Pattern redaction alone (without the client's key): a body cut anywhere keeps no run
    of 8 characters of the key, whatever the interpreter does with it."""
    params = f"api_key={key}&campaign_name=A&PhoneNumber=9876543210"
    body = msgspec.json.encode(
        {"status": "success", "message": [{"Id": "1", "api_key": key, "ScheduleParams": params}]}
    )[:cut]
    try:
        kept = repr(wire.interpret_scheduled_data(Answer("getScheduledData", 200, {}, body)))
    except (ResponseDecodeError, wire.APIError) as error:
        kept = str(error) + str(getattr(error, "body", ""))
    assert not any(key[i : i + 8] in kept for i in range(len(key) - 7))


async def test_delete_for_reads_a_lazy_input_whole_before_sending(make_client: Any) -> None:
    def lazy(*numbers: str) -> Any:
        yield from numbers

    async with FakeCloudAgent() as fake:
        seed(fake)
        client = make_client(fake.url)
        with pytest.raises(RequestValidationError):
            await client.scheduled_data.delete_for(lazy("9876543210", "x1"))
        assert fake.requests == []
        result = await client.scheduled_data.delete_for(lazy("+9876543210", "+9876543210"))
    (item,) = result.items  # duplicates are one item; '+' or not, the same number
    assert item.row_ids == (3, 4, 9)
