"""Calling numbers of an outbound campaign, added or deleted 100 per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from .. import validation
from ..batching import Merged, Numbers, fold, send_in_chunks
from ..errors import APIError, NotFoundError, OzoError, dooms_later_requests
from ..progress import ProgressCallback
from ..results import (
    CallerNumberAddition,
    CallerNumberChunk,
    CallerNumberDeletion,
    FailedChunk,
    NumberResult,
    Outcome,
)
from ..transport.call import Call, Delivered
from ..transport.http import Transport
from . import wire

R = TypeVar("R", CallerNumberDeletion, CallerNumberAddition)


def dooms_every_chunk(error: OzoError) -> bool:
    """Errors every later chunk would hit too: bad credentials, the coordination store, or a
    campaign that does not exist."""
    return dooms_later_requests(error) or (
        isinstance(error, NotFoundError) and error.code == wire.CAMPAIGN_NOT_FOUND
    )


def decide(
    numbers: list[str], delivered: Delivered[int | None], done: Outcome
) -> tuple[NumberResult, ...]:
    """What became of each number of a chunk the server answered. The server answers a
    count, not which numbers: a chunk it confirmed in full (or without a count) is ``done``
    (DELETED or ADDED) for each number; one it confirmed in part is PARTLY_CONFIRMED for each,
    with a message saying how many (each number was changed, or already was as asked: gone
    from, or already on, the campaign)."""
    count = delivered.value
    if count is None or count >= len(numbers):
        return tuple([NumberResult(number=number, outcome=done) for number in numbers])
    message = f"the server confirmed {count} of this request's {len(numbers)} numbers"
    if delivered.answer_lost:
        message += " (an earlier attempt, whose answer was lost, may have changed the rest)"
    partly = Outcome.PARTLY_CONFIRMED  # looked up once: an enum member's lookup costs a call
    return tuple(
        [NumberResult(number=number, outcome=partly, message=message) for number in numbers]
    )


def confirmed(chunk: CallerNumberChunk) -> int:
    """The numbers a chunk's answer confirmed: the server's count, or the whole chunk for a
    success without one."""
    if chunk.count is not None:
        return chunk.count
    return len(chunk.items) if chunk.requests and chunk.ok else 0


def failed_chunk(items: tuple[NumberResult, ...]) -> FailedChunk:
    """A refused chunk (or one rejected number) with the vendor's code and description (''
    and the SDK's message when the failure did not come from the server, e.g. a timeout)."""
    error = items[0].error
    numbers = tuple(item.number for item in items)
    if isinstance(error, APIError):
        return FailedChunk(
            numbers=numbers, result_code=error.code or "", result_desc=error.message, error=error
        )
    return FailedChunk(numbers=numbers, result_code="", result_desc=items[0].message, error=error)


class CallerNumbers:
    """``isales.caller_numbers``: add or delete the calling numbers of an outbound campaign."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def delete_chunks(
        self, vdn_id: int, campaign_id: int, numbers: Numbers
    ) -> AsyncIterator[CallerNumberChunk]:
        """Delete ``numbers`` (any iterable or async iterable of digit strings, read lazily,
        de-duplicated as :mod:`ozoasync.batching` says) from campaign ``campaign_id`` of VDN
        ``vdn_id``, 100 per request; an async iterator of one
        :class:`~ozoasync.CallerNumberChunk` per request as it finishes.

        Each chunk has one :class:`~ozoasync.NumberResult` per distinct number it carried, as
        :func:`decide` says (DELETED, or PARTLY_CONFIRMED when the server's ``num:N`` is
        smaller than the chunk), and the server's count. A refused request fails each of its
        numbers with the error (in particular the vendor refuses a deletion that would leave
        the campaign without a calling number). Input rejected before sending comes as a
        chunk of its own with ``requests == 0``. A list, tuple or set is checked whole before
        this returns.

        Bad credentials and a campaign that does not exist (0200007) are raised after the
        chunk they failed has been yielded.
        """
        vdn, campaign = wire.checked_ids(vdn_id, campaign_id)
        return self._chunks(
            numbers, lambda chunk: wire.delete_caller_numbers(vdn, campaign, chunk), Outcome.DELETED
        )

    def add_chunks(
        self, vdn_id: int, campaign_id: int, numbers: Numbers, *, priority: int = 1
    ) -> AsyncIterator[CallerNumberChunk]:
        """Add ``numbers`` to campaign ``campaign_id`` of VDN ``vdn_id`` with ``priority``
        (1 to 5), 100 per request; streamed, decided and raised as :meth:`delete_chunks`
        (ADDED for a chunk confirmed in full; numbers already on the campaign are not
        counted by the server, so a re-run comes back PARTLY_CONFIRMED)."""
        vdn, campaign = wire.checked_ids(vdn_id, campaign_id)
        priority = validation.positive_int(priority, "priority", maximum=wire.MAX_PRIORITY)
        return self._chunks(
            numbers,
            lambda chunk: wire.add_caller_numbers(vdn, campaign, chunk, priority),
            Outcome.ADDED,
        )

    def _chunks(
        self, numbers: Numbers, build: Callable[[list[str]], Call], done: Outcome
    ) -> AsyncIterator[CallerNumberChunk]:
        async def send(chunk: list[str]) -> Delivered[int | None]:
            return await self._transport.send(build(chunk), wire.interpret_caller_numbers)

        return send_in_chunks(
            numbers,
            size=wire.MAX_NUMBERS_PER_REQUEST,
            check=validation.access_code,
            send=send,
            answered=lambda chunk, delivered: CallerNumberChunk(
                items=decide(chunk, delivered, done), count=delivered.value
            ),
            unanswered=lambda items, requests: CallerNumberChunk(items=items, requests=requests),
            dooms=dooms_every_chunk,
        )

    async def delete(
        self,
        vdn_id: int,
        campaign_id: int,
        numbers: Numbers,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> CallerNumberDeletion:
        """:meth:`delete_chunks`, merged.

        ``count`` is the sum of the server's ``num:N`` (a success without a count confirms
        the whole chunk). When an attempt's answer was lost and the retry found the numbers
        already gone, the server confirms fewer than were removed: ``count`` stays the
        server's word.

        A refused chunk is reported in ``failed`` with the vendor's ``result_code`` and
        ``result_desc`` and the call goes on; so is each number rejected before sending.
        Bad credentials and a campaign that does not exist (0200007) are raised, with the
        result so far in the exception's ``partial``. ``on_progress`` receives a
        :class:`~ozoasync.Progress` after every chunk, counting each number by its outcome.
        """
        return await self._fold(
            CallerNumberDeletion, self.delete_chunks(vdn_id, campaign_id, numbers), on_progress
        )

    async def add(
        self,
        vdn_id: int,
        campaign_id: int,
        numbers: Numbers,
        *,
        priority: int = 1,
        on_progress: ProgressCallback | None = None,
    ) -> CallerNumberAddition:
        """:meth:`add_chunks`, merged; reported and raised as :meth:`delete`."""
        chunks = self.add_chunks(vdn_id, campaign_id, numbers, priority=priority)
        return await self._fold(CallerNumberAddition, chunks, on_progress)

    async def _fold(
        self,
        result: type[R],
        chunks: AsyncIterator[CallerNumberChunk],
        on_progress: ProgressCallback | None,
    ) -> R:
        def merged_into(merged: Merged) -> R:
            return result(
                count=merged.counted,
                requests=merged.requests,
                failed=tuple(map(failed_chunk, merged.failures)),
            )

        return await fold(
            chunks,
            counted=confirmed,
            result=merged_into,
            dooms=dooms_every_chunk,
            on_progress=on_progress,
        )
