"""iSales wire format: request bytes, envelope reading and error mapping, as pure functions."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
import pytest

from ozoasync import (
    APIError,
    AuthenticationError,
    InvalidParameterError,
    NotFoundError,
    RequestValidationError,
    ResponseDecodeError,
)
from ozoasync.isales import wire
from ozoasync.transport.call import Answer


def answer(body: bytes | Mapping[str, object], status: int = 200) -> Answer:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return Answer("deleteCallerNo", status, {}, raw)


def test_delete_request_is_the_vendors_compact_body() -> None:
    call = wire.delete_caller_numbers(1, 42, ["13800000001", "13800000002"])
    assert (call.method, call.path, call.endpoint) == (
        "DELETE",
        "/rest/isales/v1/openapi/campaigns/1/callerNo/42",
        "deleteCallerNo",
    )
    assert call.body == (
        b'{"callerNo":[{"accessCode":"13800000001"},{"accessCode":"13800000002"}]}'
    )
    assert call.headers == {"Content-Type": "application/json; charset=UTF-8"}
    assert call.repeatable


def test_add_request_carries_priority_and_is_not_blindly_repeated() -> None:
    call = wire.add_caller_numbers(7, 3, ["5245241"], 4)
    assert (call.method, call.path) == ("POST", "/rest/isales/v1/openapi/campaigns/7/callerNo/3")
    assert call.body == b'{"callerNo":[{"accessCode":"5245241","priority":4}]}'
    assert not call.repeatable


def test_campaign_request_has_no_body() -> None:
    call = wire.get_campaign(7, 3)
    assert (call.method, call.path, call.body) == (
        "GET",
        "/rest/isales/v1/openapi/campaigns/7/3",
        None,
    )


@pytest.mark.parametrize(
    ("vdn_id", "campaign_id", "field"),
    [
        (0, 1, "vdn_id"),
        (10000, 1, "vdn_id"),
        ("1", 1, "vdn_id"),
        (True, 1, "vdn_id"),
        (1, 0, "campaign_id"),
        (1, -5, "campaign_id"),
        (1, 2.0, "campaign_id"),
    ],
)
def test_ids_are_checked(vdn_id: object, campaign_id: object, field: str) -> None:
    with pytest.raises(RequestValidationError) as raised:
        wire.checked_ids(vdn_id, campaign_id)
    assert raised.value.field == field


def test_ids_at_the_limits_pass() -> None:
    assert wire.checked_ids(1, 1) == (1, 1)
    assert wire.checked_ids(9999, 2**40) == (9999, 2**40)


@pytest.mark.parametrize(
    ("description", "count"),
    [
        ("delete callerNo success.num:1", 1),
        ("delete callerNo success.num:100", 100),
        ("add callerNo success. num : 7", 7),
        ("delete callerNo success", None),
        ("", None),
    ],
)
def test_confirmed_count(description: str, count: int | None) -> None:
    body = {"resultCode": "0200000", "resultDesc": description, "returnCode": "0200000"}
    assert wire.interpret_caller_numbers(answer(body)) == count


def test_count_falls_back_to_return_desc() -> None:
    body = {"returnCode": "0200000", "returnDesc": "delete callerNo success.num:3"}
    assert wire.interpret_caller_numbers(answer(body)) == 3


@pytest.mark.parametrize(
    ("status", "body", "error", "code", "message"),
    [
        (
            200,
            {"resultCode": "0200007", "resultDesc": "no such"},
            NotFoundError,
            "0200007",
            "no such",
        ),
        (
            200,
            {"resultCode": "02000003"},
            InvalidParameterError,
            "02000003",
            "The parameter length cannot exceed the maximum length.",
        ),
        (200, {"returnCode": "0200001", "returnDesc": "x"}, InvalidParameterError, "0200001", "x"),
        (200, {"resultCode": "0299999", "resultDesc": "odd"}, APIError, "0299999", "odd"),
        (200, {"resultCode": "0299999"}, APIError, "0299999", "resultCode 0299999"),
        (401, {"resultDesc": "auth failed"}, AuthenticationError, None, "auth failed"),
        (401, b"<html>Unauthorized</html>", AuthenticationError, None, "HTTP 401"),
        (403, b"", AuthenticationError, None, "HTTP 403"),
        (401, {"resultCode": "0200000"}, AuthenticationError, "0200000", "resultCode 0200000"),
        (404, b"<html>Not Found</html>", APIError, None, "HTTP 404"),
        (
            400,
            {"resultCode": "02000001", "resultDesc": "Empty parameter."},
            InvalidParameterError,
            "02000001",
            "Empty parameter.",
        ),
    ],
)
def test_refusals_map_to_exceptions(
    status: int,
    body: bytes | dict[str, object],
    error: type[APIError],
    code: str | None,
    message: str,
) -> None:
    with pytest.raises(APIError) as raised:
        wire.interpret_caller_numbers(answer(body, status))
    assert type(raised.value) is error
    assert (raised.value.code, raised.value.message, raised.value.http_status) == (
        code,
        message,
        status,
    )
    assert raised.value.endpoint == "deleteCallerNo"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>proxy</html>",
        b'{"resultCode": "0200000", "resultD',
        b"[]",
        b'{"other": 1}',
        b'{"resultCode": 200000}',
    ],
)
def test_undecodable_success_answers_raise_decode_errors(body: bytes) -> None:
    with pytest.raises(ResponseDecodeError) as raised:
        wire.interpret_caller_numbers(answer(body))
    assert raised.value.body == body.decode()


def test_campaign_details_are_read_from_result_data_or_data() -> None:
    details = {
        "campaignId": 3,
        "name": "spring",
        "status": 2,
        "callerNo": [{"accessCode": "5245241", "priority": 1}, {"accessCode": 5245242}],
        "beginTime": "2026-01-01 00:00:00",
    }
    for key in ("resultData", "data"):
        body = {"resultCode": "0200000", key: details}
        campaign = wire.campaign_from(7, 3, wire.interpret_campaign(answer(body)))
        assert (campaign.vdn_id, campaign.campaign_id, campaign.name, campaign.status) == (
            7,
            3,
            "spring",
            2,
        )
        assert campaign.caller_numbers == ("5245241", "5245242")
        assert campaign.details["beginTime"] == "2026-01-01 00:00:00"
        assert campaign.ok


def test_campaign_fields_of_other_shapes_are_tolerated() -> None:
    campaign = wire.campaign_from(1, 2, {"campaignName": "x", "status": True, "callerNo": "no"})
    assert (campaign.name, campaign.status, campaign.caller_numbers) == ("x", None, ())


@pytest.mark.parametrize("details", [None, [], "x"])
def test_campaign_success_without_details_is_undecodable(details: object) -> None:
    with pytest.raises(ResponseDecodeError):
        wire.interpret_campaign(answer({"resultCode": "0200000", "resultData": details}))


def test_a_refused_campaign_query_is_read_whatever_its_data() -> None:
    body = {"resultCode": "0200007", "resultData": []}
    with pytest.raises(NotFoundError):
        wire.interpret_campaign(answer(body))
