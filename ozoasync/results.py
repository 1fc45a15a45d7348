"""Typed, frozen results of every operation (msgspec Structs). Every result has ``.ok``, and
every result encodes to JSON with :func:`to_json` (or ``msgspec.json.encode(result,
enc_hook=enc_hook)``), FAILED ones included."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import msgspec

from .errors import APIError, OzoError


class Outcome(enum.StrEnum):
    """What happened to one record."""

    DELETED = "deleted"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    #: Added (iSales calling numbers).
    ADDED = "added"
    #: In a chunk the server confirmed only in part (iSales answers a count, not which
    #: numbers): the number was changed, or already was as asked.
    PARTLY_CONFIRMED = "partly_confirmed"


class CampaignDataDeletion(msgspec.Struct, frozen=True, kw_only=True):
    """One deleteCampaignData record. ``error`` is set when ``outcome`` is FAILED."""

    phone_number: str
    outcome: Outcome
    message: str = ""
    error: OzoError | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        """True unless the deletion failed (a number already gone is not a failure)."""
        return self.outcome is not Outcome.FAILED


class NumberResult(msgspec.Struct, frozen=True, kw_only=True):
    """What became of one input number of a chunked call, spelled as the user gave it
    (surrounding whitespace removed; rejected input exactly as given).

    ``message`` says why in words (the server's reason, or the SDK's); ``error`` is the
    exception that failed the number: set for every FAILED number except one the server
    answered for without naming it (its message says so)."""

    number: str
    outcome: Outcome
    message: str = ""
    error: OzoError | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.FAILED


class BlockNumberChunk(msgspec.Struct, frozen=True, kw_only=True):
    """One deleteBlockNumberGroup request (or a batch of rejected input that sent nothing,
    ``requests == 0``): one item per distinct input number of the chunk, and the server's
    ``output.deleted`` count (0 when the request failed)."""

    items: tuple[NumberResult, ...]
    requests: int = 1
    deleted_count: int = 0

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)


class CallerNumberChunk(msgspec.Struct, frozen=True, kw_only=True):
    """One iSales calling-number request (or rejected input, ``requests == 0``): one item per
    distinct input number, and the count the server confirmed (``num:N``; None when it gave
    none)."""

    items: tuple[NumberResult, ...]
    requests: int = 1
    count: int | None = None

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)


class FailedNumber(msgspec.Struct, frozen=True, kw_only=True):
    """A number the server listed as an error, or a number of a chunk that failed."""

    number: str
    reason: str
    error: OzoError | None = None


class BlockNumberDeletion(msgspec.Struct, frozen=True, kw_only=True):
    """deleteBlockNumberGroup over every chunk, merged (numbers spelled as the user gave
    them): ``deleted``, ``not_found`` (already not in the group) and ``failed``, each in
    input order."""

    deleted: tuple[str, ...] = ()
    failed: tuple[FailedNumber, ...] = ()
    deleted_count: int = 0
    requests: int = 0
    not_found: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True unless a number failed (one already gone is not a failure)."""
        return not self.failed


class ScheduledDataDeletion(msgspec.Struct, frozen=True, kw_only=True):
    """deleteScheduledData. ``row_ids`` is what was sent, in the vendor's compact form."""

    row_ids: str
    message: str = ""
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return True


class PhoneEdit(msgspec.Struct, frozen=True, kw_only=True):
    """PhoneManageV2 edit. ``skills_applied`` is False when the server accepted the edit but
    rejected the skills (a partial success the vendor reports as ``status: success``).
    ``attempts``: how many requests it took (retries included)."""

    message: str
    skills_applied: bool = True
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.skills_applied


class Token(msgspec.Struct, frozen=True, kw_only=True):
    """A CloudAgent API token. Its value never appears in ``repr()``."""

    value: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"Token(value=<redacted>, expires_at={self.expires_at.isoformat()})"

    __str__ = __repr__

    @property
    def ok(self) -> bool:
        return True


class FailedChunk(msgspec.Struct, frozen=True, kw_only=True):
    """An iSales chunk the server refused, with the vendor's code and description."""

    numbers: tuple[str, ...]
    result_code: str
    result_desc: str
    error: OzoError | None = None


class _CallerNumberChange(msgspec.Struct, frozen=True, kw_only=True):
    """An iSales calling-number change over every chunk, merged: ``count`` is the numbers
    the server confirmed, ``failed`` the chunks it refused."""

    count: int = 0
    requests: int = 0
    failed: tuple[FailedChunk, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed


class CallerNumberDeletion(_CallerNumberChange, frozen=True, kw_only=True):
    """iSales calling-number deletion over every chunk, merged."""


class CallerNumberAddition(_CallerNumberChange, frozen=True, kw_only=True):
    """iSales calling-number addition over every chunk, merged."""


class Campaign(msgspec.Struct, frozen=True, kw_only=True):
    """An iSales outbound campaign. ``status`` is the vendor's (2 started, 3 suspended,
    4 completed); ``details`` keeps every field the server sent, under the vendor's names."""

    vdn_id: int
    campaign_id: int
    name: str = ""
    status: int | str | None = None
    caller_numbers: tuple[str, ...] = ()
    details: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return True


class Progress(msgspec.Struct, frozen=True, kw_only=True):
    """Counts handed to ``on_progress`` callbacks of bulk operations, one per
    :class:`Outcome`; ``done`` is their sum, ``rate`` items per second since the operation
    started."""

    done: int = 0
    deleted: int = 0
    not_found: int = 0
    failed: int = 0
    rate: float = 0.0
    added: int = 0
    partly_confirmed: int = 0


class ErrorRecord(msgspec.Struct, frozen=True, kw_only=True):
    """How an :class:`~ozoasync.OzoError` inside a result is written to JSON (and the shape
    to read it back with): ``type`` is the exception's class name, ``message`` the vendor's
    message for an APIError and the exception's text otherwise; a fact the error does not
    have is null. Never the raw body (it may echo what the server was sent)."""

    type: str
    message: str
    endpoint: str | None = None
    http_status: int | None = None
    status: str | None = None
    code: str | None = None
    attempts: int = 0
    answer_lost: bool = False
    retry_after: float | None = None

    @classmethod
    def of(cls, error: OzoError) -> ErrorRecord:
        return cls(
            type=type(error).__name__,
            message=error.message if isinstance(error, APIError) else str(error),
            endpoint=getattr(error, "endpoint", None),
            http_status=getattr(error, "http_status", None),
            status=getattr(error, "status", None),
            code=getattr(error, "code", None),
            attempts=error.attempts,
            answer_lost=error.answer_lost,
            retry_after=getattr(error, "retry_after", None),
        )


def enc_hook(value: object) -> object:
    """msgspec's ``enc_hook`` for results: an OzoError becomes its :class:`ErrorRecord`."""
    if isinstance(value, OzoError):
        return ErrorRecord.of(value)
    raise NotImplementedError(f"ozoasync cannot encode {type(value).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)


def to_json(result: msgspec.Struct) -> bytes:
    """``result`` (any result, chunk or :class:`NumberResult`) as JSON bytes: fields under
    their names, outcomes as their values, errors as :class:`ErrorRecord` objects, datetimes
    in ISO 8601. A :class:`Token`'s value is written as ``"<redacted>"``."""
    if isinstance(result, Token):
        result = msgspec.structs.replace(result, value="<redacted>")
    return _ENCODER.encode(result)


class ScheduledRow(msgspec.Struct, frozen=True, kw_only=True):
    """One row of Scheduled Data Status. Times are the vendor's text as sent; ``params`` is
    the row's ScheduleParams query string parsed (``campaign_name``, ``PhoneNumber``,
    ``Name``, ``ScheduledTime``, ``skill``, ``AgentID``, ``Priority``, ...); ``response`` is
    the dialer's answer (decoded when it is JSON). The account's api_key, which the vendor
    echoes in every row, is never kept."""

    id: int
    campaign: str | None = None
    phone_number: str | None = None
    name: str | None = None
    schedule_time: str | None = None
    created: str | None = None
    request_time: str | None = None
    sent: bool = False
    skill: str | None = None
    agent_id: str | None = None
    priority: str | None = None
    response: Any = None
    params: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return True


class ScheduledNumberResult(msgspec.Struct, frozen=True, kw_only=True):
    """What ``scheduled_data.delete_for`` did for one input number: the ids of the rows
    deleted (DELETED), none found (NOT_FOUND), or the error that failed it (FAILED)."""

    number: str
    outcome: Outcome
    row_ids: tuple[int, ...] = ()
    message: str = ""
    error: OzoError | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.FAILED


class ScheduledRowsDeletion(msgspec.Struct, frozen=True, kw_only=True):
    """``scheduled_data.delete_for``: one item per distinct input number; ``row_ids`` is what
    was sent to deleteScheduledData in the vendor's compact form ('' when nothing matched),
    ``requests`` how many requests it took (the listing included)."""

    items: tuple[ScheduledNumberResult, ...]
    row_ids: str = ""
    requests: int = 0

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)


class BulkDataChunk(msgspec.Struct, frozen=True, kw_only=True):
    """One DeleteBulkData request (up to 100 numbers x 100 campaigns), or input rejected
    before sending (``requests == 0``): one item per distinct number of the chunk, the
    ``campaigns`` it covered, the server's ``message`` and the count it reported, if any
    (the vendor does not document its success body)."""

    items: tuple[NumberResult, ...]
    campaigns: tuple[str, ...] = ()
    requests: int = 1
    message: str = ""
    deleted_count: int | None = None

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)


__all__ = [
    "BlockNumberChunk",
    "BlockNumberDeletion",
    "BulkDataChunk",
    "CallerNumberAddition",
    "CallerNumberChunk",
    "CallerNumberDeletion",
    "Campaign",
    "CampaignDataDeletion",
    "ErrorRecord",
    "FailedChunk",
    "FailedNumber",
    "NumberResult",
    "Outcome",
    "PhoneEdit",
    "Progress",
    "ScheduledDataDeletion",
    "ScheduledNumberResult",
    "ScheduledRow",
    "ScheduledRowsDeletion",
    "Token",
    "enc_hook",
    "to_json",
]
