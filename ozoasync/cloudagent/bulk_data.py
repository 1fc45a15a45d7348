"""DeleteBulkData: numbers removed from many campaigns at once, 100 numbers x 100 campaigns
per request, at most 2 requests a minute and one in flight per account."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Callable, Iterable

from .. import validation
from ..batching import Numbers, _failed_items, _rejected_items, batches, check_collection
from ..errors import APIError, BulkDataUnavailableError, OzoError, RequestValidationError
from ..progress import ProgressTracker
from ..results import BulkDataChunk, NumberResult, Outcome
from . import wire
from ._context import Context


def checked_campaigns(campaigns: object) -> list[str]:
    """The campaign names, checked and de-duplicated in their order (read whole: every chunk
    of numbers is sent to each of them)."""
    if isinstance(campaigns, str | bytes) or not isinstance(campaigns, Iterable):
        raise RequestValidationError("campaigns", "must be an iterable of campaign names")
    names = list(dict.fromkeys(validation.non_empty_text(c, "campaigns") for c in campaigns))
    if not names:
        raise RequestValidationError("campaigns", "must not be empty")
    return names


def outcome_of(success: wire.BulkDataSuccess, numbers: int, campaigns: int) -> Outcome:
    """What a success says of each number: without a count, deleted (the server deletes
    regardless of lead status, and an absent number is gone as asked); a count of 0, not
    found; a count below every pair, only partly confirmed (it does not say which)."""
    count = success.deleted_count
    if count is None or count >= numbers * campaigns:
        return Outcome.DELETED
    return Outcome.NOT_FOUND if count == 0 else Outcome.PARTLY_CONFIRMED


# How an account without DeleteBulkData may answer it ([U]: the vendor documents no such
# answer): a server without the route (404), a route without DELETE (405), or an error
# saying the API is not enabled for the account.
_UNAVAILABLE_STATUSES = (404, 405)
_NOT_ENABLED = re.compile(r"\bnot\s+(enabled|allowed|permitted|subscribed)\b", re.IGNORECASE)


def unavailable(error: APIError) -> BulkDataUnavailableError | None:
    """The refusal of an account without DeleteBulkData, built from ``error``; else None."""
    if isinstance(error, BulkDataUnavailableError):
        return error
    if error.http_status not in _UNAVAILABLE_STATUSES and not _NOT_ENABLED.search(error.message):
        return None
    return BulkDataUnavailableError(
        error.message,
        endpoint=error.endpoint,
        http_status=error.http_status,
        status=error.status,
        code=error.code,
        body=error.body,
        retry_after=error.retry_after,
        attempts=error.attempts,
        answer_lost=error.answer_lost,
    )


class BulkData:
    """DeleteBulkData, exposed as ``ca.campaign_data.delete_across``."""

    def __init__(self, context: Context, dooms: Callable[[OzoError], bool]) -> None:
        self._context = context
        # The rule of deleteCampaignData (credentials, token budget, coordination store,
        # "Passed campaign are invalid"): every chunk goes to the same campaigns.
        self._dooms = dooms

    def delete_across(
        self, campaigns: Iterable[str], phone_numbers: Numbers
    ) -> AsyncGenerator[BulkDataChunk, None]:
        campaign_names = checked_campaigns(campaigns)
        check_collection(phone_numbers, validation.phone_number, "phone_numbers")
        return self._stream(campaign_names, phone_numbers)

    async def _stream(
        self, campaigns: list[str], phone_numbers: Numbers
    ) -> AsyncGenerator[BulkDataChunk, None]:
        groups = [
            tuple(campaigns[i : i + wire.MAX_BULK_CAMPAIGNS])
            for i in range(0, len(campaigns), wire.MAX_BULK_CAMPAIGNS)
        ]
        progress = ProgressTracker(None)
        numbers = batches(
            phone_numbers,
            size=wire.MAX_BULK_NUMBERS,
            check=validation.phone_number,
            field_name="phone_numbers",
        )
        try:
            async for batch in numbers:
                if batch.rejected:
                    chunk = BulkDataChunk(items=_rejected_items(batch), requests=0)
                    progress.record_items(chunk.items)
                    yield chunk
                if not batch.items:
                    continue
                for group in groups:
                    chunk = await self._send(batch.items, group)
                    progress.record_items(chunk.items)
                    yield chunk
                    error = next((i.error for i in chunk.items if i.error is not None), None)
                    if error is not None and self._dooms(error):
                        raise error
        except OzoError as error:
            raise error.replace(partial=progress.snapshot()) from None

    async def _send(self, numbers: list[str], campaigns: tuple[str, ...]) -> BulkDataChunk:
        call = wire.delete_bulk_data(self._context.username, list(campaigns), numbers)
        try:
            sent = await self._context.transport.send(call, wire.interpret_bulk_data)
        except OzoError as refusal:
            refused = unavailable(refusal) if isinstance(refusal, APIError) else None
            error: OzoError = refused or refusal
            items = _failed_items(numbers, error)
            return BulkDataChunk(items=items, campaigns=campaigns, message=str(error))
        success = sent.value
        outcome = outcome_of(success, len(numbers), len(campaigns))
        items = tuple(
            NumberResult(number=n, outcome=outcome, message=success.message) for n in numbers
        )
        return BulkDataChunk(
            items=items,
            campaigns=campaigns,
            message=success.message,
            deleted_count=success.deleted_count,
        )
