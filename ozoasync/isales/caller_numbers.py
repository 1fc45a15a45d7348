"""Calling numbers of an outbound campaign, added or deleted 100 per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .. import validation
from ..batching import Numbers, send_in_chunks
from ..errors import APIError, NotFoundError, OzoError, dooms_later_requests
from ..progress import ProgressCallback, ProgressTracker
from ..results import CallerNumberAddition, CallerNumberDeletion, FailedChunk, Outcome
from ..transport.call import Call
from ..transport.http import Transport
from . import wire

R = TypeVar("R", CallerNumberDeletion, CallerNumberAddition)


def dooms_every_chunk(error: OzoError) -> bool:
    """Errors every later chunk would hit too: bad credentials, the coordination store, or a
    campaign that does not exist."""
    return dooms_later_requests(error) or (
        isinstance(error, NotFoundError) and error.code == wire.CAMPAIGN_NOT_FOUND
    )


def failed_chunk(numbers: list[str], error: OzoError) -> FailedChunk:
    """A refused chunk with the vendor's code and description ('' when the failure did not
    come from the server, e.g. a timeout)."""
    if isinstance(error, APIError):
        return FailedChunk(
            numbers=tuple(numbers),
            result_code=error.code or "",
            result_desc=error.message,
            error=error,
        )
    return FailedChunk(numbers=tuple(numbers), result_code="", result_desc=str(error), error=error)


class CallerNumbers:
    """``isales.caller_numbers``: add or delete the calling numbers of an outbound campaign."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def delete(
        self,
        vdn_id: int,
        campaign_id: int,
        numbers: Numbers,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> CallerNumberDeletion:
        """Delete ``numbers`` (any iterable or async iterable of digit strings, read lazily,
        de-duplicated) from campaign ``campaign_id`` of VDN ``vdn_id``, in chunks of at most
        100.

        ``count`` is the sum of the server's ``num:N`` (a success without a count confirms
        the whole chunk). When an attempt's answer was lost and the retry found the numbers
        already gone, the server confirms fewer than were removed: ``count`` stays the
        server's word.

        A refused chunk is reported in ``failed`` with the vendor's ``result_code`` and
        ``result_desc`` and the call goes on. In particular the vendor refuses a deletion that
        would leave the campaign without a calling number ("at least one calling number must
        be reserved"): the chunk that hits it fails, the others still count. Bad credentials
        and a campaign that does not exist (0200007) are raised, with the result so far in
        the exception's ``partial``.

        ``on_progress`` receives a :class:`~ozoasync.Progress` after every chunk: confirmed
        numbers as ``deleted``, numbers sent but not confirmed (not on the campaign) as
        ``not_found``, numbers of failed chunks and rejected input as ``failed``.
        """
        vdn, campaign = wire.checked_ids(vdn_id, campaign_id)
        return await self._run(
            CallerNumberDeletion,
            numbers,
            lambda chunk: wire.delete_caller_numbers(vdn, campaign, chunk),
            on_progress,
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
        """Add ``numbers`` to campaign ``campaign_id`` of VDN ``vdn_id`` with ``priority``
        (1 to 5), in chunks of at most 100; read, reported and raised as :meth:`delete`
        (``on_progress`` counts confirmed additions as ``deleted`` — "done" — and numbers
        sent but not confirmed as ``not_found``).
        """
        vdn, campaign = wire.checked_ids(vdn_id, campaign_id)
        priority = validation.positive_int(priority, "priority", maximum=wire.MAX_PRIORITY)
        return await self._run(
            CallerNumberAddition,
            numbers,
            lambda chunk: wire.add_caller_numbers(vdn, campaign, chunk, priority),
            on_progress,
        )

    async def _run(
        self,
        result: type[R],
        numbers: Numbers,
        build: Callable[[list[str]], Call],
        on_progress: ProgressCallback | None,
    ) -> R:
        """Send ``numbers`` in chunks and merge the answers into one ``result``."""
        progress = ProgressTracker(on_progress)
        failed: list[FailedChunk] = []
        count = requests = 0

        async def send(chunk: list[str]) -> int | None:
            sent = await self._transport.send(build(chunk), wire.interpret_caller_numbers)
            return sent.value

        chunks = send_in_chunks(
            numbers,
            size=wire.MAX_NUMBERS_PER_REQUEST,
            check=validation.access_code,
            send=send,
            dooms=dooms_every_chunk,
        )
        try:
            async for chunk in chunks:
                failed.extend(
                    FailedChunk(
                        numbers=(raw,), result_code="", result_desc=error.problem, error=error
                    )
                    for raw, error in chunk.batch.rejected
                )
                progress.record(Outcome.FAILED, len(chunk.batch.rejected))
                if not chunk.sent:
                    continue
                requests += 1
                items = chunk.batch.items
                if chunk.error is not None:
                    failed.append(failed_chunk(items, chunk.error))
                    progress.record(Outcome.FAILED, len(items))
                    continue
                # A success without a count confirmed the whole chunk.
                confirmed = len(items) if chunk.value is None else chunk.value
                count += confirmed
                progress.record(Outcome.DELETED, min(confirmed, len(items)))
                progress.record(Outcome.NOT_FOUND, len(items) - confirmed)
        except OzoError as error:
            if dooms_every_chunk(error):
                partial = result(count=count, requests=requests, failed=tuple(failed))
                raise error.replace(partial=partial) from None
            raise
        return result(count=count, requests=requests, failed=tuple(failed))
