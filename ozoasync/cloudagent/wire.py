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
    truncate_message,
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
    """The message as text: strings as they are, objects as compact JSON; cut to
    :data:`~ozoasync.errors.MESSAGE_LIMIT` characters."""
    if message is None:
        return ""
    if isinstance(message, str):
        return truncate_message(message.strip())
    return truncate_message(msgspec.json.encode(message).decode())


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
    text = message or f"HTTP {answer.http_status}"
    if cls is AuthenticationError:
        return AuthenticationError(
            text,
            endpoint=answer.endpoint,
            http_status=answer.http_status,
            status=status,
            body=answer.body,
            token_invalid=normal.startswith(_TOKEN_REJECTIONS),
        )
    return cls(
        text,
        endpoint=answer.endpoint,
        http_status=answer.http_status,
        status=status,
        body=answer.body,
    )


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
    return TokenBudgetExhaustedError(
        f"the server refused to issue a token ({error.message}): the account's token "
        "budget is spent",
        endpoint=error.endpoint,
        http_status=error.http_status,
        status=error.status,
        body=error.body,
        retry_after=error.retry_after,
    )


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
