"""Bad input is refused before anything is sent: RequestValidationError naming the field, and
the server sees no request (not even a token generation)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from ozoasync import CloudAgentClient, RequestValidationError
from ozoasync.testing import FakeCloudAgent


def nothing() -> Iterator[str]:
    yield from ()


async def nothing_async() -> AsyncIterator[str]:
    for item in ():
        yield item


Operation = Callable[[CloudAgentClient], Awaitable[object]]

CASES: list[tuple[str, Operation, str]] = [
    ("empty campaign", lambda ca: ca.campaign_data.delete("", "9876543210"), "campaign"),
    ("blank campaign", lambda ca: ca.campaign_data.delete("  ", "9876543210"), "campaign"),
    ("campaign not a str", lambda ca: ca.campaign_data.delete(None, "1"), "campaign"),  # type: ignore[arg-type]
    ("empty number", lambda ca: ca.campaign_data.delete("spring", ""), "phone_number"),
    ("letters", lambda ca: ca.campaign_data.delete("spring", "98765abcde"), "phone_number"),
    ("inner plus", lambda ca: ca.campaign_data.delete("spring", "91+9876"), "phone_number"),
    ("plus only", lambda ca: ca.campaign_data.delete("spring", "+"), "phone_number"),
    ("spaces", lambda ca: ca.campaign_data.delete("spring", "98765 43210"), "phone_number"),
    ("empty name", lambda ca: ca.campaign_data.delete("spring", "1", name=""), "name"),
    ("group id 0", lambda ca: ca.block_numbers.delete(0, ["1"]), "group_id"),
    ("negative group", lambda ca: ca.block_numbers.delete(-4, ["1"]), "group_id"),
    ("group as str", lambda ca: ca.block_numbers.delete("7", ["1"]), "group_id"),  # type: ignore[arg-type]
    ("group as bool", lambda ca: ca.block_numbers.delete(True, ["1"]), "group_id"),
    ("group as float", lambda ca: ca.block_numbers.delete(7.0, ["1"]), "group_id"),  # type: ignore[arg-type]
    ("no numbers", lambda ca: ca.block_numbers.delete(1, []), "numbers"),
    ("empty generator", lambda ca: ca.block_numbers.delete(1, nothing()), "numbers"),
    ("empty async gen", lambda ca: ca.block_numbers.delete(1, nothing_async()), "numbers"),
    ("one string", lambda ca: ca.block_numbers.delete(1, "9876543210"), "numbers"),
    ("not iterable", lambda ca: ca.block_numbers.delete(1, 42), "numbers"),  # type: ignore[arg-type]
    ("bad number", lambda ca: ca.block_numbers.delete(1, ["1", "2", "x3"]), "numbers"),
    ("blank number", lambda ca: ca.block_numbers.delete(1, ("1", " ")), "numbers"),
    ("no row ids", lambda ca: ca.scheduled_data.delete([]), "row_ids"),
    ("empty row ids", lambda ca: ca.scheduled_data.delete(""), "row_ids"),
    ("backwards range", lambda ca: ca.scheduled_data.delete("10-3"), "row_ids"),
    ("open range", lambda ca: ca.scheduled_data.delete("3-"), "row_ids"),
    ("double comma", lambda ca: ca.scheduled_data.delete("1,,2"), "row_ids"),
    ("junk row id", lambda ca: ca.scheduled_data.delete("1,a"), "row_ids"),
    ("row id 0", lambda ca: ca.scheduled_data.delete(0), "row_ids"),
    ("empty range", lambda ca: ca.scheduled_data.delete(range(5, 5)), "row_ids"),
    ("row ids as str list", lambda ca: ca.scheduled_data.delete(["1", "2"]), "row_ids"),
    (
        "edit: empty number",
        lambda ca: ca.phones.edit("", "desk", new_phone_number="1"),
        "phone_number",
    ),
    (
        "edit: letters",
        lambda ca: ca.phones.edit("12ab", "desk", new_phone_number="1"),
        "phone_number",
    ),
    ("edit: empty name", lambda ca: ca.phones.edit("1", "", new_phone_number="2"), "phone_name"),
    (
        "edit: missing new number",
        lambda ca: ca.phones.edit("1", "desk", new_phone_number=None),  # type: ignore[arg-type]
        "new_phone_number",
    ),
    (
        "edit: empty new number",
        lambda ca: ca.phones.edit("1", "desk", new_phone_number=""),
        "new_phone_number",
    ),
    (
        "edit: bad new number",
        lambda ca: ca.phones.edit("1", "desk", new_phone_number="+91-98"),
        "new_phone_number",
    ),
    (
        "edit: empty new name",
        lambda ca: ca.phones.edit("1", "desk", new_phone_number="2", new_phone_name=" "),
        "new_phone_name",
    ),
    (
        "edit: comma in a skill",
        lambda ca: ca.phones.edit("1", "d", new_phone_number="2", assign_skills=["QA,Sales"]),
        "assign_skills",
    ),
    (
        "edit: empty skill",
        lambda ca: ca.phones.edit("1", "d", new_phone_number="2", unassign_skills=["QA", ""]),
        "unassign_skills",
    ),
    (
        "edit: skills not a list",
        lambda ca: ca.phones.edit("1", "d", new_phone_number="2", assign_skills=5),  # type: ignore[arg-type]
        "assign_skills",
    ),
]


@pytest.mark.parametrize("auth", ["api_key", "token"])
@pytest.mark.parametrize(("case", "operation", "field"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_raises_naming_the_field_and_sends_nothing(
    fake: FakeCloudAgent,
    make_client: Any,
    auth: str,
    case: str,
    operation: Operation,
    field: str,
) -> None:
    ca = make_client(fake.url, auth=auth)
    with pytest.raises(RequestValidationError) as caught:
        await operation(ca)
    assert caught.value.field == field
    assert caught.value.attempts == 0
    assert fake.requests == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "  "}, "username"),
        ({"api_key": ""}, "api_key"),
        ({"auth": "basic"}, "auth"),
        ({"base_url": None, "region": "mars"}, "region"),
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"base_url": "example.com"}, "base_url"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.0}, "timeout"),
    ],
)
def test_bad_client_options_raise_naming_the_option(options: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {
        "username": "acme",
        "api_key": "KK-key",
        "base_url": "http://127.0.0.1:9",
        **options,
    }
    with pytest.raises(RequestValidationError) as caught:
        CloudAgentClient(arguments.pop("username"), arguments.pop("api_key"), **arguments)
    assert caught.value.field == field
