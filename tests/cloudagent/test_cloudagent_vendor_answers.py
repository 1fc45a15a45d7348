"""Every row of every "Possible responses" table of the CloudAgent pages, and the
generateToken answers the vendor documents elsewhere, mapped to the right result or the right
exception class.

Each row quotes the page's cell verbatim (status casing and message as printed; cells the
page exported as CSV keep their doubled quotes). For every row, one test:

1. checks that the body under test is the JSON the cell denotes,
2. serves that body over real HTTP and runs the client operation on it,
3. where the emulator can be driven into the case, checks that FakeCloudAgent answers with
   that same body (so users' own tests see what the vendor sends).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from ozoasync import (
    APIError,
    AuthenticationError,
    BlockNumberDeletion,
    CampaignDataDeletion,
    CloudAgentClient,
    ConflictError,
    FailedNumber,
    InvalidParameterError,
    LimitExceededError,
    NotFoundError,
    Outcome,
    PhoneEdit,
    RateLimitError,
    RetryPolicy,
    ScheduledDataDeletion,
    Token,
)
from ozoasync.cloudagent.block_numbers import NOT_CONFIRMED
from ozoasync.testing import FakeCloudAgent

# A JWT as the vendor issues them (HS512), expiring 2100-01-01T00:00:00Z.
JWT_EXP = 4102444800
JWT = (
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJkZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ."
    "c2lnbmF0dXJlLW9mLXRoZS12ZW5kb3I"
)

# --- how the page prints a body ---------------------------------------------------------------

_TWICE = re.compile(r"(\[[^\[\]]*\])\1")  # the block-number page renders each array twice


def _undoubled(cell: str) -> str:
    """A cell exported as CSV (wrapped in quotes, inner quotes doubled), as the JSON it is."""
    return cell.strip('"').replace('""', '"') if re.match(r'"+\{', cell) else cell


def page_json(cell: str) -> Any | None:
    """The JSON a cell denotes, or None when the page cut it short."""
    text = _TWICE.sub(r"\1", _undoubled(cell))
    if not text.lstrip().startswith("{"):
        # The PhoneManageV2 and deleteScheduledData pages print bare `"k": v "k": v` pairs.
        text = "{" + re.sub(r'"\s+"', '", "', text) + "}"
    try:
        return json.loads(text)
    except ValueError:
        return None


def denotes(cell: str, answer: Any) -> bool:
    """Whether ``answer`` (decoded JSON) is the body ``cell`` prints. Cells the page cut short
    are compared on what they show: the status, and the message text or an object."""
    full = page_json(cell)
    if full is not None:
        return bool(answer == full)
    text = _undoubled(cell)
    status = re.search(r'"status":\s*"([^"]*)"', text)
    message = re.search(r'"message":\s*(?:\{|"([^"]*))', text)
    assert status is not None, f"unreadable cell {cell!r}"
    assert message is not None, f"unreadable cell {cell!r}"
    shown = answer.get("message")
    message_ok = isinstance(shown, dict) if message.group(1) is None else shown == message[1]
    return answer.get("status") == status[1] and message_ok


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provoke:
    """A raw request that drives FakeCloudAgent into the case (``before`` identical requests
    are sent first; ``headers`` None means the right apiKey)."""

    body: Any
    headers: dict[str, str] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    before: int = 0


@dataclass(frozen=True)
class Row:
    endpoint: str
    label: str  # the row's label on the page
    cell: str  # the page's cell, verbatim
    expect: type[APIError] | object  # an exception class, or the result
    provoke: Provoke | None = None
    body: str | None = None  # only where the page cut the body short: the body we serve
    http_status: int = 200

    @property
    def served(self) -> bytes:
        if self.body is not None:
            return self.body.encode()
        return json.dumps(page_json(self.cell)).replace("<JWT>", JWT).encode()


CAMPAIGN = {"userName": "demo", "campaignName": "spring", "phoneNumber": "9876543210"}
SAMPLE_BLOCK_NUMBERS = [
    "91XX88XXX8",
    "9197XXX0XX94",
    "9197XXX0XX93",
    "9197XXX0XX94",
    "9197XXX0XX95",
]
BLOCK = {"userName": "demo", "id": 1, "blockNumbers": SAMPLE_BLOCK_NUMBERS}
SCHEDULED = {"userName": "demo", "row_id": "121"}
PHONE = {
    "userName": "demo",
    "action": "edit",
    "phoneNumber": "9876543210",
    "phoneName": "desk",
    "phoneNumberNew": "9876543212",
    "phoneNameNew": "desk two",
}
WRONG_KEY = {"apiKey": "KK-not-the-key"}
SKILLS_FAILED = (
    "record inserted successfully and failed to insert skills please pass the valid skills"
)


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


ROWS = [
    # ozonetel-deleteCampaignData.txt
    Row(
        "deleteCampaignData",
        "Success response",
        '{"status": "Success","message": "Deleted Successfully"}',
        CampaignDataDeletion(
            phone_number="9876543210", outcome=Outcome.DELETED, message="Deleted Successfully"
        ),
        Provoke(CAMPAIGN),
    ),
    Row(
        "deleteCampaignData",
        "Invalid apiKey Key / Missing apiKey key",
        '""{""status"": ""false"",""message"": ""Api Key Should Not be Null or Empty."", '
        '""data"": null}"',
        AuthenticationError,
        Provoke(CAMPAIGN, headers={}),
    ),
    Row(
        "deleteCampaignData",
        "Invalid apiKey Value / Missing apiKey Value",
        '{"status": "false","message": "Invalid User Details","data": null}',
        AuthenticationError,
        Provoke(CAMPAIGN, headers=WRONG_KEY),
    ),
    Row(
        "deleteCampaignData",
        "Invalid userName Key / Missing userName key",
        '"{""status"": ""false"",""message"": ""Username Should Not be Null or Empty."", '
        '""data"": null}"',
        AuthenticationError,
        Provoke(without(CAMPAIGN, "userName")),
    ),
    Row(
        "deleteCampaignData",
        "Invalid userName Value",
        '{"status": "false","message": "Invalid User Details","data": null}',
        AuthenticationError,
        Provoke({**CAMPAIGN, "userName": "someone"}),
    ),
    Row(
        "deleteCampaignData",
        "Invalid campaignName Key",
        '{"status": "Error","message": "Campaign should not be null are empty"}',
        InvalidParameterError,
        Provoke({**without(CAMPAIGN, "campaignName"), "campaign": "spring"}),
    ),
    Row(
        "deleteCampaignData",
        "Invalid campaignName Value",
        '"{""status"": ""Error"", ""message"": ""Passed campaign are invalid""}"',
        InvalidParameterError,
        Provoke({**CAMPAIGN, "campaignName": "autumn"}),
    ),
    Row(
        "deleteCampaignData",
        "Missing campaignName key",
        '{"status": "Error","message": "Campaign should not be null are empty"}',
        InvalidParameterError,
        Provoke(without(CAMPAIGN, "campaignName")),
    ),
    Row(
        "deleteCampaignData",
        "Invalid PhoneNumber Key",
        '{"status": "Error","message": "PhoneNumber should not be null are empty"}',
        InvalidParameterError,
        Provoke({**without(CAMPAIGN, "phoneNumber"), "phone": "9876543210"}),
    ),
    Row(
        "deleteCampaignData",
        "Invalid PhoneNumber Value",
        '{"status": "Error","message": "No Record Found"}',
        CampaignDataDeletion(
            phone_number="9876543210", outcome=Outcome.NOT_FOUND, message="No Record Found"
        ),
        Provoke({**CAMPAIGN, "phoneNumber": "12345"}),
    ),
    Row(
        "deleteCampaignData",
        "Missing PhoneNumber key / Value",
        '{"status": "Error","message": "PhoneNumber should not be null are empty"}',
        InvalidParameterError,
        Provoke({**CAMPAIGN, "phoneNumber": ""}),
    ),
    Row(
        "deleteCampaignData",
        "Deleting multiple numbers in one request.",
        '{"status": "false","message": "Invalid Json Pass Valid Json", "data": null}',
        InvalidParameterError,
        Provoke({**CAMPAIGN, "phoneNumber": ["9876543210", "9876543211"]}),
    ),
    Row(
        "deleteCampaignData",
        "Deleting an already deleted number.",
        '{"status": "Error","message": "No Record Found"}',
        CampaignDataDeletion(
            phone_number="9876543210", outcome=Outcome.NOT_FOUND, message="No Record Found"
        ),
        Provoke(CAMPAIGN, before=1),
    ),
    # VENDOR-NOTES: the per-API limit body, seen with either casing, with or without HTTP 429.
    Row(
        "deleteCampaignData",
        "Max limit exceeded (HTTP 200)",
        '{"status":"Error","message":"Max limit exceeded"}',
        RateLimitError,
        Provoke(
            CAMPAIGN,
            options={"rate_limits": {"deleteCampaignData": (1, 60.0)}, "rate_limit_answer": "body"},
            before=1,
        ),
    ),
    Row(
        "deleteCampaignData",
        "Max limit exceeded (HTTP 429)",
        '{"status":"error","message":"Max limit exceeded"}',
        RateLimitError,
        Provoke(
            CAMPAIGN,
            options={"rate_limits": {"deleteCampaignData": (1, 60.0)}, "rate_limit_answer": "429"},
            before=1,
        ),
        http_status=429,
    ),
    # ozonetel-deleteBlockNumberGroup.txt
    Row(
        "deleteBlockNumberGroup",
        "Passing invalid Id key parameter.",
        '{ "status": "error","message": "Parameters are mandatory"}',
        InvalidParameterError,
        Provoke({**without(BLOCK, "id"), "groupId": 1}),
    ),
    Row(
        "deleteBlockNumberGroup",
        "Passing invalid Id value parameter.",
        '{ "status": "error","message": "Invalid group id"}',
        InvalidParameterError,
        Provoke({**BLOCK, "id": 99}),
    ),
    Row(
        "deleteBlockNumberGroup",
        "Passing invalid blockNumbers key parameter.",
        '{ "status": "error","message": "Parameters are mandatory"}',
        InvalidParameterError,
        Provoke({**without(BLOCK, "blockNumbers"), "numbers": SAMPLE_BLOCK_NUMBERS}),
    ),
    Row(
        "deleteBlockNumberGroup",
        "Successfully deleting multiple leads in Block Number Group",
        '"{""status"": ""success"",""message"": ""deleted"",""input"": {""id"": 1,\n'
        '""blockNumbers"": [""91XX88XXX8"",\n'
        '""9197XXX0XX94"",""9197XXX0XX93"",\n'
        '""9197XXX0XX94"",""9197XXX0XX95""][""91XX88XXX8"",\n'
        '""9197XXX0XX94"",""9197XXX0XX93"",\n'
        '""9197XXX0XX94"",""9197XXX0XX95""]},\n'
        '""output"": {""success"": [\n'
        '""+9191XX88XXX8"",""+9197XXX0XX94"",\n'
        '""+9197XXX0XX93"",""+9197XXX0XX94"",\n'
        '""+9197XXX0XX95""][\n'
        '""+9191XX88XXX8"",""+9197XXX0XX94"",\n'
        '""+9197XXX0XX93"",""+9197XXX0XX94"",\n'
        '""+9197XXX0XX95""],\n'
        '""error"": [],""deleted"": 4}}"',
        # The page's sample confirms its own numbers, not the one the client sent: that
        # one is named in neither list, so it is not confirmed.
        BlockNumberDeletion(
            failed=(FailedNumber(number="919876543210", reason=NOT_CONFIRMED),),
            deleted_count=4,
            requests=1,
        ),
        Provoke(BLOCK),
    ),
    # ozonetel-deleteScheduledData.txt (the page cuts the success body short after "{")
    Row(
        "deleteScheduledData",
        "Success response",
        '"status": "success" "message": {',
        ScheduledDataDeletion(row_ids="121", message='{"deleted":1,"row_id":"121"}'),
        Provoke(SCHEDULED),
        body='{"status": "success", "message": {"deleted": 1, "row_id": "121"}}',
    ),
    Row(
        "deleteScheduledData",
        "Invalid api_key",
        '"status": "error" "message": "No data found"',
        NotFoundError,
        Provoke(SCHEDULED, headers=WRONG_KEY),
    ),
    Row(
        "deleteScheduledData",
        "Missing row_id",
        '"status": "error" "message": "Mandatory parameter row_id is missing',
        InvalidParameterError,
        Provoke(without(SCHEDULED, "row_id")),
        body='{"status": "error", "message": "Mandatory parameter row_id is missing"}',
    ),
    Row(
        "deleteScheduledData",
        "Invalid row_id",
        '"status": "error" "message": "No data found"',
        NotFoundError,
        Provoke({**SCHEDULED, "row_id": "999"}),
    ),
    # ozonetel-PhoneManageV2-edit.txt
    Row(
        "PhoneManageV2",
        "Success response",
        '"status": "success" "message": "record inserted successfully"',
        PhoneEdit(message="record inserted successfully", skills_applied=True),
        Provoke({**PHONE, "assignSkill": "General"}),
    ),
    Row(
        "PhoneManageV2",
        "Invalid api_key",
        '"status": "error" "message": "userName or apiKey not valid"',
        AuthenticationError,
        Provoke(PHONE, headers=WRONG_KEY),
    ),
    Row(
        "PhoneManageV2",
        "Invalid action",
        '"status": "error" "message": "action not valid"',
        InvalidParameterError,
        Provoke({**PHONE, "action": "remove"}),
    ),
    Row(
        "PhoneManageV2",
        "Invalid phoneNumber",
        '"status": "error" "message": "phoneNumber must be numeric"',
        InvalidParameterError,
        Provoke({**PHONE, "phoneNumber": "98765abc"}),
    ),
    Row(
        "PhoneManageV2",
        "Invalid username",
        '"status": "error" "message": "userName or apiKey not valid"',
        AuthenticationError,
        Provoke({**PHONE, "userName": "someone"}),
    ),
    Row(
        "PhoneManageV2",
        "Empty phoneName",
        '"status": "error" "message": "phoneName cannot be empty"',
        InvalidParameterError,
        Provoke({**PHONE, "phoneName": ""}),
    ),
    Row(
        "PhoneManageV2",
        "Empty phoneNumber",
        '"status": "error" "message": "phoneNumber cannot be empty"',
        InvalidParameterError,
        Provoke({**PHONE, "phoneNumber": ""}),
    ),
    Row(
        "PhoneManageV2",
        "Number/Name exists",
        '"status": "error" "message": "phone_name or phone_number already exist"',
        ConflictError,
        Provoke({**PHONE, "phoneNumberNew": "9876543211"}),
    ),
    Row(
        "PhoneManageV2",
        "If the phone number creation limit exceeded",
        '"status": "error" "message":" Phone Number Limit Exceeded. Please refer to the '
        "'Phone Number Creation Limit' option under 'Edit Profile' for reference. \"",
        LimitExceededError,
        Provoke(PHONE, options={"phone_number_limit_reached": True}),
    ),
    Row(
        "PhoneManageV2",
        "Invalid Skill Key",
        f'"status": "success" "message": "{SKILLS_FAILED}"',
        PhoneEdit(message=SKILLS_FAILED, skills_applied=False),
        Provoke({**PHONE, "assignSkill": "NoSuchSkill"}),
    ),
    Row(
        "PhoneManageV2",
        "Missing Skill Value",
        f'"status": "success" "message": "{SKILLS_FAILED}"',
        PhoneEdit(message=SKILLS_FAILED, skills_applied=False),
        Provoke({**PHONE, "assignSkill": ""}),
    ),
    # VENDOR-NOTES: CAToken/generateToken
    Row(
        "generateToken",
        "success",
        '{"token": "<JWT>", "message": ""}',
        Token(value=JWT, expires_at=datetime.fromtimestamp(JWT_EXP, UTC)),
        Provoke({"userName": "demo"}),
    ),
    Row(
        "generateToken",
        "no userName",
        '{"status":"false","message":"UserName is null","data":null}',
        AuthenticationError,
        Provoke({}),
    ),
    Row(
        "generateToken",
        "wrong userName or apiKey",
        '{"status":"false","message":"Invalid userName or apiKey","data":null}',
        AuthenticationError,
        Provoke({"userName": "demo"}, headers=WRONG_KEY),
    ),
]

OPERATIONS: dict[str, Callable[[CloudAgentClient], Awaitable[object]]] = {
    "deleteCampaignData": lambda ca: ca.campaign_data.delete("spring", "9876543210"),
    "deleteBlockNumberGroup": lambda ca: ca.block_numbers.delete(1, ["919876543210"]),
    "deleteScheduledData": lambda ca: ca.scheduled_data.delete("121"),
    "PhoneManageV2": lambda ca: ca.phones.edit(
        "9876543210", "desk", new_phone_number="9876543212", assign_skills=["General"]
    ),
    "generateToken": lambda ca: ca.tokens.generate(),
}

REQUESTS = {
    "deleteCampaignData": ("DELETE", "/ca_apis/deleteCampaignData"),
    "deleteBlockNumberGroup": ("DELETE", "/ca_apis/deleteBlockNumberGroup"),
    "deleteScheduledData": ("DELETE", "/ca_apis/deleteScheduledData"),
    "PhoneManageV2": ("POST", "/ca_apis/PhoneManageV2"),
    "generateToken": ("POST", "/ca_apis/CAToken/generateToken"),
}


def seed(fake: FakeCloudAgent) -> None:
    fake.add_campaign("spring", ["9876543210"])
    fake.add_block_group(1, SAMPLE_BLOCK_NUMBERS)
    fake.add_scheduled_rows([121])
    fake.add_skills("General")
    fake.add_phone("9876543210", "desk")
    fake.add_phone("9876543211", "lobby")


async def emulator_answer(row: Row) -> tuple[int, Any]:
    """What FakeCloudAgent answers to the row's raw request (HTTP status, decoded JSON)."""
    assert row.provoke is not None
    method, path = REQUESTS[row.endpoint]
    headers = {"apiKey": "KK-demo-key"} if row.provoke.headers is None else row.provoke.headers
    async with FakeCloudAgent(**row.provoke.options) as fake, aiohttp.ClientSession() as session:
        seed(fake)
        for _ in range(row.provoke.before + 1):
            async with session.request(
                method, fake.url + path, json=row.provoke.body, headers=headers
            ) as response:
                status, body = response.status, await response.read()
    return status, json.loads(body)


def _id(row: Row) -> str:
    return f"{row.endpoint}: {row.label}"


@pytest.mark.parametrize("row", ROWS, ids=_id)
async def test_every_documented_answer(row: Row, stub: Any, make_client: Any) -> None:
    served = json.loads(row.served)
    assert denotes(row.cell, {**served, "token": "<JWT>"} if "token" in served else served)

    stub.answer(row.endpoint, row.served, row.http_status)
    ca = make_client(stub.url, retry=RetryPolicy(max_attempts=1))
    if isinstance(row.expect, type):
        with pytest.raises(APIError) as caught:
            await OPERATIONS[row.endpoint](ca)
        error = caught.value
        assert type(error) is row.expect
        assert error.endpoint == row.endpoint
        assert error.http_status == row.http_status
        if row.http_status == 200:  # an HTTP 429 is read by its status line, not its body
            assert error.status == served["status"]
            assert error.message == served["message"].strip()
        if row.endpoint != "generateToken":  # that endpoint's bodies are never kept
            assert error.body == row.served.decode()
    else:
        assert await OPERATIONS[row.endpoint](ca) == row.expect
    assert len(stub.requests) == 1

    if row.provoke is not None:
        status, answer = await emulator_answer(row)
        if "token" in answer:
            assert answer["token"].count(".") == 2
            answer = {**answer, "token": "<JWT>"}
        assert status == row.http_status
        assert denotes(row.cell, answer), answer
