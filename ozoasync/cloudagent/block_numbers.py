"""deleteBlockNumberGroup: numbers removed from a block-number group, 100 per request."""

from __future__ import annotations

from typing import Any

from .. import validation
from ..batching import Numbers, send_in_chunks
from ..errors import APIError, OzoError, dooms_later_requests
from ..progress import ProgressCallback, ProgressTracker
from ..results import BlockNumberDeletion, FailedNumber, Outcome
from . import wire
from ._context import Context

CHUNK_SIZE = 100


def failed_entries(errors: list[Any]) -> list[FailedNumber]:
    """The server's ``output.error`` list: numbers, or objects naming a number and a reason."""
    failed = []
    for entry in errors:
        if isinstance(entry, dict):
            number = next(
                (str(entry[k]) for k in ("blockNumber", "number", "phoneNumber") if k in entry),
                wire.message_text(entry),
            )
            reason = str(entry.get("message") or entry.get("reason") or "rejected by the server")
        else:
            number, reason = str(entry), "rejected by the server"
        failed.append(FailedNumber(number=number, reason=reason))
    return failed


def dooms_every_chunk(error: OzoError) -> bool:
    """Errors that every later chunk would hit too: stop instead of sending them. Every chunk
    carries the same group id and the same keys, so the server's answers about those
    ("Invalid group id", "Parameters are mandatory") would repeat for each one."""
    if dooms_later_requests(error):
        return True
    return isinstance(error, APIError) and wire.said(
        error, "Invalid group id", "Parameters are mandatory"
    )


class BlockNumbers:
    """``ca.block_numbers``: delete numbers from a block-number group."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._path = wire.BLOCK_NUMBERS
        self._path_confirmed = False

    async def _send(self, group_id: int, numbers: list[str]) -> wire.BlockOutput:
        context = self._context
        while True:
            path = self._path
            call = wire.delete_block_numbers(context.username, group_id, numbers, path)
            try:
                sent = await context.transport.send(call, wire.interpret_block_numbers)
            except APIError as error:
                if error.http_status == 404 and path != self._path:
                    continue  # a concurrent call switched paths while this one was in flight
                if error.http_status == 404 and not self._path_confirmed:
                    # A server that follows the page header's path, not the sample's.
                    self._path_confirmed = True
                    self._path = wire.BLOCK_NUMBERS_ALTERNATE
                    continue
                raise
            self._path_confirmed = True
            return sent.value

    async def delete(
        self, group_id: int, numbers: Numbers, *, on_progress: ProgressCallback | None = None
    ) -> BlockNumberDeletion:
        """Delete ``numbers`` (any iterable or async iterable, read lazily, de-duplicated)
        from group ``group_id``, in chunks of at most 100.

        Per-number errors and failed chunks are reported in ``failed``; the call keeps going.
        Errors that doom every later chunk (authentication, an invalid group id) are raised,
        with the result so far in the exception's ``partial``. ``on_progress`` gets a
        :class:`~ozoasync.Progress` after every chunk: numbers the server confirmed count as
        deleted, the rest as failed.
        """
        group_id = validation.positive_int(group_id, "group_id")
        progress = ProgressTracker(on_progress)
        deleted: list[str] = []
        failed: list[FailedNumber] = []
        deleted_count = requests = 0

        def merged() -> BlockNumberDeletion:
            return BlockNumberDeletion(
                deleted=tuple(deleted),
                failed=tuple(failed),
                deleted_count=deleted_count,
                requests=requests,
            )

        chunks = send_in_chunks(
            numbers,
            size=CHUNK_SIZE,
            check=validation.phone_number,
            send=lambda chunk: self._send(group_id, chunk),
            dooms=dooms_every_chunk,
        )
        try:
            async for chunk in chunks:
                failed.extend(
                    FailedNumber(number=number, reason=error.problem, error=error)
                    for number, error in chunk.batch.rejected
                )
                progress.record(Outcome.FAILED, len(chunk.batch.rejected))
                if not chunk.sent:
                    continue
                requests += 1
                if chunk.error is not None:
                    failed.extend(
                        FailedNumber(number=number, reason=str(chunk.error), error=chunk.error)
                        for number in chunk.batch.items
                    )
                    progress.record(Outcome.FAILED, len(chunk.batch.items))
                    continue
                assert chunk.value is not None, "a sent chunk has an answer or an error"
                output = chunk.value
                deleted.extend(output.success)
                deleted_count += output.deleted
                rejected = failed_entries(output.error)
                failed.extend(rejected)
                progress.record(Outcome.DELETED, len(output.success))
                progress.record(Outcome.FAILED, len(rejected))
        except OzoError as error:
            if dooms_every_chunk(error):
                raise error.replace(partial=merged()) from None
            raise
        return merged()
