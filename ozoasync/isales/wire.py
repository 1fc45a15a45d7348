"""CC-iSales wire format: pure request builders and answer interpreters (no I/O).

Every answer is the envelope ``resultCode``, ``resultDesc``, ``returnCode``, ``returnDesc``;
``"0200000"`` is success. A calling-number change reports how many numbers it touched in its
description: ``"delete callerNo success.num:1"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from .. import validation
from ..errors import (
    APIError,
    AuthenticationError,
    InvalidParameterError,
    NotFoundError,
    ResponseDecodeError,
)
from ..results import Campaign
from ..transport.call import Answer, Call, decode_answer

API = "/rest/isales/v1/openapi"

DELETE_CALLER_NO = "deleteCallerNo"
ADD_CALLER_NO = "addCallerNo"
GET_CAMPAIGN = "getCampaign"

SUCCESS = "0200000"
CAMPAIGN_NOT_FOUND = "0200007"
PARAMETER_ERROR = "0200001"
MAX_NUMBERS_PER_REQUEST = 100
MAX_VDN_ID = 9999
MAX_PRIORITY = 5

# The vendor fixes this value; the transport's plain "application/json" is overridden.
HEADERS: Mapping[str, str] = {"Content-Type": "application/json; charset=UTF-8"}

# The vendor's error table (Deleting Calling Numbers, Table 6), descriptions as printed.
ERROR_DESCRIPTIONS: Mapping[str, str] = {
    "0200001": "Parameter error. For details about the error, see resultDesc.",
    "0200007": "The outbound campaign does not exist.",
    "02000001": "Empty parameter.",
    "02000002": "The parameter contains invalid characters.",
    "02000003": "The parameter length cannot exceed the maximum length.",
    "02000004": "The parameter length cannot be less than the minimum length.",
    "02000005": "The parameter length must be within the specified range.",
    "02000006": "Incorrect parameter type.",
    "02000007": "Incorrect parameter value.",
    "02000008": "Parameter conversion error. Check the request parameters.",
    "02000009": "Incorrect parameter combination. Check the request parameters.",
    "02000010": "The hour and minute parameters must be set at the same time.",
    "02000011": "The number of parameters cannot exceed the specified number.",
}

_ERROR_CLASSES: Mapping[str, type[APIError]] = {
    code: NotFoundError if code == CAMPAIGN_NOT_FOUND else InvalidParameterError
    for code in ERROR_DESCRIPTIONS
}

_COUNT = re.compile(r"\bnum\s*[:=]\s*(\d+)", re.IGNORECASE)


class Envelope(msgspec.Struct, rename="camel"):
    """Every iSales answer. ``result*`` and ``return*`` carry the same facts."""

    result_code: str | None = None
    result_desc: str | None = None
    return_code: str | None = None
    return_desc: str | None = None

    @property
    def code(self) -> str | None:
        return self.result_code or self.return_code

    @property
    def description(self) -> str:
        return (self.result_desc or self.return_desc or "").strip()


class CampaignAnswer(Envelope):
    """Campaign details; the object comes as ``resultData`` (or ``data`` on some versions)."""

    result_data: Any = None
    data: Any = None


E = TypeVar("E", bound=Envelope)


# --- requests ---------------------------------------------------------------------------


def checked_ids(vdn_id: object, campaign_id: object) -> tuple[int, int]:
    """The VDN id (1 to 9999) and campaign id (positive), checked before anything is sent."""
    return (
        validation.positive_int(vdn_id, "vdn_id", maximum=MAX_VDN_ID),
        validation.positive_int(campaign_id, "campaign_id"),
    )


def caller_numbers_path(vdn_id: int, campaign_id: int) -> str:
    return f"{API}/campaigns/{vdn_id}/callerNo/{campaign_id}"


def campaign_path(vdn_id: int, campaign_id: int) -> str:
    return f"{API}/campaigns/{vdn_id}/{campaign_id}"


def delete_caller_numbers(vdn_id: int, campaign_id: int, numbers: list[str]) -> Call:
    body = msgspec.json.encode({"callerNo": [{"accessCode": n} for n in numbers]})
    path = caller_numbers_path(vdn_id, campaign_id)
    return Call(DELETE_CALLER_NO, "DELETE", path, body, headers=HEADERS)


def add_caller_numbers(vdn_id: int, campaign_id: int, numbers: list[str], priority: int) -> Call:
    entries = [{"accessCode": n, "priority": priority} for n in numbers]
    body = msgspec.json.encode({"callerNo": entries})
    path = caller_numbers_path(vdn_id, campaign_id)
    # An addition whose answer cannot be read is raised rather than blindly repeated.
    return Call(ADD_CALLER_NO, "POST", path, body, headers=HEADERS, repeatable=False)


def get_campaign(vdn_id: int, campaign_id: int) -> Call:
    return Call(GET_CAMPAIGN, "GET", campaign_path(vdn_id, campaign_id), headers=HEADERS)


# --- answers ----------------------------------------------------------------------------


def error_for(answer: Answer, code: str | None, description: str) -> APIError:
    """The exception for a refused answer: by HTTP status for credentials (401/403), else by
    the vendor's code; the vendor's code and description are kept."""
    if answer.http_status in (401, 403):
        cls: type[APIError] = AuthenticationError
    else:
        cls = _ERROR_CLASSES.get(code or "", APIError)
    message = (
        description
        or ERROR_DESCRIPTIONS.get(code or "")
        or (f"resultCode {code}" if code else f"HTTP {answer.http_status}")
    )
    return cls(
        message,
        endpoint=answer.endpoint,
        http_status=answer.http_status,
        code=code,
        body=answer.body,
    )


def succeeded(answer: Answer, kind: type[E]) -> E:
    """The decoded envelope when it reports success; otherwise the matching exception."""
    decoded = decode_answer(answer, kind, lambda page: error_for(page, None, ""))
    code = decoded.code
    if code == SUCCESS and answer.http_status < 400:
        return decoded
    if code is None and answer.http_status < 400:
        raise ResponseDecodeError(answer.endpoint, "no resultCode", answer.body, answer.http_status)
    raise error_for(answer, code, decoded.description)


def confirmed_count(envelope: Envelope) -> int | None:
    """The ``num:N`` of a success description, or None when the server gave no count."""
    for text in (envelope.result_desc, envelope.return_desc):
        match = _COUNT.search(text or "")
        if match:
            return int(match.group(1))
    return None


def interpret_caller_numbers(answer: Answer) -> int | None:
    """Success of an addition or deletion: the count the server confirmed, if it said."""
    return confirmed_count(succeeded(answer, Envelope))


def interpret_campaign(answer: Answer) -> dict[str, Any]:
    """Success of a campaign query: the campaign object as the server sent it."""
    decoded = succeeded(answer, CampaignAnswer)
    for details in (decoded.result_data, decoded.data):
        if isinstance(details, dict):
            return details
    raise ResponseDecodeError(
        answer.endpoint, "success without a 'resultData' object", answer.body, answer.http_status
    )


def campaign_from(vdn_id: int, campaign_id: int, details: dict[str, Any]) -> Campaign:
    """A :class:`Campaign` from the server's details: ``name`` (or ``campaignName``),
    ``status``, and the ``callerNo`` entries' ``accessCode`` (plain strings accepted too)."""
    name = details.get("name", details.get("campaignName"))
    status = details.get("status")
    entries = details.get("callerNo")
    numbers = []
    for entry in entries if isinstance(entries, list) else []:
        code = entry.get("accessCode") if isinstance(entry, dict) else entry
        if isinstance(code, str | int) and not isinstance(code, bool):
            numbers.append(str(code))
    return Campaign(
        vdn_id=vdn_id,
        campaign_id=campaign_id,
        name=name if isinstance(name, str) else "",
        status=status if isinstance(status, int | str) and not isinstance(status, bool) else None,
        caller_numbers=tuple(numbers),
        details=details,
    )


# --- campaign list ------------------------------------------------------------------------

LIST_CAMPAIGNS = "listCampaigns"
DEFAULT_ROWS_PER_PAGE = 100
MAX_ROWS_PER_PAGE = 1000
FIRST_PAGE = 1

# [U] The page shape is undocumented beyond the query: the campaigns come as a list under
# ``resultData`` or ``data``, or as an object there holding the list and a total.
_LIST_KEYS = ("list", "campaigns", "records", "rows", "data", "result")
_TOTAL_KEYS = ("total", "totalCount", "totalNum", "totalRows", "count")


def campaigns_path(vdn_id: int) -> str:
    return f"{API}/campaigns/{vdn_id}"


def list_campaigns(vdn_id: int, page: int, rows_per_page: int) -> Call:
    query = {"curPage": str(page), "rowsPerPage": str(rows_per_page)}
    return Call(LIST_CAMPAIGNS, "GET", campaigns_path(vdn_id), query=query, headers=HEADERS)


class CampaignPage(msgspec.Struct, frozen=True):
    """One page of campaigns (the server's objects) and the total it announced, if any."""

    items: list[dict[str, Any]]
    total: int | None


def _total(container: dict[str, Any]) -> int | None:
    for key in _TOTAL_KEYS:
        value = container.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _page_from(container: Any) -> CampaignPage | None:
    if isinstance(container, list):
        return CampaignPage([item for item in container if isinstance(item, dict)], None)
    if isinstance(container, dict):
        for key in _LIST_KEYS:
            if isinstance(container.get(key), list):
                items = [item for item in container[key] if isinstance(item, dict)]
                return CampaignPage(items, _total(container))
    return None


def interpret_campaign_page(answer: Answer) -> CampaignPage:
    """Success of a campaign-list query: the page's campaigns, and the total if it said."""
    decoded = succeeded(answer, CampaignAnswer)
    for container in (decoded.result_data, decoded.data):
        page = _page_from(container)
        if page is not None:
            if page.total is None:
                raw = msgspec.json.decode(answer.body)
                return CampaignPage(page.items, _total(raw) if isinstance(raw, dict) else None)
            return page
    if decoded.result_data is None and decoded.data is None:
        return CampaignPage([], None)  # a page past the end may carry no data at all
    raise ResponseDecodeError(
        answer.endpoint, "success without a list of campaigns", answer.body, answer.http_status
    )


def listed_campaign(vdn_id: int, details: dict[str, Any]) -> Campaign:
    """A :class:`Campaign` from one entry of a list page (its id is ``campaignId`` or
    ``id``)."""
    raw = details.get("campaignId", details.get("id"))
    if isinstance(raw, str) and raw.isdecimal() and len(raw) <= 19:
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        entry = msgspec.json.encode(details)
        raise ResponseDecodeError(LIST_CAMPAIGNS, "a listed campaign without an id", entry)
    return campaign_from(vdn_id, raw, details)
