"""Every row of the vendor's error table (Deleting Calling Numbers, Table 6), answered by
FakeISales over real HTTP: a single call raises the named exception with the code and the
description; a bulk call reports the chunk, or raises with its partial result when the error
dooms every later chunk."""

from __future__ import annotations

import pytest

from ozoasync import (
    APIError,
    AuthenticationError,
    CallerNumberDeletion,
    InvalidParameterError,
    ISalesClient,
    NotFoundError,
)
from ozoasync.testing import FakeISales

# (code, the vendor's description, exception, dooms every later chunk)
VENDOR_TABLE = [
    (
        "0200001",
        "Parameter error. For details about the error, see resultDesc.",
        InvalidParameterError,
        False,
    ),
    ("0200007", "The outbound campaign does not exist.", NotFoundError, True),
    ("02000001", "Empty parameter.", InvalidParameterError, False),
    ("02000002", "The parameter contains invalid characters.", InvalidParameterError, False),
    (
        "02000003",
        "The parameter length cannot exceed the maximum length.",
        InvalidParameterError,
        False,
    ),
    (
        "02000004",
        "The parameter length cannot be less than the minimum length.",
        InvalidParameterError,
        False,
    ),
    (
        "02000005",
        "The parameter length must be within the specified range.",
        InvalidParameterError,
        False,
    ),
    ("02000006", "Incorrect parameter type.", InvalidParameterError, False),
    ("02000007", "Incorrect parameter value.", InvalidParameterError, False),
    (
        "02000008",
        "Parameter conversion error. Check the request parameters.",
        InvalidParameterError,
        False,
    ),
    (
        "02000009",
        "Incorrect parameter combination. Check the request parameters.",
        InvalidParameterError,
        False,
    ),
    (
        "02000010",
        "The hour and minute parameters must be set at the same time.",
        InvalidParameterError,
        False,
    ),
    (
        "02000011",
        "The number of parameters cannot exceed the specified number.",
        InvalidParameterError,
        False,
    ),
]
NUMBERS = [str(13800000000 + i) for i in range(150)]


@pytest.mark.parametrize(("code", "description", "error", "dooms"), VENDOR_TABLE)
async def test_every_vendor_error_code(
    fake_isales: FakeISales,
    isales: ISalesClient,
    code: str,
    description: str,
    error: type[APIError],
    dooms: bool,
) -> None:
    fake_isales.add_campaign(1, 42, [*NUMBERS, "19999999999"])

    fake_isales.fail_next(code)  # the vendor's description is the emulator's default
    with pytest.raises(APIError) as raised:
        await isales.campaigns.get(1, 42)
    assert type(raised.value) is error
    assert (raised.value.code, raised.value.message) == (code, description)
    assert raised.value.attempts == 1  # a refusal is never retried

    fake_isales.fail_next(code, endpoint="deleteCallerNo")  # the first chunk only
    if dooms:
        with pytest.raises(error) as stopped:
            await isales.caller_numbers.delete(1, 42, NUMBERS)
        result = stopped.value.partial
        assert isinstance(result, CallerNumberDeletion)
        assert (result.count, result.requests) == (0, 1)
    else:
        result = await isales.caller_numbers.delete(1, 42, NUMBERS)
        assert (result.count, result.requests) == (50, 2)
    [failed] = result.failed
    assert (failed.result_code, failed.result_desc) == (code, description)
    assert failed.numbers == tuple(NUMBERS[:100])
    assert type(failed.error) is error


async def test_a_custom_description_is_kept(fake_isales: FakeISales, isales: ISalesClient) -> None:
    fake_isales.add_campaign(1, 42, ["1"])
    fake_isales.fail_next("0200001", "callerNo[0].accessCode is invalid")
    with pytest.raises(InvalidParameterError) as raised:
        await isales.campaigns.get(1, 42)
    assert raised.value.message == "callerNo[0].accessCode is invalid"
    assert "0200001" in str(raised.value)


async def test_http_401_is_an_authentication_error(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, ["1"])
    fake_isales.fail_next("0200002", "unauthorized", http_status=401)
    with pytest.raises(AuthenticationError) as raised:
        await isales.campaigns.get(1, 42)
    assert (raised.value.http_status, raised.value.code) == (401, "0200002")
    assert len(fake_isales.requests) == 1
