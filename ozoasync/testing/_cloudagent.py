"""FakeCloudAgent: an emulator of the CloudAgent data-removal APIs on real loopback HTTP.

It answers every case the vendor's pages document with the vendor's documented body, issues
real expiring JWTs (HS512, each new one invalidating the earlier ones, as the vendor does),
and keeps the state a test seeds: campaigns with numbers, block-number groups, scheduled rows,
phones and skills.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import msgspec
from aiohttp import web

from ..cloudagent import wire
from ..row_ids import merge_spans, parse_row_id_string
from ._server import EmulatorServer, RateLimitAnswer, json_response
from .faults import FaultPlan

AuthMode = Literal["api_key", "token"]
#: How the emulator answers Scheduled Data Status for an account without rows ([U]: the
#: vendor does not document it): an empty list, "No data found", or an empty message.
EmptyScheduledAnswer = Literal["empty_list", "no_data_found", "empty_message"]
#: DeleteBulkData's success body ([U]: undocumented): with a count of deleted records or not.
BulkDataAnswer = Literal["counts", "plain"]
#: [U] How an account without DeleteBulkData answers it (the vendor does not document it).
BulkDataRefusal = Literal["404", "not_enabled"]
BULK_DATA_NOT_ENABLED = "API is not enabled for this account"
#: [U] The vendor documents that DeleteBulkData accepts no new request while one is being
#: processed, but not the words of the refusal; the emulator and the client agree on these.
BULK_DATA_BUSY = f"{wire.BULK_DATA_BUSY}, please try after some time"


def _error(message: str, status: str = "error", *, data: bool = False) -> web.Response:
    payload: dict[str, Any] = {"status": status, "message": message}
    if data:
        payload["data"] = None
    return json_response(payload)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def normalise_block_number(number: str) -> str:
    """How the vendor's sample reports block numbers: ``+<country><number>`` (a bare
    10-digit number is taken as Indian)."""
    if number.startswith("+"):
        return number
    return "+" + number if len(number) > 10 else "+91" + number


@dataclass
class FakeScheduledRow:
    """The details of a scheduled row (Scheduled Data Status)."""

    phone_number: str = ""
    campaign: str = ""
    name: str = ""
    schedule_time: str = "2026-01-01 10:00:00"
    sent: bool = False
    skill: str = ""
    agent_id: str = ""
    priority: str = "1"
    response: str = ""


@dataclass
class FakePhone:
    """A phone of the account: its name and skills."""

    name: str
    skills: set[str] = field(default_factory=set)


BlockErrorSpelling = Literal["as_sent", "normalised"]


class FakeCloudAgent(EmulatorServer):
    """An emulator of CloudAgent. ``async with FakeCloudAgent() as fake:`` then point a
    client at ``fake.url`` with ``fake.username`` and ``fake.api_key``.

    - ``auth_mode``: "api_key" (the account's BASIC_AUTH) or "token" (TOKEN_AUTH: every call
      but generateToken needs ``Authorization: Bearer``); tokens live ``token_lifetime`` s.
    - ``row_id_field``: which key deleteScheduledData reads ("row_id" or "rowId": the
      vendor's page says both). ``block_numbers_path``: "deleteBlockNumberGroup" or
      "deleteBlockNumber" (ditto); the other path answers 404. ``block_errors_spelled``:
      how ``output.error`` spells a number not in the group, "as_sent" or "normalised" like
      ``output.success`` (``+<country><number>``): the vendor's page shows only an empty list.
    - ``rate_limits``: ``{endpoint: (max_requests, period)}`` counted on arrival in a sliding
      window; ``rate_limit_answer``: "429" (HTTP 429 + Retry-After) or "body" (HTTP 200 with
      "Max limit exceeded"). ``faults``: a :class:`FaultPlan`. ``arrival_jitter``: hold each
      request up to that many seconds before it counts as arrived (network delay).
    - Seed with :meth:`add_campaign`, :meth:`add_block_group`, :meth:`add_scheduled_rows`,
      :meth:`add_phone`, :meth:`add_skills`; read ``campaigns``, ``block_groups``,
      ``scheduled_rows``, ``phones``, ``requests``, ``counters``, ``tokens_generated``.
    - Scheduled Data Status echoes the account's api_key in every record and its
      ScheduleParams, as the vendor does; ``empty_scheduled_answer`` picks how an account
      without rows answers, and a single row comes back as an object, not a list.
    - DeleteBulkData: ``bulk_data_processing_time`` seconds per request, during which any
      other request is refused with :data:`BULK_DATA_BUSY`; 2 requests per minute unless
      ``rate_limits`` says otherwise; ``bulk_data_answer`` picks the success body.
      ``bulk_data_refusal`` plays an account without DeleteBulkData: ``"404"`` (a server
      without the route) or ``"not_enabled"`` (an authentication error saying the API is not
      enabled for the account).
    """

    def __init__(
        self,
        *,
        username: str = "demo",
        api_key: str = "KK-demo-key",
        auth_mode: AuthMode = "api_key",
        token_lifetime: float = 3600.0,
        row_id_field: Literal["row_id", "rowId"] = "row_id",
        block_numbers_path: Literal[
            "deleteBlockNumberGroup", "deleteBlockNumber"
        ] = "deleteBlockNumberGroup",
        block_errors_spelled: BlockErrorSpelling = "as_sent",
        phone_number_limit_reached: bool = False,
        rate_limits: dict[str, tuple[int, float]] | None = None,
        rate_limit_answer: RateLimitAnswer = "429",
        faults: FaultPlan | None = None,
        arrival_jitter: float = 0.0,
        empty_scheduled_answer: EmptyScheduledAnswer = "no_data_found",
        bulk_data_processing_time: float = 0.0,
        bulk_data_answer: BulkDataAnswer = "counts",
        bulk_data_refusal: BulkDataRefusal | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            host=host,
            port=port,
            rate_limits={"DeleteBulkData": (2, 60.0), **(rate_limits or {})},
            rate_limit_answer=rate_limit_answer,
            faults=faults,
            arrival_jitter=arrival_jitter,
        )
        self.username = username
        self.api_key = api_key
        self.auth_mode = auth_mode
        self.token_lifetime = token_lifetime
        self.row_id_field = row_id_field
        self.block_numbers_path = block_numbers_path
        self.block_errors_spelled = block_errors_spelled
        self.phone_number_limit_reached = phone_number_limit_reached
        self.campaigns: dict[str, set[str]] = {}
        self.block_groups: dict[int, set[str]] = {}
        self.scheduled_rows: set[int] = set()
        self.scheduled_details: dict[int, FakeScheduledRow] = {}
        self.empty_scheduled_answer = empty_scheduled_answer
        self.bulk_data_processing_time = bulk_data_processing_time
        self.bulk_data_answer = bulk_data_answer
        self.bulk_data_refusal = bulk_data_refusal
        self._bulk_data_busy = False
        self.phones: dict[str, FakePhone] = {}
        self.skills: set[str] = set()
        self.tokens_generated = 0
        self._signing_key = secrets.token_bytes(32)
        self._current_token: str | None = None

    def __repr__(self) -> str:
        return f"FakeCloudAgent(username={self.username!r}, auth_mode={self.auth_mode!r})"

    # --- seeding ----------------------------------------------------------------------------

    def add_campaign(self, name: str, numbers: Iterable[str] = ()) -> None:
        self.campaigns.setdefault(name, set()).update(numbers)

    def add_block_group(self, group_id: int, numbers: Iterable[str] = ()) -> None:
        self.block_groups.setdefault(group_id, set()).update(
            normalise_block_number(n) for n in numbers
        )

    def add_scheduled_rows(
        self,
        row_ids: Iterable[int],
        *,
        phone_number: str = "",
        campaign: str = "",
        **details: Any,
    ) -> None:
        """Seed rows by id, all of ``phone_number`` in ``campaign`` (and any other field of
        :class:`FakeScheduledRow`) for Scheduled Data Status."""
        for row_id in row_ids:
            self.scheduled_rows.add(row_id)
            self.scheduled_details[row_id] = FakeScheduledRow(
                phone_number=phone_number, campaign=campaign, **details
            )

    def add_skills(self, *names: str) -> None:
        self.skills.update(names)

    def add_phone(self, number: str, name: str, skills: Iterable[str] = ()) -> None:
        self.phones[number] = FakePhone(name, set(skills))

    # --- tokens -----------------------------------------------------------------------------

    def issue_token(self) -> str:
        """A new HS512 JWT; it invalidates every earlier one."""
        now = time.time()
        header = _b64(b'{"alg":"HS512","typ":"JWT"}')
        claims = {"sub": self.username, "iat": now, "exp": now + self.token_lifetime}
        payload = _b64(msgspec.json.encode(claims))
        signature = hmac.new(self._signing_key, f"{header}.{payload}".encode(), hashlib.sha512)
        token = f"{header}.{payload}.{_b64(signature.digest())}"
        self._current_token = token
        self.tokens_generated += 1
        return token

    def _token_problem(self, token: str) -> str | None:
        parts = token.split(".")
        if len(parts) != 3:
            return "Invalid Token"
        expected = hmac.new(
            self._signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha512
        ).digest()
        # Bytes: compare_digest refuses str with non-ASCII characters (a garbled header).
        if not hmac.compare_digest(_b64(expected).encode(), parts[2].encode()):
            return "Invalid Token"
        claims = msgspec.json.decode(
            base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        )
        if claims["exp"] <= time.time():
            return "Token Expired"
        if token != self._current_token:
            return "Invalid Token"
        return None

    # --- the shared checks ------------------------------------------------------------------

    def _credentials_problem(self, request: web.Request) -> str | None:
        """The vendor's answer when the account credentials are missing or wrong."""
        if self.auth_mode == "token":
            authorization = request.headers.get("Authorization", "")
            token = authorization.removeprefix("Bearer ").strip()
            if not token:
                return "Token Should Not be Null or Empty."
            return self._token_problem(token)
        if "apiKey" not in request.headers or not request.headers["apiKey"]:
            return "Api Key Should Not be Null or Empty."
        if request.headers["apiKey"] != self.api_key:
            return "Invalid User Details"
        return None

    async def _body(self, request: web.Request) -> Any:
        try:
            return msgspec.json.decode(await request.read())
        except msgspec.DecodeError:
            return None

    def too_many_requests(self, retry_after: str) -> web.Response:
        response = json_response({"status": "error", "message": "Max limit exceeded"}, 429)
        response.headers["Retry-After"] = retry_after
        return response

    def rate_limited_answer(self, retry_after: float) -> web.Response:
        if self.rate_limit_answer == "body":
            return json_response({"status": "Error", "message": "Max limit exceeded"})
        return super().rate_limited_answer(retry_after)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.delete("/ca_apis/deleteCampaignData", self._delete_campaign_data),
            web.delete(f"/ca_apis/{self.block_numbers_path}", self._delete_block_numbers),
            web.delete("/ca_apis/deleteScheduledData", self._delete_scheduled_data),
            web.get("/ca_apis/getScheduledData", self._scheduled_data_status),
            web.delete("/ca_apis/DeleteBulkData", self._delete_bulk_data),
            web.post("/ca_apis/PhoneManageV2", self._phone_manage),
            web.post("/ca_apis/CAToken/generateToken", self._generate_token),
        ]

    # --- endpoints --------------------------------------------------------------------------

    async def _generate_token(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        username = body.get("userName") if isinstance(body, dict) else None
        if not username:
            return _error("UserName is null", "false", data=True)
        if request.headers.get("apiKey") != self.api_key or username != self.username:
            return _error("Invalid userName or apiKey", "false", data=True)
        return json_response({"token": self.issue_token(), "message": ""})

    async def _delete_campaign_data(self, request: web.Request) -> web.Response:
        problem = self._credentials_problem(request)
        if problem is not None:
            return _error(problem, "false", data=True)
        body = await self._body(request)
        if not isinstance(body, dict) or isinstance(body.get("phoneNumber"), list):
            return _error("Invalid Json Pass Valid Json", "false", data=True)
        if "userName" not in body or not body["userName"]:
            return _error("Username Should Not be Null or Empty.", "false", data=True)
        if body["userName"] != self.username:
            return _error("Invalid User Details", "false", data=True)
        campaign = body.get("campaignName")
        if not campaign:
            return _error("Campaign should not be null are empty", "Error")
        if campaign not in self.campaigns:
            return _error("Passed campaign are invalid", "Error")
        number = body.get("phoneNumber")
        if not number:
            return _error("PhoneNumber should not be null are empty", "Error")
        numbers = self.campaigns[campaign]
        if number not in numbers:
            return _error("No Record Found", "Error")
        numbers.discard(number)
        return json_response({"status": "Success", "message": "Deleted Successfully"})

    async def _delete_block_numbers(self, request: web.Request) -> web.Response:
        problem = self._credentials_problem(request)
        if problem is not None:
            return _error(problem, "false", data=True)
        body = await self._body(request)
        if not isinstance(body, dict) or body.get("userName") != self.username:
            return _error("Invalid User Details", "false", data=True)
        if "id" not in body:
            return _error("Parameters are mandatory")
        group_id = body["id"]
        if not isinstance(group_id, int) or group_id not in self.block_groups:
            return _error("Invalid group id")
        numbers = body.get("blockNumbers")
        if not isinstance(numbers, list) or not numbers:
            return _error("Parameters are mandatory")
        if len(numbers) > 100:
            return _error("A maximum of 100 blockNumbers is allowed per request")
        group = self.block_groups[group_id]
        success, errors, deleted = [], [], 0
        for raw in numbers:
            number = normalise_block_number(str(raw))
            if number in group:
                group.discard(number)
                deleted += 1
                success.append(number)
            elif number in success:
                success.append(number)
            else:
                errors.append(number if self.block_errors_spelled == "normalised" else str(raw))
        return json_response(
            {
                "status": "success",
                "message": "deleted",
                "input": {"id": group_id, "blockNumbers": numbers},
                "output": {"success": success, "error": errors, "deleted": deleted},
            }
        )

    async def _delete_scheduled_data(self, request: web.Request) -> web.Response:
        if self.auth_mode == "api_key" and request.headers.get("apiKey") != self.api_key:
            # The vendor answers an invalid apiKey here as it answers an unknown row.
            return _error("No data found")
        problem = self._credentials_problem(request)
        if problem is not None:
            return _error(problem, "false", data=True)
        body = await self._body(request)
        value = body.get(self.row_id_field) if isinstance(body, dict) else None
        if value is None or value == "":
            return _error("Mandatory parameter row_id is missing")
        try:
            spans = merge_spans(parse_row_id_string(str(value)))
        except ValueError:
            return _error("No data found")
        hit = sorted(r for r in self.scheduled_rows if any(a <= r <= b for a, b in spans))
        if not hit:
            return _error("No data found")
        self.scheduled_rows.difference_update(hit)
        for row_id in hit:
            self.scheduled_details.pop(row_id, None)
        return json_response(
            {"status": "success", "message": {"deleted": len(hit), "row_id": str(value)}}
        )

    async def _phone_manage(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if not isinstance(body, dict):
            return _error("action not valid")
        problem = self._credentials_problem(request)
        if problem is not None and self.auth_mode == "token":
            # A token account answers token problems alike on every endpoint.
            return _error(problem, "false", data=True)
        if problem is not None or body.get("userName") != self.username:
            return _error("userName or apiKey not valid")
        if body.get("action") != "edit":
            return _error("action not valid")
        number = str(body.get("phoneNumber") or "").replace("%2B", "+")
        if not number:
            return _error("phoneNumber cannot be empty")
        new_number = str(body.get("phoneNumberNew") or "").replace("%2B", "+")
        if not new_number:
            return _error("phoneNumber cannot be empty")
        if not all(n.removeprefix("+").isdigit() for n in (number, new_number)):
            return _error("phoneNumber must be numeric")
        name = str(body.get("phoneName") or "")
        if not name:
            return _error("phoneName cannot be empty")
        phone = self.phones.get(number)
        if phone is None or phone.name.lower() != name.lower():
            return _error("No Record Found")
        new_name = str(body.get("phoneNameNew") or phone.name)
        taken = any(
            (n == new_number or p.name.lower() == new_name.lower())
            for n, p in self.phones.items()
            if n != number
        )
        if taken:
            return _error("phone_name or phone_number already exist")
        if self.phone_number_limit_reached:
            return _error(
                " Phone Number Limit Exceeded. Please refer to the 'Phone Number Creation "
                "Limit' option under 'Edit Profile' for reference. "
            )
        assign = str(body.get("assignSkill", "")).split(",") if "assignSkill" in body else []
        unassign = str(body.get("unAssignSkill", "")).split(",") if "unAssignSkill" in body else []
        del self.phones[number]
        phone.name = new_name
        self.phones[new_number] = phone
        if any(not s or s not in self.skills for s in [*assign, *unassign]):
            return json_response(
                {
                    "status": "success",
                    "message": "record inserted successfully and failed to insert skills "
                    "please pass the valid skills",
                }
            )
        phone.skills.update(assign)
        phone.skills.difference_update(unassign)
        return json_response({"status": "success", "message": "record inserted successfully"})

    def _scheduled_record(self, row_id: int) -> dict[str, Any]:
        row = self.scheduled_details.get(row_id, FakeScheduledRow())
        params = urlencode(
            {
                "api_key": self.api_key,
                "campaign_name": row.campaign,
                "action": "start",
                "format": "json",
                "PhoneNumber": row.phone_number,
                "Name": row.name,
                "ScheduledTime": row.schedule_time,
                "skill": row.skill,
                "AgentID": row.agent_id,
                "Priority": row.priority,
            }
        )
        return {
            "Id": str(row_id),
            "api_key": self.api_key,
            "CreatedDate": "2025-12-31 09:00:00",
            "ScheduleTime": row.schedule_time,
            "ScheduleParams": params,
            "RequestTime": row.schedule_time if row.sent else None,
            "IsRequestSent": "1" if row.sent else "0",
            "Response": row.response,
        }

    async def _scheduled_data_status(self, request: web.Request) -> web.Response:
        if self.auth_mode == "api_key" and request.headers.get("apiKey") != self.api_key:
            # The vendor's answer to an invalid apiKey: a success whose message is "null".
            return json_response({"status": "success", "message": "null"})
        problem = self._credentials_problem(request)
        if problem is not None:
            return _error(problem, "false", data=True)
        body = await self._body(request)
        if not isinstance(body, dict) or body.get("userName") != self.username:
            return _error("Invalid User Details", "false", data=True)
        records = [self._scheduled_record(r) for r in sorted(self.scheduled_rows)]
        if not records:
            if self.empty_scheduled_answer == "no_data_found":
                return _error("No data found")
            empty: list[Any] | str = [] if self.empty_scheduled_answer == "empty_list" else ""
            return json_response({"status": "success", "message": empty})
        message = records[0] if len(records) == 1 else records
        return json_response({"status": "success", "message": message})

    async def _delete_bulk_data(self, request: web.Request) -> web.Response:
        if self.bulk_data_refusal == "404":
            return web.Response(status=404, text="404: Not Found")
        if self.bulk_data_refusal == "not_enabled":
            return _error(BULK_DATA_NOT_ENABLED, "false", data=True)
        if self._bulk_data_busy:
            return _error(BULK_DATA_BUSY, "Error")
        self._bulk_data_busy = True
        try:
            if self.bulk_data_processing_time:
                await asyncio.sleep(self.bulk_data_processing_time)
            return await self._bulk_data_answer(request)
        finally:
            self._bulk_data_busy = False

    async def _bulk_data_answer(self, request: web.Request) -> web.Response:
        problem = self._credentials_problem(request)
        if problem is not None:
            return _error(problem, "false", data=True)
        body = await self._body(request)
        if not isinstance(body, dict):
            return _error("Invalid Json Pass Valid Json", "false", data=True)
        if not body.get("userName"):
            return _error("Username Should Not be Null or Empty.", "false", data=True)
        if body["userName"] != self.username:
            return _error("Invalid User Details", "false", data=True)
        numbers, campaigns = body.get("phoneNumber"), body.get("campaignName")
        if not isinstance(numbers, list) or not numbers:
            return _error("PhoneNumbers should not be null are empty", "Error")
        if not isinstance(campaigns, list) or not campaigns:
            return _error("Campaign should not be null are empty", "Error")
        if len(numbers) > 100 or len(campaigns) > 100:
            # The vendor's page cuts this message off after "or 10"; the rest is ours.
            return _error("A maximum of 100 phone numbers or 100 campaigns is allowed", "Error")
        if any(not isinstance(c, str) or c not in self.campaigns for c in campaigns):
            return _error("Passed campaign are invalid", "Error")
        deleted = 0
        for campaign in campaigns:
            present = self.campaigns[campaign] & {str(n) for n in numbers}
            self.campaigns[campaign] -= present
            deleted += len(present)
        answer: dict[str, Any] = {"status": "success", "message": "Data deleted successfully"}
        if self.bulk_data_answer == "counts":
            answer["deletedCount"] = deleted
        return json_response(answer)
