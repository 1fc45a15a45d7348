"""Every result encodes to JSON, FAILED ones included: errors become ErrorRecord objects of a
documented shape; the encoded text decodes back to that shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from ozoasync import (
    AuthenticationError,
    BlockNumberDeletion,
    CallerNumberChunk,
    CampaignDataDeletion,
    CloudAgentClient,
    ErrorRecord,
    NumberResult,
    Outcome,
    RequestValidationError,
    Token,
    TransportError,
    enc_hook,
    to_json,
)
from ozoasync.testing import FakeCloudAgent


def auth_error() -> AuthenticationError:
    return AuthenticationError(
        "Invalid User Details",
        endpoint="deleteBlockNumberGroup",
        http_status=200,
        status="false",
        body=b'{"apiKey": "KK-secret-echoed"}',
    )


def test_an_error_inside_a_result_is_what_plain_msgspec_cannot_encode() -> None:
    result = NumberResult(number="1", outcome=Outcome.FAILED, error=TransportError("timed out"))
    with pytest.raises(TypeError):
        msgspec.json.encode(result)
    assert msgspec.json.encode(result, enc_hook=enc_hook) == to_json(result)


@pytest.mark.parametrize(
    ("error", "record"),
    [
        (
            auth_error(),
            {
                "type": "AuthenticationError",
                "message": "Invalid User Details",
                "endpoint": "deleteBlockNumberGroup",
                "http_status": 200,
                "status": "false",
                "code": None,
                "attempts": 0,
                "answer_lost": False,
                "retry_after": None,
            },
        ),
        (
            RequestValidationError("numbers", "'12ab' is not a phone number"),
            {
                "type": "RequestValidationError",
                "message": "numbers: '12ab' is not a phone number",
                "endpoint": None,
                "http_status": None,
                "status": None,
                "code": None,
                "attempts": 0,
                "answer_lost": False,
                "retry_after": None,
            },
        ),
    ],
)
def test_a_failed_number_round_trips_with_its_error_record(
    error: Exception, record: dict[str, Any]
) -> None:
    result = BlockNumberDeletion(
        deleted=("9800000000",),
        not_found=("9800000002",),
        failed=(),
        deleted_count=1,
        requests=1,
    )
    failed = NumberResult(number="9800000001", outcome=Outcome.FAILED, message="x", error=error)
    chunk = CallerNumberChunk(items=(failed,), requests=1, count=None)

    assert msgspec.json.decode(to_json(chunk)) == {
        "items": [{"number": "9800000001", "outcome": "failed", "message": "x", "error": record}],
        "requests": 1,
        "count": None,
    }
    decoded = msgspec.json.decode(to_json(failed), type=dict[str, Any])
    assert msgspec.convert(decoded["error"], ErrorRecord) == ErrorRecord(**record)
    assert msgspec.json.decode(to_json(result))["not_found"] == ["9800000002"]
    assert b"KK-secret-echoed" not in to_json(chunk)  # the raw body is never written


async def test_a_real_partial_result_with_failed_numbers_encodes() -> None:
    async with (
        FakeCloudAgent() as fake,
        CloudAgentClient(fake.username, "KK-wrong", base_url=fake.url) as ca,
    ):
        fake.add_block_group(5, ["9800000000"])
        with pytest.raises(AuthenticationError) as caught:
            await ca.block_numbers.delete(5, ["9800000000", "9800000001"])

    partial = caught.value.partial
    assert isinstance(partial, BlockNumberDeletion)
    decoded = msgspec.json.decode(to_json(partial))
    assert [f["number"] for f in decoded["failed"]] == ["9800000000", "9800000001"]
    assert {f["error"]["type"] for f in decoded["failed"]} == {"AuthenticationError"}
    assert {f["error"]["attempts"] for f in decoded["failed"]} == {1}
    assert "KK-wrong" not in to_json(partial).decode()


def test_results_without_errors_and_tokens_encode() -> None:
    deletion = CampaignDataDeletion(phone_number="1", outcome=Outcome.NOT_FOUND, attempts=2)
    assert msgspec.json.decode(to_json(deletion))["outcome"] == "not_found"
    token = Token(value="eyJ.secret.jwt", expires_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert msgspec.json.decode(to_json(token)) == {
        "value": "<redacted>",
        "expires_at": "2026-01-01T00:00:00Z",
    }
