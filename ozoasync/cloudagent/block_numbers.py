"""deleteBlockNumberGroup: numbers removed from a block-number group, 100 per request."""

from __future__ import annotations

from typing import Any

from .. import validation
from ..batching import Numbers, batches
from ..errors import APIError, AuthenticationError, CoordinationError, OzoError
from ..results import BlockNumberDeletion, FailedNumber
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
    """Errors that every later chunk would hit too: stop instead of sending them."""
    if isinstance(error, AuthenticationError | CoordinationError):
        return True
    return isinstance(error, APIError) and wire.message_text(error.message).lower().startswith(
        "invalid group id"
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
            call = wire.delete_block_numbers(context.username, group_id, numbers, self._path)
            try:
                sent = await context.transport.send(call, wire.interpret_block_numbers)
            except APIError as error:
                if error.http_status == 404 and not self._path_confirmed:
                    # A server that follows the page header's path, not the sample's.
                    self._path_confirmed = True
                    self._path = wire.BLOCK_NUMBERS_ALTERNATE
                    continue
                raise
            self._path_confirmed = True
            return sent.value

    async def delete(self, group_id: int, numbers: Numbers) -> BlockNumberDeletion:
        """Delete ``numbers`` (any iterable or async iterable, read lazily, de-duplicated)
        from group ``group_id``, in chunks of at most 100.

        Per-number errors and failed chunks are reported in ``failed``; the call keeps going.
        Errors that doom every later chunk (authentication, an invalid group id) are raised,
        with the result so far in the exception's ``partial``.
        """
        group_id = validation.positive_int(group_id, "group_id")
        deleted: list[str] = []
        failed: list[FailedNumber] = []
        deleted_count = requests = 0
        async for batch in batches(
            numbers, size=CHUNK_SIZE, check=validation.phone_number, field_name="numbers"
        ):
            failed.extend(
                FailedNumber(number=number, reason=error.problem, error=error)
                for number, error in batch.rejected
            )
            if not batch.items:
                continue
            requests += 1
            try:
                output = await self._send(group_id, batch.items)
            except OzoError as error:
                failed.extend(
                    FailedNumber(number=number, reason=str(error), error=error)
                    for number in batch.items
                )
                if dooms_every_chunk(error):
                    error.partial = BlockNumberDeletion(
                        deleted=tuple(deleted),
                        failed=tuple(failed),
                        deleted_count=deleted_count,
                        requests=requests,
                    )
                    raise
                continue
            deleted.extend(output.success)
            deleted_count += output.deleted
            failed.extend(failed_entries(output.error))
        return BlockNumberDeletion(
            deleted=tuple(deleted),
            failed=tuple(failed),
            deleted_count=deleted_count,
            requests=requests,
        )
