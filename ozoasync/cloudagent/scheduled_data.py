"""Scheduled data: list the account's scheduled rows (Scheduled Data Status), delete rows by
id (deleteScheduledData), and delete every row of given phone numbers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from .. import validation
from ..batching import Numbers, check_collection, iterate
from ..errors import NotFoundError, OzoError, RequestValidationError
from ..results import (
    Outcome,
    ScheduledDataDeletion,
    ScheduledNumberResult,
    ScheduledRow,
    ScheduledRowsDeletion,
)
from ..row_ids import compact_row_ids
from ..transport.call import Answer
from . import wire
from ._context import Context

_SENT = ("1", "true", "yes")


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _response(raw: object) -> Any:
    """The dialer's answer: decoded when it is a JSON text, else as sent."""
    if isinstance(raw, str) and raw.strip()[:1] in ("{", "["):
        try:
            return msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return raw
    return raw


def row_from(record: wire.ScheduledRecord) -> ScheduledRow | None:
    """A typed row from a (redacted) record; None for a record without a usable id."""
    raw_id = record.Id
    if isinstance(raw_id, str) and raw_id.strip().isdecimal() and len(raw_id.strip()) <= 19:
        raw_id = int(raw_id)
    if not isinstance(raw_id, int) or isinstance(raw_id, bool) or raw_id < 1:
        return None
    params = {
        key: value
        for key, value in parse_qsl(record.ScheduleParams or "", keep_blank_values=True)
        if key.lower().replace("_", "") != "apikey"
    }
    return ScheduledRow(
        id=raw_id,
        campaign=_text(params.get("campaign_name")),
        phone_number=_text(params.get("PhoneNumber")),
        name=_text(params.get("Name")),
        schedule_time=_text(record.ScheduleTime) or _text(params.get("ScheduledTime")),
        created=_text(record.CreatedDate),
        request_time=_text(record.RequestTime),
        sent=str(record.IsRequestSent).strip().lower() in _SENT,
        skill=_text(params.get("skill")),
        agent_id=_text(params.get("AgentID")),
        priority=_text(params.get("Priority")),
        response=_response(record.Response),
        params=params,
    )


def _number_key(number: str) -> str:
    """Numbers match with or without a leading '+'."""
    return number.strip().removeprefix("+")


def _report(
    matches: dict[str, tuple[int, ...]],
    compact: str,
    outcome: Outcome,
    message: str,
    error: OzoError | None,
    requests: int,
) -> ScheduledRowsDeletion:
    """The per-number report of one deletion of the matched rows."""
    items = tuple(
        ScheduledNumberResult(
            number=number,
            outcome=outcome,
            row_ids=ids if outcome is Outcome.DELETED else (),
            message=message,
            error=error,
        )
        if ids
        else ScheduledNumberResult(number=number, outcome=Outcome.NOT_FOUND, message="no rows")
        for number, ids in matches.items()
    )
    return ScheduledRowsDeletion(items=items, row_ids=compact, requests=requests)


class ScheduledData:
    """``ca.scheduled_data``: list scheduled rows, delete them by id or by phone number."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def delete(self, row_ids: int | range | str | object) -> ScheduledDataDeletion:
        """Delete rows given as an int, a range, ints, or the vendor's strings (``"7"``,
        ``"2,3,5,6"``, ``"3-10"``, ``"1,3-10,12"``); sent in the vendor's compact form.

        Raises NotFoundError on "No data found" (which the vendor also answers for an invalid
        apiKey).
        """
        compact = compact_row_ids(row_ids)
        call = wire.delete_scheduled_data(self._context.username, compact)
        sent = await self._context.transport.send(call, wire.interpret_status_message)
        return ScheduledDataDeletion(row_ids=compact, message=sent.value, attempts=sent.attempts)

    async def _rows(self) -> tuple[list[ScheduledRow], int]:
        """The account's rows, and the attempts the listing took."""
        call = wire.list_scheduled_data(self._context.username)
        # The client's own key is scrubbed too, wherever the server might echo it.
        own_key = tuple(self._context.api_key_auth.headers(call, "").values())

        def interpret(answer: Answer) -> list[wire.ScheduledRecord]:
            return wire.interpret_scheduled_data(answer, own_key)

        sent = await self._context.transport.send(call, interpret)
        return [row for row in map(row_from, sent.value) if row is not None], sent.attempts

    async def list(self) -> AsyncIterator[ScheduledRow]:
        """Every scheduled row of the account (Scheduled Data Status), as
        :class:`~ozoasync.ScheduledRow`. The vendor answers them all in one response.

        The api_key the vendor echoes in each row (and in its ScheduleParams) is removed
        before the answer is decoded: it reaches no result, log or error. An invalid apiKey
        (which the vendor answers with a success whose message is "null") raises
        AuthenticationError; an account without rows yields nothing.
        """
        rows, _ = await self._rows()
        for row in rows:
            yield row

    async def delete_for(
        self, phone_numbers: Numbers, *, campaign: str | None = None
    ) -> ScheduledRowsDeletion:
        """Delete every scheduled row of ``phone_numbers`` (of ``campaign`` only, when given):
        one listing, then one deleteScheduledData request with the rows' ids in the vendor's
        compact form. One item per distinct number: the ids deleted, or NOT_FOUND.

        When the deletion itself fails the items of matched numbers are FAILED with that
        error; a "No data found" answer (the rows went in between) makes them NOT_FOUND.
        """
        if campaign is not None:
            campaign = validation.non_empty_text(campaign, "campaign")
        check_collection(phone_numbers, validation.phone_number, "phone_numbers")
        # Read whole before anything is sent: every number is matched against one listing.
        numbers = {
            validation.phone_number(raw, "phone_numbers"): None
            async for raw in iterate(phone_numbers, "phone_numbers")
        }
        if not numbers:
            raise RequestValidationError("phone_numbers", "must not be empty")
        rows, listed = await self._rows()
        ids_of: dict[str, list[int]] = {}
        for row in rows:
            if row.phone_number is not None and (campaign is None or row.campaign == campaign):
                ids_of.setdefault(_number_key(row.phone_number), []).append(row.id)
        matches = {number: tuple(sorted(ids_of.get(_number_key(number), ()))) for number in numbers}
        wanted = sorted({row_id for ids in matches.values() for row_id in ids})
        if not wanted:
            return _report(matches, "", Outcome.NOT_FOUND, "no rows", None, listed)
        compact = compact_row_ids(wanted)
        try:
            deletion = await self.delete(compact)
        except NotFoundError as error:
            # Gone either way; after a lost answer, most likely by the lost attempt.
            outcome = Outcome.DELETED if error.answer_lost else Outcome.NOT_FOUND
            return _report(matches, compact, outcome, error.message, None, listed + error.attempts)
        except OzoError as error:
            return _report(
                matches, compact, Outcome.FAILED, str(error), error, listed + error.attempts
            )
        return _report(
            matches, compact, Outcome.DELETED, deletion.message, None, listed + deletion.attempts
        )
