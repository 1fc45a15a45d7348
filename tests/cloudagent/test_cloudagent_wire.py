"""The CloudAgent wire format, tested directly: request builders, the error table, decoding,
JWT expiry and the skills-rejected reading."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync import (
    APIError,
    AuthenticationError,
    ConflictError,
    InvalidParameterError,
    LimitExceededError,
    NotFoundError,
    OzoError,
    RateLimitError,
    ResponseDecodeError,
)
from ozoasync.cloudagent import wire
from ozoasync.cloudagent.block_numbers import dooms_every_chunk, failed_entries
from ozoasync.errors import CoordinationError, ServerError, TransportError
from ozoasync.results import FailedNumber
from ozoasync.transport.call import Answer, Call


def body_of(call: Call) -> Any:
    assert call.body is not None
    return json.loads(call.body)


# --- request builders ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "method", "path", "body"),
    [
        (
            wire.delete_campaign_data("acme", "spring", "9876543210", None),
            "DELETE",
            "/ca_apis/deleteCampaignData",
            {"userName": "acme", "campaignName": "spring", "phoneNumber": "9876543210"},
        ),
        (
            wire.delete_campaign_data("acme", "spring", "+919876543210", "Asha"),
            "DELETE",
            "/ca_apis/deleteCampaignData",
            {
                "userName": "acme",
                "campaignName": "spring",
                "phoneNumber": "+919876543210",
                "name": "Asha",
            },
        ),
        (
            wire.delete_block_numbers("acme", 7, ["1", "+2"], wire.BLOCK_NUMBERS),
            "DELETE",
            "/ca_apis/deleteBlockNumberGroup",
            {"userName": "acme", "id": 7, "blockNumbers": ["1", "+2"]},
        ),
        (
            wire.delete_block_numbers("acme", 7, ["1"], wire.BLOCK_NUMBERS_ALTERNATE),
            "DELETE",
            "/ca_apis/deleteBlockNumber",
            {"userName": "acme", "id": 7, "blockNumbers": ["1"]},
        ),
        (
            wire.delete_scheduled_data("acme", "1-3,7"),
            "DELETE",
            "/ca_apis/deleteScheduledData",
            {"userName": "acme", "row_id": "1-3,7", "rowId": "1-3,7"},
        ),
        (
            wire.edit_phone("acme", "+919876543210", "desk", "+14155550100", None, "", ""),
            "POST",
            "/ca_apis/PhoneManageV2",
            {
                "userName": "acme",
                "action": "edit",
                "phoneNumber": "%2B919876543210",
                "phoneName": "desk",
                "phoneNumberNew": "%2B14155550100",
            },
        ),
        (
            wire.edit_phone("acme", "9876543210", "desk", "9876543211", "lobby", "A,B", "C"),
            "POST",
            "/ca_apis/PhoneManageV2",
            {
                "userName": "acme",
                "action": "edit",
                "phoneNumber": "9876543210",
                "phoneName": "desk",
                "phoneNumberNew": "9876543211",
                "phoneNameNew": "lobby",
                "assignSkill": "A,B",
                "unAssignSkill": "C",
            },
        ),
        (
            wire.generate_token("acme"),
            "POST",
            "/ca_apis/CAToken/generateToken",
            {"userName": "acme"},
        ),
    ],
)
def test_builders_make_the_vendors_requests(
    call: Call, method: str, path: str, body: dict[str, Any]
) -> None:
    assert (call.method, call.path) == (method, path)
    assert body_of(call) == body
    assert not call.query
    assert not call.headers  # credentials come from the authenticator, per attempt


def test_deletes_are_repeatable_and_edits_are_not() -> None:
    assert wire.delete_campaign_data("a", "c", "1", None).repeatable
    assert wire.delete_block_numbers("a", 1, ["1"], wire.BLOCK_NUMBERS).repeatable
    assert wire.delete_scheduled_data("a", "1").repeatable
    assert not wire.edit_phone("a", "1", "n", "2", None, "", "").repeatable


@pytest.mark.parametrize(
    ("number", "sent"),
    [("+919876543210", "%2B919876543210"), ("919876543210", "919876543210"), ("+1", "%2B1")],
)
def test_a_leading_plus_is_sent_as_percent_2b(number: str, sent: str) -> None:
    assert wire.encode_plus(number) == sent


# --- the error table ------------------------------------------------------------------------


def answer(body: bytes | str = b"", http_status: int = 200, endpoint: str = "ep") -> Answer:
    raw = body.encode() if isinstance(body, str) else body
    return Answer(endpoint, http_status, {}, raw)


@pytest.mark.parametrize(
    ("message", "http_status", "expected", "token_invalid"),
    [
        ("Max limit exceeded", 200, RateLimitError, False),
        ("max LIMIT exceeded", 200, RateLimitError, False),
        ("No Record Found", 200, NotFoundError, False),
        ("No data found", 200, NotFoundError, False),
        ("Api Key Should Not be Null or Empty.", 200, AuthenticationError, False),
        ("Invalid User Details", 200, AuthenticationError, False),
        ("Username Should Not be Null or Empty.", 200, AuthenticationError, False),
        ("userName or apiKey not valid", 200, AuthenticationError, False),
        ("Invalid userName or apiKey", 200, AuthenticationError, False),
        ("UserName is null", 200, AuthenticationError, False),
        ("Token Should Not be Null or Empty.", 200, AuthenticationError, False),
        ("Invalid Token", 200, AuthenticationError, True),
        ("Token Expired", 200, AuthenticationError, True),
        ("token  expired", 401, AuthenticationError, True),
        ("phone_name or phone_number already exist", 200, ConflictError, False),
        (
            " Phone Number Limit Exceeded. Please refer to the 'Phone Number Creation Limit' "
            "option under 'Edit Profile' for reference. ",
            200,
            LimitExceededError,
            False,
        ),
        ("Campaign should not be null are empty", 200, InvalidParameterError, False),
        ("Passed campaign are invalid", 200, InvalidParameterError, False),
        ("PhoneNumber should not be null are empty", 200, InvalidParameterError, False),
        ("Invalid Json Pass Valid Json", 200, InvalidParameterError, False),
        ("Parameters are mandatory", 200, InvalidParameterError, False),
        ("Invalid group id", 200, InvalidParameterError, False),
        ("Mandatory parameter row_id is missing", 200, InvalidParameterError, False),
        ("action not valid", 200, InvalidParameterError, False),
        ("phoneNumber must be numeric", 200, InvalidParameterError, False),
        ("phoneName cannot be empty", 200, InvalidParameterError, False),
        ("phoneNumber cannot be empty", 200, InvalidParameterError, False),
        ("Something new", 200, APIError, False),
        ("Something new", 401, AuthenticationError, False),
        ("", 403, AuthenticationError, False),
        ("", 405, APIError, False),
    ],
)
def test_error_for_picks_the_class_from_the_vendors_message(
    message: str, http_status: int, expected: type[APIError], token_invalid: bool
) -> None:
    error = wire.error_for(answer(b"{}", http_status), "error", message)
    assert type(error) is expected
    assert (error.status, error.http_status, error.endpoint) == ("error", http_status, "ep")
    assert error.message == (message or f"HTTP {http_status}")
    assert getattr(error, "token_invalid", False) is token_invalid


@pytest.mark.parametrize("status", ["success", "Success", "SUCCESS", " success "])
def test_success_is_read_in_any_case(status: str) -> None:
    body = json.dumps({"status": status, "message": "Deleted Successfully"})
    assert wire.interpret_status_message(answer(body)) == "Deleted Successfully"


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("Deleted Successfully", "Deleted Successfully"),
        ("  padded  ", "padded"),
        ({"deleted": 3, "row_id": "1-3"}, '{"deleted":3,"row_id":"1-3"}'),
        ([{"Id": 7}], '[{"Id":7}]'),
        (None, ""),
    ],
)
def test_a_message_may_be_a_string_or_an_object(message: object, text: str) -> None:
    body = json.dumps({"status": "success", "message": message})
    assert wire.interpret_status_message(answer(body)) == text
    failed = json.dumps({"status": "error", "message": message or "x"})
    with pytest.raises(APIError):
        wire.interpret_status_message(answer(failed))


@pytest.mark.parametrize(
    "status", ["error", "Error", "false", "fail", "failure", "FAILURE", None, "true"]
)
def test_every_status_but_success_is_a_failure(status: str | None) -> None:
    body = json.dumps({"status": status, "message": "No Record Found"})
    with pytest.raises(NotFoundError) as caught:
        wire.interpret_status_message(answer(body))
    assert caught.value.status == status


def test_success_with_an_http_error_status_is_a_failure() -> None:
    body = json.dumps({"status": "success", "message": "Deleted Successfully"})
    with pytest.raises(AuthenticationError):
        wire.interpret_status_message(answer(body, 401))


# --- bodies that are not what the vendor documents -------------------------------------------

INTERPRETERS: dict[str, Callable[[Answer], object]] = {
    "status_message": wire.interpret_status_message,
    "block_numbers": wire.interpret_block_numbers,
    "token": wire.interpret_token,
}

BAD_BODIES = [
    b"",
    b"<html><body><h1>Please wait while we check your browser...</h1></body></html>",
    b'{"status": "success", "mess',
    b"null",
    b"[]",
    b'"success"',
    b"42",
    b"{}",
    b'{"unexpected": true}',
    b'{"status": 1, "message": "x"}',
    b'{"status": "success", "message": 42}',
    b"\xff\xfe not utf-8",
]


@pytest.mark.parametrize("kind", sorted(INTERPRETERS))
@pytest.mark.parametrize("body", BAD_BODIES)
def test_an_undocumented_body_raises_response_decode_error(kind: str, body: bytes) -> None:
    with pytest.raises(ResponseDecodeError) as caught:
        INTERPRETERS[kind](answer(body, endpoint="ep"))
    error = caught.value
    assert error.endpoint == "ep"
    assert error.http_status == 200
    if kind == "token":  # a cut-off token answer may hold part of a token
        assert error.body == "<withheld>"
    else:
        assert error.body == body.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": "success", "message": "deleted"}',
        b'{"status": "success", "message": "deleted", "output": {"success": "+91"}}',
        b'{"status": "success", "message": "deleted", "output": {"deleted": "4"}}',
        b'{"status": "success", "message": "deleted", "output": []}',
    ],
)
def test_a_block_number_success_without_a_readable_output_is_undecodable(body: bytes) -> None:
    with pytest.raises(ResponseDecodeError):
        wire.interpret_block_numbers(answer(body))


def test_the_kept_body_is_truncated() -> None:
    page = b"<html>" + b"x" * 5000 + b"</html>"
    with pytest.raises(ResponseDecodeError) as caught:
        wire.interpret_status_message(answer(page))
    assert caught.value.body.startswith("<html>xxx")
    assert len(caught.value.body) < 600
    assert caught.value.body.endswith("more]")


def test_a_non_json_error_page_is_read_by_its_http_status() -> None:
    with pytest.raises(APIError) as caught:
        wire.interpret_block_numbers(answer(b"404: Not Found", 404))
    assert type(caught.value) is APIError
    assert caught.value.http_status == 404
    with pytest.raises(AuthenticationError):
        wire.interpret_status_message(answer(b"<html>401 Unauthorized</html>", 401))


@given(
    st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
    st.sampled_from([200, 400, 401, 404]),
)
def test_no_body_escapes_as_anything_but_an_ozo_error(body: bytes, http_status: int) -> None:
    for interpret in INTERPRETERS.values():
        with contextlib.suppress(OzoError):
            interpret(answer(body, http_status))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=8,
    )
)
def test_no_json_shape_escapes_as_anything_but_an_ozo_error(document: object) -> None:
    body = msgspec.json.encode(document)
    for interpret in INTERPRETERS.values():
        with contextlib.suppress(OzoError):
            interpret(answer(body))


def test_a_token_error_answer_keeps_no_body() -> None:
    body = b'{"status":"false","message":"Invalid userName or apiKey","data":null}'
    with pytest.raises(AuthenticationError) as caught:
        wire.interpret_token(answer(body))
    assert caught.value.body == ""
    assert caught.value.message == "Invalid userName or apiKey"


# --- JWT expiry -------------------------------------------------------------------------------


def jwt(claims: object, *, header: bytes = b'{"alg":"HS512","typ":"JWT"}') -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    payload = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    return f"{b64(header)}.{b64(payload)}.{b64(b'signature')}"


RECEIVED = 1_800_000_000.0


@pytest.mark.parametrize(
    ("token", "expiry"),
    [
        (jwt({"sub": "acme", "exp": 1900000000}), 1900000000.0),
        (jwt({"sub": "x" * 3, "exp": 2000000000}), 2000000000.0),  # payload needing padding
        # With iat, the lifetime counts from receipt: a skewed local clock changes nothing.
        (jwt({"exp": 1900000000.25, "iat": 1899996400}), RECEIVED + 3600.25),
        (jwt({"exp": 100, "iat": 40}), RECEIVED + 60),
    ],
)
def test_jwt_expiry_reads_the_claims(token: str, expiry: float) -> None:
    assert wire.jwt_expiry(token, received=RECEIVED) == expiry


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b",
        "a.b.c.d",
        jwt({"sub": "acme"}),
        jwt({"exp": "1900000000"}),
        jwt({"exp": True}),
        jwt([1900000000]),
        jwt(b"not json"),
        "eyJhbGciOiJIUzUxMiJ9.!!!.c2ln",
        "",
    ],
)
def test_jwt_expiry_falls_back_to_the_documented_lifetime(token: str) -> None:
    assert wire.jwt_expiry(token, received=RECEIVED, default_lifetime=3600.0) == RECEIVED + 3600


# --- PhoneManageV2 partial success ------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "rejected"),
    [
        ("record inserted successfully", False),
        (
            "record inserted successfully and failed to insert skills please pass the valid skills",
            True,
        ),
        ("Record inserted successfully and FAILED to  insert\nskills", True),
        ("", False),
    ],
)
def test_skills_rejected_reads_the_success_message(message: str, rejected: bool) -> None:
    assert wire.skills_rejected(message) is rejected


# --- deleteBlockNumberGroup helpers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("errors", "failed"),
    [
        ([], []),
        (["9876543210", 919876543211], ["9876543210", "919876543211"]),
        (
            [{"blockNumber": "+911", "message": "not in group"}, {"number": 2, "reason": "bad"}],
            ["+911", "2"],
        ),
        ([{"phoneNumber": "3"}], ["3"]),
        ([{"unknown": "shape"}], ['{"unknown":"shape"}']),
    ],
)
def test_failed_entries_read_every_error_shape(errors: list[Any], failed: list[str]) -> None:
    entries = failed_entries(errors)
    assert [entry.number for entry in entries] == failed
    assert all(isinstance(entry, FailedNumber) and entry.reason for entry in entries)


def api_error(cls: type[APIError], message: str) -> APIError:
    return cls(message, endpoint="deleteBlockNumberGroup", http_status=200)


@pytest.mark.parametrize(
    ("error", "dooms"),
    [
        (api_error(AuthenticationError, "Invalid User Details"), True),
        (CoordinationError("redis down"), True),
        (api_error(InvalidParameterError, "Invalid group id"), True),
        (api_error(InvalidParameterError, "Parameters are mandatory"), True),
        (api_error(ServerError, "server error 503"), False),
        (api_error(RateLimitError, "Max limit exceeded"), False),
        (api_error(APIError, "A maximum of 100 blockNumbers"), False),
        (TransportError("timed out"), False),
        (ResponseDecodeError("ep", "bad", b"<html>"), False),
    ],
)
def test_which_chunk_errors_stop_a_bulk_call(error: OzoError, dooms: bool) -> None:
    assert dooms_every_chunk(error) is dooms
