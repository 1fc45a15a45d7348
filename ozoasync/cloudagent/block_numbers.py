"""deleteBlockNumberGroup: numbers removed from a block-number group, 100 per request, with
what became of each number decided here (:func:`decide`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import repeat
from typing import Any

from .. import validation
from ..batching import Merged, Numbers, fold, send_in_chunks
from ..errors import APIError, OzoError, dooms_later_requests
from ..progress import ProgressCallback
from ..results import (
    BlockNumberChunk,
    BlockNumberDeletion,
    FailedNumber,
    NumberResult,
    Outcome,
)
from ..transport.call import Delivered
from . import wire
from ._context import Context

CHUNK_SIZE = 100

NOT_IN_GROUP = "not in the group (the server listed it under output.error)"
DELETED_BY_LOST_ATTEMPT = (
    "deleted by an attempt whose answer was lost; the retry found it no longer in the group"
)
NOT_CONFIRMED = (
    "not confirmed: the server's answer named it neither under output.success nor under "
    "output.error"
)


def failed_entries(errors: list[Any]) -> list[FailedNumber]:
    """The server's ``output.error`` list: numbers, or objects naming a number and a reason."""
    failed = []
    for entry in errors:
        if isinstance(entry, dict):
            number = next(
                (str(entry[k]) for k in ("blockNumber", "number", "phoneNumber") if k in entry),
                wire.message_text(entry),
            )
            reason = str(entry.get("message") or entry.get("reason") or NOT_IN_GROUP)
        else:
            number, reason = str(entry), NOT_IN_GROUP
        failed.append(FailedNumber(number=number, reason=reason))
    return failed


def match_spellings(sent: list[str], spelled: list[str]) -> list[int | None]:
    """For each number the server ``spelled`` in its answer, the index of the ``sent`` number
    it names (each of the distinct numbers of ``sent`` named at most once), or None.

    The server may echo a number as sent or normalise it to ``+<country><number>``. Every
    answer is matched as sent first; what is left, as ``+`` and a number sent without one;
    then as ``+``, a country code (1 to 3 digits, shortest first) and such a number. A code
    found for one answer is tried on all of them at once (a server normalises with one code),
    so a chunk costs a few passes at C speed however it is spelled; a number the server
    spelled exactly is never taken by another's normalised spelling."""
    if _named_in_order(sent, spelled):
        return list(range(len(sent)))
    unmatched = dict(zip(sent, range(len(sent)), strict=True))  # popped when named
    matched = list(map(unmatched.pop, spelled, repeat(None)))
    if not unmatched or None not in matched:
        return matched
    # Sent numbers are checked: a '+' can only lead.
    bare = (
        unmatched
        if "+" not in "".join(unmatched)
        else {number: index for number, index in unmatched.items() if number[0] != "+"}
    )
    left = [p for p, index in enumerate(matched) if index is None and spelled[p][:1] == "+"]
    left = _match_prefixed("+", left, spelled, bare, matched)
    while left and bare:
        text = spelled[left[0]]
        prefix = next((text[:cut] for cut in (2, 3, 4) if text[cut:] in bare), None)
        if prefix is None:
            left.pop(0)  # no code makes this answer a number sent
        else:
            left = _match_prefixed(prefix, left, spelled, bare, matched)
    return matched


def _named_in_order(sent: list[str], spelled: list[str]) -> bool:
    """The usual answer, told in a few C calls: every number named once, in the order sent,
    as sent or normalised with one country code, the numbers all of one length and none
    with a '+' of its own. Then no other match :func:`match_spellings` tries can apply:
    an answer is not a number sent (each is longer, or all are the numbers as sent), and
    no other code leaves a number of the right length."""
    if not sent or len(spelled) != len(sent):
        return False
    if spelled == sent:
        return True
    length = len(sent[0])
    prefix = spelled[0][:-length] if len(spelled[0]) > length else ""
    return (
        1 <= len(prefix) <= 4
        and prefix[0] == "+"
        and "+" not in "".join(sent)
        and max(map(len, sent)) == min(map(len, sent))
        and spelled == [prefix + number for number in sent]
    )


def _match_prefixed(
    prefix: str,
    left: list[int],
    spelled: list[str],
    bare: dict[str, int],
    matched: list[int | None],
) -> list[int]:
    """Match the answers at ``left`` spelled ``prefix`` + a number of ``bare`` (popped when
    named); the positions still unmatched."""
    texts = [spelled[position] for position in left]
    cut = len(prefix)
    rests = [text[cut:] for text in texts]
    if bare.keys().isdisjoint(rests):
        return left  # the usual miss of a whole pass
    if all(map(str.startswith, texts, repeat(prefix))):  # one code for all of them
        indexes = list(map(bare.pop, rests, repeat(None)))
    else:
        indexes = [
            bare.pop(rest, None) if text.startswith(prefix) else None
            for text, rest in zip(texts, rests, strict=True)
        ]
    still = []
    for position, index in zip(left, indexes, strict=True):
        if index is None:
            still.append(position)
        else:
            matched[position] = index
    return still


def decide(numbers: list[str], delivered: Delivered[wire.BlockOutput]) -> tuple[NumberResult, ...]:
    """What became of each number of a chunk the server answered.

    Listed under ``output.success``: DELETED. Listed under ``output.error``: NOT_FOUND, the
    number is already not in the group (what a re-run sees) — or DELETED when an earlier
    attempt of this request lost its answer, since that attempt most likely removed it (as
    for single deletions). Named in neither list: FAILED with a message saying it was not
    confirmed and no ``error``; sending it again is safe and settles it.
    """
    output = delivered.value
    errors = failed_entries(output.error) if output.error else []
    spelled = [*map(str, output.success), *(entry.number for entry in errors)]
    matched = match_spellings(numbers, spelled)
    deleted = Outcome.DELETED  # looked up once: an enum member's lookup costs a call
    if not errors and len(matched) == len(numbers) and None not in matched:
        # The usual chunk: every number named once under success.
        return tuple([NumberResult(number=number, outcome=deleted) for number in numbers])
    successes = len(output.success)
    items: list[NumberResult | None] = [None] * len(numbers)
    for position, index in enumerate(matched):
        if index is None:
            continue
        if position < successes:
            items[index] = NumberResult(number=numbers[index], outcome=deleted)
        elif delivered.answer_lost:
            items[index] = NumberResult(
                number=numbers[index], outcome=Outcome.DELETED, message=DELETED_BY_LOST_ATTEMPT
            )
        else:
            items[index] = NumberResult(
                number=numbers[index],
                outcome=Outcome.NOT_FOUND,
                message=errors[position - successes].reason,
            )
    return tuple(
        NumberResult(number=number, outcome=Outcome.FAILED, message=NOT_CONFIRMED)
        if item is None
        else item
        for number, item in zip(numbers, items, strict=True)
    )


def dooms_every_chunk(error: OzoError) -> bool:
    """Errors that every later chunk would hit too: stop instead of sending them. Every chunk
    carries the same group id and the same keys, so the server's answers about those
    ("Invalid group id", "Parameters are mandatory") would repeat for each one."""
    if dooms_later_requests(error):
        return True
    return isinstance(error, APIError) and wire.said(
        error, "Invalid group id", "Parameters are mandatory"
    )


def deletion(merged: Merged) -> BlockNumberDeletion:
    """The public result of a whole call."""
    return BlockNumberDeletion(
        deleted=tuple(merged.numbers[Outcome.DELETED]),
        not_found=tuple(merged.numbers[Outcome.NOT_FOUND]),
        failed=tuple(
            FailedNumber(number=item.number, reason=item.message, error=item.error)
            for group in merged.failures
            for item in group
        ),
        deleted_count=merged.counted,
        requests=merged.requests,
    )


class BlockNumbers:
    """``ca.block_numbers``: delete numbers from a block-number group."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._path = wire.BLOCK_NUMBERS
        self._path_confirmed = False

    async def _send(self, group_id: int, numbers: list[str]) -> Delivered[wire.BlockOutput]:
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
            return sent

    def delete_chunks(self, group_id: int, numbers: Numbers) -> AsyncIterator[BlockNumberChunk]:
        """Delete ``numbers`` (any iterable or async iterable, read lazily, de-duplicated as
        :mod:`ozoasync.batching` says) from group ``group_id``, 100 per request; an async
        iterator of one :class:`~ozoasync.BlockNumberChunk` per request as it finishes.

        Each chunk has one :class:`~ozoasync.NumberResult` per distinct number it carried,
        spelled as given: DELETED, NOT_FOUND (already not in the group) or FAILED, as
        :func:`decide` says; a refused request fails each of its numbers with the error.
        Input rejected before sending comes as a chunk of its own with ``requests == 0``,
        FAILED with its validation error. A list, tuple or set is checked whole before this
        returns (a bad number raises RequestValidationError, nothing is sent).

        Errors that doom every later chunk (authentication, an invalid group id, the
        coordination store) are raised after the chunk they failed has been yielded.
        """
        group_id = validation.positive_int(group_id, "group_id")
        return send_in_chunks(
            numbers,
            size=CHUNK_SIZE,
            check=validation.phone_number,
            send=lambda chunk: self._send(group_id, chunk),
            answered=lambda chunk, delivered: BlockNumberChunk(
                items=decide(chunk, delivered), deleted_count=delivered.value.deleted
            ),
            unanswered=lambda items, requests: BlockNumberChunk(items=items, requests=requests),
            dooms=dooms_every_chunk,
        )

    async def delete(
        self, group_id: int, numbers: Numbers, *, on_progress: ProgressCallback | None = None
    ) -> BlockNumberDeletion:
        """:meth:`delete_chunks`, merged: every number in ``deleted``, ``not_found`` or
        ``failed`` (numbers of failed chunks and rejected input, each with its error, and
        numbers the server did not confirm), spelled as given; ``deleted_count`` sums the
        server's counts. ``.ok`` unless a number failed: a re-run over numbers already gone
        is ok.

        Errors that doom every later chunk are raised with the result so far in the
        exception's ``partial``. ``on_progress`` gets a :class:`~ozoasync.Progress` after
        every chunk.
        """
        return await fold(
            self.delete_chunks(group_id, numbers),
            counted=lambda chunk: chunk.deleted_count,
            result=deletion,
            dooms=dooms_every_chunk,
            on_progress=on_progress,
        )
