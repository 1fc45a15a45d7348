"""CloudAgent wire format: pure request builders and answer interpreters (no I/O).

Conventions (from the vendor's pages and integrations): JSON bodies with ``status`` and
``message``; ``status`` in any case (``Success``, ``error``, ``false``...); ``message`` a string
or an object; HTTP 200 for most errors.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, TypeVar

import msgspec

from ..errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    InvalidParameterError,
    LimitExceededError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    TokenBudgetExhaustedError,
)
from ..transport.call import Answer, Call, decode_answer

API = "/ca_apis"

CAMPAIGN_DATA = "deleteCampaignData"
BLOCK_NUMBERS = "deleteBlockNumberGroup"
# The page's header names /ca_apis/deleteBlockNumber while its own cURL sample, title and
# error rows ("Invalid group id") describe deleteBlockNumberGroup. We send the sample's path
# and fall back to the header's on an HTTP 404 (see BlockNumbers).
BLOCK_NUMBERS_ALTERNATE = "deleteBlockNumber"
SCHEDULED_DATA = "deleteScheduledData"
PHONES = "PhoneManageV2"
TOKEN = "generateToken"
TOKEN_PATH = f"{API}/CAToken/generateToken"


class StatusMessage(msgspec.Struct):
    """The common envelope. ``message`` is a string on most answers, an object on some."""

    status: str | None = None
    message: str | dict[str, Any] | list[Any] | None = None
    data: Any = None


class BlockOutput(msgspec.Struct):
    success: list[str] = msgspec.field(default_factory=list)
    error: list[Any] = msgspec.field(default_factory=list)
    deleted: int = 0


class BlockAnswer(StatusMessage):
    output: BlockOutput | None = None


class TokenAnswer(StatusMessage):
    token: str | None = None


E = TypeVar("E", bound=StatusMessage)


def _json(value: dict[str, Any]) -> bytes:
    return msgspec.json.encode(value)


def encode_plus(number: str) -> str:
    """A leading ``+`` as ``%2B``, as the PhoneManageV2 page requires."""
    return "%2B" + number[1:] if number.startswith("+") else number


# --- requests ---------------------------------------------------------------------------


def delete_campaign_data(username: str, campaign: str, phone: str, name: str | None) -> Call:
    body: dict[str, Any] = {"userName": username, "campaignName": campaign, "phoneNumber": phone}
    if name is not None:
        body["name"] = name
    return Call(CAMPAIGN_DATA, "DELETE", f"{API}/{CAMPAIGN_DATA}", _json(body))


def delete_block_numbers(username: str, group_id: int, numbers: list[str], endpoint: str) -> Call:
    body = {"userName": username, "id": group_id, "blockNumbers": numbers}
    return Call(BLOCK_NUMBERS, "DELETE", f"{API}/{endpoint}", _json(body))


def delete_scheduled_data(username: str, row_ids: str) -> Call:
    # The parameter table says "rowId"; the notes, the cURL sample and the server's own error
    # ("Mandatory parameter row_id is missing") say "row_id". Both keys go in the body with
    # the same value: a server of either reading finds its key and ignores the other, at the
    # cost of no extra request.
    body = {"userName": username, "row_id": row_ids, "rowId": row_ids}
    return Call(SCHEDULED_DATA, "DELETE", f"{API}/{SCHEDULED_DATA}", _json(body))


def edit_phone(
    username: str,
    phone_number: str,
    phone_name: str,
    new_phone_number: str,
    new_phone_name: str | None,
    assign: str,
    unassign: str,
) -> Call:
    body: dict[str, Any] = {
        "userName": username,
        "action": "edit",
        "phoneNumber": encode_plus(phone_number),
        "phoneName": phone_name,
        "phoneNumberNew": encode_plus(new_phone_number),
    }
    if new_phone_name is not None:
        body["phoneNameNew"] = new_phone_name
    if assign:
        body["assignSkill"] = assign
    if unassign:
        body["unAssignSkill"] = unassign
    # An edit is not safe to repeat blindly: an undecodable answer is raised, not retried.
    return Call(PHONES, "POST", f"{API}/{PHONES}", _json(body), repeatable=False)


def generate_token(username: str) -> Call:
    return Call(TOKEN, "POST", TOKEN_PATH, _json({"userName": username}))


# --- answers ----------------------------------------------------------------------------


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


# The vendor's error messages, as the pages print them (matched without case or extra
# spaces; a row matches when the message starts with its text).
_ERRORS: tuple[tuple[str, type[APIError]], ...] = (
    ("max limit exceeded", RateLimitError),
    # [U] DeleteBulkData refuses a request while the previous one is being processed; the
    # words are undocumented (these are the emulator's). Nothing was done: retry later.
    ("previous request is still in process", RateLimitError),
    ("a maximum of 100 phone numbers", InvalidParameterError),
    ("phonenumbers should not be null are empty", InvalidParameterError),
    ("no record found", NotFoundError),
    ("no data found", NotFoundError),
    ("api key should not be null or empty", AuthenticationError),
    ("invalid user details", AuthenticationError),
    ("username should not be null or empty", AuthenticationError),
    ("username or apikey not valid", AuthenticationError),
    ("invalid username or apikey", AuthenticationError),
    ("username is null", AuthenticationError),
    ("token should not be null or empty", AuthenticationError),
    ("invalid token", AuthenticationError),
    ("token expired", AuthenticationError),
    ("phone_name or phone_number already exist", ConflictError),
    ("phone number limit exceeded", LimitExceededError),
    ("campaign should not be null are empty", InvalidParameterError),
    ("passed campaign are invalid", InvalidParameterError),
    ("phonenumber should not be null are empty", InvalidParameterError),
    ("invalid json pass valid json", InvalidParameterError),
    ("parameters are mandatory", InvalidParameterError),
    ("invalid group id", InvalidParameterError),
    ("mandatory parameter row_id is missing", InvalidParameterError),
    ("action not valid", InvalidParameterError),
    ("phonenumber must be numeric", InvalidParameterError),
    ("phonename cannot be empty", InvalidParameterError),
    ("phonenumber cannot be empty", InvalidParameterError),
)
_TOKEN_REJECTIONS = ("invalid token", "token expired")


def said(error: APIError, *phrases: str) -> bool:
    """Whether the vendor's message begins with one of ``phrases`` (matched as the error
    table matches: without case or extra spaces)."""
    return _normal(message_text(error.message)).startswith(tuple(map(_normal, phrases)))


def message_text(message: object) -> str:
    """The message as text: strings as they are, objects as compact JSON."""
    if message is None:
        return ""
    if isinstance(message, str):
        return message.strip()
    return msgspec.json.encode(message).decode()


def error_for(answer: Answer, status: str | None, message: str) -> APIError:
    """The exception for a failed answer, chosen by the vendor's message."""
    normal = _normal(message)
    cls: type[APIError] = APIError
    for prefix, candidate in _ERRORS:
        if normal.startswith(prefix):
            cls = candidate
            break
    else:
        if answer.http_status in (401, 403):
            cls = AuthenticationError
    error = cls(
        message or f"HTTP {answer.http_status}",
        endpoint=answer.endpoint,
        http_status=answer.http_status,
        status=status,
        body=answer.body,
    )
    if isinstance(error, AuthenticationError):
        error.token_rejected = normal.startswith(_TOKEN_REJECTIONS)
    return error


def _decode(answer: Answer, kind: type[E]) -> E:
    decoded = decode_answer(answer, kind, lambda page: error_for(page, None, ""))
    # Every documented body has a status or a message; a token answer may have only its token.
    has_token = isinstance(decoded, TokenAnswer) and bool(decoded.token)
    if decoded.status is None and decoded.message is None and not has_token:
        raise ResponseDecodeError(
            answer.endpoint, "no status and no message", answer.body, answer.http_status
        )
    return decoded


def succeeded(answer: Answer, kind: type[E]) -> E:
    """The decoded answer when it reports success; otherwise the matching exception."""
    decoded = _decode(answer, kind)
    if (decoded.status or "").strip().lower() == "success" and answer.http_status < 400:
        return decoded
    raise error_for(answer, decoded.status, message_text(decoded.message))


def interpret_status_message(answer: Answer) -> str:
    """Success of a status/message answer: the message as text."""
    return message_text(succeeded(answer, StatusMessage).message)


def interpret_block_numbers(answer: Answer) -> BlockOutput:
    decoded = succeeded(answer, BlockAnswer)
    if decoded.output is None:
        raise ResponseDecodeError(
            answer.endpoint, "success without 'output'", answer.body, answer.http_status
        )
    return decoded.output


def skills_rejected(message: str) -> bool:
    """PhoneManageV2 answers success even when it dropped the skills; its message says so."""
    return "failed to insert skills" in _normal(message)


def interpret_token(answer: Answer) -> TokenAnswer:
    try:
        decoded = _decode(answer, TokenAnswer)
    except ResponseDecodeError:
        # A truncated success body may hold part of a token: keep none of it.
        raise ResponseDecodeError(
            answer.endpoint, "not a token answer", "<withheld>", answer.http_status
        ) from None
    if decoded.token and answer.http_status < 400:
        return decoded
    # The error body of this endpoint never carries a token, but never risk echoing one.
    error = error_for(
        Answer(answer.endpoint, answer.http_status, answer.headers, b""),
        decoded.status,
        message_text(decoded.message),
    )
    raise token_refused(error) if isinstance(error, RateLimitError) else error


def token_refused(error: RateLimitError) -> TokenBudgetExhaustedError:
    """The vendor's own "Max limit exceeded" on generateToken: its token budget is spent, and
    asking again only spends more of it. Final, and it stops bulk calls."""
    refused = TokenBudgetExhaustedError(
        f"the server refused to issue a token ({error.message}): the account's token "
        "budget is spent",
        endpoint=error.endpoint,
        http_status=error.http_status,
        status=error.status,
        body=error.body,
    )
    refused.retry_after = error.retry_after
    return refused


def jwt_expiry(token: str, received: float, default_lifetime: float = 3600.0) -> float:
    """When a JWT received at ``received`` (epoch seconds, local clock) expires, on the local
    clock. With ``iat`` and ``exp`` it is ``received + (exp - iat)``: a local clock that is
    off does not shorten the token's life (which would burn the 10-per-hour budget). With
    ``exp`` alone it is ``exp``; without either, the vendor's documented 60 minutes."""
    parts = token.split(".")
    if len(parts) == 3:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        try:
            claims = msgspec.json.decode(base64.urlsafe_b64decode(payload))
        except (binascii.Error, ValueError, msgspec.DecodeError):
            claims = None
        if isinstance(claims, dict) and _is_number(claims.get("exp")):
            if _is_number(claims.get("iat")):
                return received + float(claims["exp"]) - float(claims["iat"])
            return float(claims["exp"])
    return received + default_lifetime


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- the cleanup workflow: Scheduled Data Status, Delete Campaign Bulk Data ----------------

SCHEDULED_LIST = "getScheduledData"
BULK_DATA = "DeleteBulkData"
MAX_BULK_NUMBERS = 100
MAX_BULK_CAMPAIGNS = 100
#: [U] The start of DeleteBulkData's refusal while busy (see the error table).
BULK_DATA_BUSY = "Previous request is still in process"
REDACTED = "<redacted>"

# The account's api_key, as Scheduled Data Status echoes it: a JSON member (`"api_key": "…"`)
# and a query-string parameter inside ScheduleParams (`api_key=…`). Matched on the raw text,
# so that a body cut off in the middle, or one that does not decode, is cleaned too.
_KEY_MEMBER = re.compile(
    r'("api_?key"\s*:\s*)(?:"(?:[^"\\]|\\.)*(?:"|\\?$)|[^,}\]\s]+)', re.IGNORECASE
)
_KEY_PARAMETER = re.compile(r"((?:^|[?&\"]|\\u0026)api_?key=)[^&\"\\\s]*", re.IGNORECASE)


def redact_api_keys(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every echoed api_key replaced, and each of ``secrets`` (the client's own
    key, when it is known) wherever else it appears."""
    text = _KEY_MEMBER.sub(f'\\1"{REDACTED}"', text)
    text = _KEY_PARAMETER.sub(f"\\1{REDACTED}", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def list_scheduled_data(username: str) -> Call:
    # A GET with a JSON body, as the vendor documents it.
    return Call(SCHEDULED_LIST, "GET", f"{API}/{SCHEDULED_LIST}", _json({"userName": username}))


class ScheduledRecord(msgspec.Struct):
    """One record of Scheduled Data Status, under the vendor's names (``api_key`` is not
    read: it never leaves the interpreter)."""

    Id: int | str | None = None
    CreatedDate: str | None = None
    ScheduleTime: str | None = None
    ScheduleParams: str | None = None
    RequestTime: str | None = None
    IsRequestSent: str | int | bool | None = None
    Response: Any = None


class ScheduledAnswer(msgspec.Struct):
    status: str | None = None
    message: str | ScheduledRecord | list[ScheduledRecord] | None = None


# [U] How an account without scheduled rows answers is undocumented: an empty list, an empty
# or JSON-null message, or "No data found" (with either status) all read as "no rows".
_NO_ROWS = ("no data found", "no record found")


def interpret_scheduled_data(
    answer: Answer, secrets: tuple[str, ...] = ()
) -> list[ScheduledRecord]:
    """The records of a Scheduled Data Status answer, with every api_key stripped from the
    body before anything (a record, an error, an undecodable body) can keep it."""
    clean = Answer(
        answer.endpoint,
        answer.http_status,
        answer.headers,
        redact_api_keys(answer.body.decode("utf-8", "replace"), secrets).encode(),
    )
    decoded = decode_answer(clean, ScheduledAnswer, lambda page: error_for(page, None, ""))
    status = (decoded.status or "").strip().lower()
    message = decoded.message
    if isinstance(message, str) and _normal(message) == "null" and status == "success":
        # The vendor's answer to an invalid apiKey is a success whose message is the text
        # "null" (not an empty result: an empty account has no reason to print a null).
        raise AuthenticationError(
            'invalid apiKey (the server answered success with message "null")',
            endpoint=clean.endpoint,
            http_status=clean.http_status,
            status=decoded.status,
            body=clean.body,
        )
    if isinstance(message, str) and _normal(message).startswith(_NO_ROWS):
        return []
    if status != "success" or clean.http_status >= 400:
        raise error_for(clean, decoded.status, message_text(message))
    if message is None or (isinstance(message, str) and not message.strip()):
        return []
    if isinstance(message, ScheduledRecord):
        return [message]
    if isinstance(message, list):
        return message
    raise ResponseDecodeError(
        clean.endpoint, "message is neither a record nor a list", clean.body, clean.http_status
    )


def delete_bulk_data(username: str, campaigns: list[str], numbers: list[str]) -> Call:
    body = {"userName": username, "phoneNumber": numbers, "campaignName": campaigns}
    return Call(BULK_DATA, "DELETE", f"{API}/{BULK_DATA}", _json(body))


class BulkDataSuccess(msgspec.Struct, frozen=True):
    """What a DeleteBulkData success said: its message as text and the count of deleted
    records, when it gave one."""

    message: str
    deleted_count: int | None


_COUNT_IN_TEXT = re.compile(r"(\d+)\s+(?:records?|rows?|numbers?)?\s*deleted", re.IGNORECASE)


def _count_in(container: object) -> int | None:
    """[U] The success body is undocumented: a count is any int member named like one
    (``deleted``, ``deletedCount``, ``count``, ...) of the body or of its message object."""
    if not isinstance(container, dict):
        return None
    for key, value in container.items():
        name = str(key).lower()
        if ("deleted" in name or name.endswith("count")) and _is_number(value):
            # Whole, non-negative counts only (a float such as 1e400 is not a count).
            return value if isinstance(value, int) and value >= 0 else None
    return None


def interpret_bulk_data(answer: Answer) -> BulkDataSuccess:
    """A DeleteBulkData success (``status: success`` with or without counts), as it said."""
    decoded = succeeded(answer, StatusMessage)
    text = message_text(decoded.message)
    raw = msgspec.json.decode(answer.body)  # succeeded() has decoded it once already
    count = _count_in(raw)
    if count is None:
        count = _count_in(decoded.message)
    if count is None:
        found = _COUNT_IN_TEXT.search(text)
        count = int(found.group(1)) if found and len(found.group(1)) <= 18 else None
    return BulkDataSuccess(text, count)
