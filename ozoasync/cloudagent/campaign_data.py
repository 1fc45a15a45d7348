"""deleteCampaignData: one record per request, 100 requests per minute."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing

from .. import validation
from ..batching import Numbers, check_collection, checked_source
from ..bulk import map_as_completed
from ..errors import (
    APIError,
    InvalidParameterError,
    NotFoundError,
    OzoError,
    RequestValidationError,
    dooms_later_requests,
)
from ..progress import ProgressCallback, ProgressTracker
from ..results import BulkDataChunk, CampaignDataDeletion, Outcome
from . import wire
from ._context import Context
from .bulk_data import BulkData


def dooms_every_request(error: OzoError) -> bool:
    """Errors every later request of a bulk call would hit too (the credentials, the token
    budget, the shared coordination store, a campaign the server does not know): stop instead
    of sending them."""
    if dooms_later_requests(error):
        return True
    return isinstance(error, InvalidParameterError) and wire.said(
        error, "Passed campaign are invalid"
    )


def failed(phone_number: str, error: OzoError) -> CampaignDataDeletion:
    """The result of a number that could not be deleted; ``attempts`` as the error counted
    them (0: nothing was sent)."""
    return CampaignDataDeletion(
        phone_number=phone_number,
        outcome=Outcome.FAILED,
        message=error.message if isinstance(error, APIError) else str(error),
        error=error,
        attempts=error.attempts,
    )


_OPERATION = "campaign_data.delete_many"


def _doomed(result: CampaignDataDeletion) -> OzoError | None:
    error = result.error
    return error if error is not None and dooms_every_request(error) else None


class CampaignData:
    """``ca.campaign_data``: delete numbers from outbound campaigns."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._bulk_data = BulkData(context, dooms_every_request)

    def delete_across(
        self, campaigns: Iterable[str], phone_numbers: Numbers
    ) -> AsyncGenerator[BulkDataChunk, None]:
        """Delete every number of ``phone_numbers`` from every campaign of ``campaigns``
        through DeleteBulkData: 100 numbers x 100 campaigns per request (250 numbers x 120
        campaigns: 3 x 2 = 6 requests), at the endpoint's own limit of 2 requests a minute
        with one in flight per account. An async iterator of one
        :class:`~ozoasync.BulkDataChunk` per request, streamed as each is answered.

        ``campaigns`` is read whole (checked, de-duplicated); ``phone_numbers`` is any
        iterable or async iterable, read lazily and de-duplicated (a list, tuple or set is
        checked whole here, before anything is sent; a bad number of a lazy input comes back
        FAILED in a chunk with ``requests == 0``, unsent). A failed request comes
        back as a chunk whose items are FAILED with its error, and the rest go on; errors
        that doom every later request (authentication, the token budget, the coordination
        store, "Passed campaign are invalid": one unknown campaign fails the whole request;
        BulkDataUnavailableError: the account does not offer DeleteBulkData, as an HTTP 404 or
        405 or a "not enabled" refusal says) are raised after their chunk, with a
        :class:`~ozoasync.Progress` in ``partial``.
        """
        return self._bulk_data.delete_across(campaigns, phone_numbers)

    async def delete(
        self, campaign: str, phone_number: str, *, name: str | None = None
    ) -> CampaignDataDeletion:
        """Delete one number from ``campaign``.

        Returns DELETED, or NOT_FOUND when the number was not there ("No Record Found").
        Any other failure raises.

        Lost answers: when an attempt's answer was lost (a timeout, a dropped connection, a
        JSON answer cut off on the way, an HTTP 500, 502 or 504 from a backend that may have
        acted), the server may have deleted the number before the answer went missing. If a
        later attempt then answers "No Record Found", the result is DELETED (its message
        says why, ``attempts`` shows the retry): the number is gone either way, and the lost
        attempt most likely removed it. A dropped connection looks the same whether the
        server had acted or not, so a number that was never there can be reported DELETED
        this way. A refused connection, an HTTP 503 page or a foreign HTML page is not a lost
        answer (the server did not act on the request): "No Record Found" after one of those
        is NOT_FOUND.
        """
        campaign = validation.non_empty_text(campaign, "campaign")
        phone_number = validation.phone_number(phone_number)
        if name is not None:
            name = validation.non_empty_text(name, "name")
        return await self._delete(campaign, phone_number, name)

    async def _delete(
        self, campaign: str, phone_number: str, name: str | None
    ) -> CampaignDataDeletion:
        """:meth:`delete` of arguments already checked."""
        call = wire.delete_campaign_data(self._context.username, campaign, phone_number, name)
        try:
            sent = await self._context.transport.send(call, wire.interpret_status_message)
        except NotFoundError as error:
            if error.answer_lost:
                return CampaignDataDeletion(
                    phone_number=phone_number,
                    outcome=Outcome.DELETED,
                    message=f"deleted by an attempt whose answer was lost; the retry "
                    f"answered {error.message!r}",
                    attempts=error.attempts,
                )
            return CampaignDataDeletion(
                phone_number=phone_number,
                outcome=Outcome.NOT_FOUND,
                message=error.message,
                attempts=error.attempts,
            )
        return CampaignDataDeletion(
            phone_number=phone_number,
            outcome=Outcome.DELETED,
            message=sent.value,
            attempts=sent.attempts,
        )

    def delete_many(
        self,
        campaign: str,
        phone_numbers: Numbers,
        *,
        concurrency: int = 8,
        on_progress: ProgressCallback | None = None,
    ) -> AsyncGenerator[CampaignDataDeletion, None]:
        """Delete every number of ``phone_numbers`` from ``campaign``, one request per number
        (rate-limited), up to ``concurrency`` at once; an async iterator of one
        :class:`CampaignDataDeletion` per input, in completion order.

        ``phone_numbers`` is any iterable or async iterable, read lazily with a bounded
        read-ahead: memory does not grow with the input. A list, tuple or set is checked whole
        here, before anything is sent (a bad number raises RequestValidationError); a number
        of a lazy input that is not a phone number comes back FAILED with that error, unsent.
        Duplicates are not removed: each input gets its own result (a repeat of a number
        usually comes back NOT_FOUND, since the first deleted it).

        The first number is sent alone; the rest fan out once it has been answered, so a wrong
        key or an unknown campaign costs one request, not ``concurrency``.

        A number that fails comes back FAILED with its ``error``, and the rest go on. Errors
        that doom every later request (authentication, the token budget, the coordination
        store, an unreachable server, an unknown campaign) stop the reading: the requests in
        flight finish and are yielded, then the error is raised with a
        :class:`~ozoasync.Progress` in its ``partial``. ``on_progress`` gets a Progress before
        each result is yielded. Breaking
        out of the loop or cancelling it cancels the requests in flight (wrap the iterator in
        ``contextlib.aclosing`` to have that happen at the ``break`` itself rather than when
        the iterator is garbage-collected).
        """
        campaign = validation.non_empty_text(campaign, "campaign")
        concurrency = validation.positive_int(concurrency, "concurrency")
        check_collection(phone_numbers, validation.phone_number, "phone_numbers")
        return self._delete_stream(campaign, phone_numbers, concurrency, on_progress)

    async def _delete_stream(
        self,
        campaign: str,
        phone_numbers: Numbers,
        concurrency: int,
        on_progress: ProgressCallback | None,
    ) -> AsyncGenerator[CampaignDataDeletion, None]:
        async def delete_one(raw: str) -> CampaignDataDeletion:
            try:
                phone_number = validation.phone_number(raw, "phone_numbers")
            except RequestValidationError as error:
                return failed(str(raw), error)
            try:
                return await self._delete(campaign, phone_number, None)
            except OzoError as error:
                return failed(phone_number, error)

        progress = ProgressTracker(on_progress)
        observer = self._context.transport.observer
        try:
            numbers = checked_source(phone_numbers, "phone_numbers")
            # Closed here, not left to the garbage collector, so that no task outlives a
            # consumer that stops early.
            async with aclosing(
                map_as_completed(
                    numbers, delete_one, concurrency=concurrency, stop=_doomed, first_alone=True
                )
            ) as results:
                async for result in results:
                    progress.record(result.outcome)
                    if observer is not None:
                        observer.progress(_OPERATION, result.outcome.value, 1)
                    yield result
        except OzoError as error:
            raise error.replace(partial=progress.snapshot()) from None
        if progress.snapshot().done == 0:
            raise RequestValidationError("phone_numbers", "must not be empty")
