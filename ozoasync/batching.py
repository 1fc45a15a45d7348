"""The chunk engine: any iterable or async iterable of numbers read lazily, checked,
de-duplicated and cut into batches; each batch sent as one request; the per-number results
of a whole call folded into one.

Validation happens before anything is sent: a collection (list, tuple, set...) is checked
whole up front, so one bad number raises RequestValidationError and the server sees nothing.
A lazy source (generator, file, async iterable) cannot be read ahead of time: there each bad
item is reported as rejected in the batch where it was read, and never sent.

De-duplication is bounded, so that memory stays flat however long the input: a number is
dropped as a repeat when it comes within :data:`DEDUPE_WINDOW` distinct numbers of its first
reading (valid or rejected numbers alike; the window remembers up to twice that many). So
every distinct number of an input with no repeat further apart than that appears in exactly
one item of one chunk; a number repeated further apart is sent, and reported, once more (a
delete repeated finds the number already gone). The durable job store dedupes exactly, in its
database.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
)
from dataclasses import dataclass, field
from itertools import islice
from operator import attrgetter
from typing import Protocol, TypeVar

from . import validation
from .errors import OzoError, RequestValidationError
from .progress import ProgressCallback, ProgressTracker
from .results import NumberResult, Outcome

T = TypeVar("T")
R = TypeVar("R")

Numbers = Iterable[str] | AsyncIterable[str]
Check = Callable[[object, str], str]

#: Distinct numbers a repeat is recognised within (at least; see the module's docstring).
DEDUPE_WINDOW = 10_000


@dataclass(slots=True)
class Batch:
    """Checked, de-duplicated items (at most the batch size) and the items rejected while
    reading them, each with its reason."""

    items: list[str] = field(default_factory=list)
    rejected: list[tuple[str, RequestValidationError]] = field(default_factory=list)


def checked_source(source: Numbers, field_name: str) -> Numbers:
    """``source`` itself, if it is an iterable or async iterable of numbers (not one string)."""
    if isinstance(source, str | bytes):
        raise RequestValidationError(field_name, "pass an iterable of numbers, not one string")
    if not isinstance(source, AsyncIterable | Iterable):
        raise RequestValidationError(
            field_name, f"must be an iterable or async iterable, not {type(source).__name__}"
        )
    return source


async def iterate(source: Numbers, field_name: str) -> AsyncGenerator[str, None]:
    """Items of a sync or async iterable, one at a time."""
    source = checked_source(source, field_name)
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


def check_collection(source: Numbers, check: Check, field_name: str) -> None:
    """Raise on the first bad item when the whole input is already in memory."""
    if isinstance(source, Collection) and not isinstance(source, str | bytes):
        if not source:
            raise RequestValidationError(field_name, "must not be empty")
        for item in source:
            check(item, field_name)


class RecentNumbers:
    """The bounded de-duplication window: the distinct numbers of the current and the
    previous generation of about :data:`DEDUPE_WINDOW` each (two sets, so memory is flat)."""

    __slots__ = ("_previous", "_seen")

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._previous: set[str] = set()

    def remember(self, new: set[str]) -> None:
        """Remember ``new`` (numbers not seen within the window)."""
        if len(self._seen) >= DEDUPE_WINDOW:
            self._previous, self._seen = self._seen, new
        else:
            self._seen |= new

    def first_time(self, key: str) -> bool:
        """Whether ``key`` is new within the window (then it is remembered)."""
        if key in self._seen or key in self._previous:
            return False
        self.remember({key})
        return True

    def none_seen(self, new: set[str]) -> bool:
        """Whether no number of ``new`` was seen within the window."""
        return new.isdisjoint(self._seen) and new.isdisjoint(self._previous)


class _Batcher:
    """Takes raw items and hands back each batch it fills, repeats within the window of
    :class:`RecentNumbers` dropped.

    A run of plain items (what the check would return unchanged, all new) is taken whole at
    C speed: the check's batch test from ``validation.PLAIN`` and set operations, no Python
    per item. Anything else goes item by item through :meth:`add`, with the same result."""

    __slots__ = (
        "_check",
        "_dedupe",
        "_field",
        "_plain",
        "_recent",
        "_size",
        "batch",
        "read",
    )

    def __init__(self, size: int, check: Check, field_name: str, dedupe: bool) -> None:
        self._size = size
        self._check = check
        self._plain = validation.PLAIN.get(check)
        self._field = field_name
        self._dedupe = dedupe
        self._recent = RecentNumbers()
        self.batch = Batch()
        self.read = 0

    @property
    def wanted(self) -> int:
        """How many more items the current batch can take."""
        return self._size - len(self.batch.items)

    def _all_new(self, items: list[str]) -> bool:
        """Whether ``items`` are distinct and none was seen (then they are remembered)."""
        if not self._dedupe:
            return True
        new = set(items)
        if len(new) < len(items) or not self._recent.none_seen(new):
            return False
        self._recent.remember(new)
        return True

    def take(self, raws: list[object]) -> Batch | None:
        """Take ``raws`` (at most :attr:`wanted` of them); the batch they completed, if any."""
        plain = self._plain
        if plain is None or not plain(raws) or not self._all_new(raws):
            full = None
            for raw in raws:
                full = self.add(raw)
            return full
        self.read += len(raws)
        self.batch.items += raws
        return self._full()

    def add(self, raw: object) -> Batch | None:
        """Take one raw item; the batch it completed, if it completed one."""
        self.read += 1
        try:
            item = self._check(raw, self._field)
        except RequestValidationError as error:
            # A string that fails the check never equals a checked item: one window serves
            # both. Other objects are not numbers at all and are reported each time.
            text = str(raw)
            if not (self._dedupe and isinstance(raw, str)) or self._recent.first_time(text):
                self.batch.rejected.append((text, error))
            return None
        if self._dedupe and not self._recent.first_time(item):
            return None
        self.batch.items.append(item)
        return self._full()

    def _full(self) -> Batch | None:
        if len(self.batch.items) < self._size:
            return None
        full, self.batch = self.batch, Batch()
        return full


async def _batches(
    source: Numbers, size: int, check: Check, field_name: str, dedupe: bool
) -> AsyncIterator[Batch]:
    source = checked_source(source, field_name)
    batcher = _Batcher(size, check, field_name, dedupe)
    # Items are taken a batch's worth at a time; a sync source is read with islice, with no
    # async generator in between (that would cost more per item than all the rest).
    if isinstance(source, AsyncIterable):
        pending: list[object] = []
        async for raw in source:
            pending.append(raw)
            if len(pending) == batcher.wanted:
                full, pending = batcher.take(pending), []
                if full is not None:
                    yield full
        if pending and (full := batcher.take(pending)) is not None:
            yield full
    else:
        iterator: Iterator[object] = iter(source)
        while raws := list(islice(iterator, batcher.wanted)):
            if (full := batcher.take(raws)) is not None:
                yield full
    if batcher.read == 0:
        raise RequestValidationError(field_name, "must not be empty")
    if batcher.batch.items or batcher.batch.rejected:
        yield batcher.batch


def batches(
    source: Numbers, *, size: int, check: Check, field_name: str, dedupe: bool = True
) -> AsyncIterator[Batch]:
    """``source`` in batches of at most ``size`` checked items, read lazily. Repeats are
    dropped when ``dedupe`` (the first reading is kept; within the window the module's
    docstring describes). An empty source raises; so does a collection with a bad item, at
    the first batch."""

    async def checked_then_batched() -> AsyncIterator[Batch]:
        check_collection(source, check, field_name)
        async for batch in _batches(source, size, check, field_name, dedupe):
            yield batch

    return checked_then_batched()


class ChunkResult(Protocol):
    """What the folds read of a chunk: its per-number items and its request count."""

    @property
    def items(self) -> tuple[NumberResult, ...]: ...

    @property
    def requests(self) -> int: ...


C = TypeVar("C", bound=ChunkResult)


def _rejected_items(batch: Batch) -> tuple[NumberResult, ...]:
    """The input a batch rejected before sending, each FAILED with its validation error."""
    return tuple(
        NumberResult(number=raw, outcome=Outcome.FAILED, message=error.problem, error=error)
        for raw, error in batch.rejected
    )


def _failed_items(numbers: list[str], error: OzoError) -> tuple[NumberResult, ...]:
    """Every number of a request that failed, FAILED with its error."""
    message = str(error)
    return tuple(
        NumberResult(number=number, outcome=Outcome.FAILED, message=message, error=error)
        for number in numbers
    )


def send_in_chunks(
    source: Numbers,
    *,
    size: int,
    check: Check,
    send: Callable[[list[str]], Awaitable[T]],
    answered: Callable[[list[str], T], C],
    unanswered: Callable[[tuple[NumberResult, ...], int], C],
    dooms: Callable[[OzoError], bool],
) -> AsyncIterator[C]:
    """``source`` in checked, de-duplicated chunks of at most ``size``, each sent with
    ``send``: an async iterator of one chunk result per request as it finishes, holding only
    that chunk. ``answered(numbers, answer)`` decides a chunk the server answered;
    ``unanswered(items, requests)`` builds the others: a request that failed (``requests``
    1, every number FAILED with the error) and the input a batch rejected before sending
    (``requests`` 0), yielded ahead of that batch's request.

    A collection is checked here, before this returns. A failed request does not stop the
    others, unless ``dooms(error)`` says every later one would fail too: then its chunk is
    yielded and the error raised."""
    check_collection(source, check, "numbers")
    return _send_in_chunks(source, size, check, send, answered, unanswered, dooms)


async def _send_in_chunks(
    source: Numbers,
    size: int,
    check: Check,
    send: Callable[[list[str]], Awaitable[T]],
    answered: Callable[[list[str], T], C],
    unanswered: Callable[[tuple[NumberResult, ...], int], C],
    dooms: Callable[[OzoError], bool],
) -> AsyncIterator[C]:
    async for batch in _batches(source, size, check, "numbers", dedupe=True):
        if batch.rejected:
            yield unanswered(_rejected_items(batch), 0)
        if not batch.items:
            continue
        try:
            answer = await send(batch.items)
        except OzoError as error:
            yield unanswered(_failed_items(batch.items, error), 1)
            if dooms(error):
                raise
            continue
        yield answered(batch.items, answer)


@dataclass(slots=True)
class Merged:
    """Every chunk of a chunked call, merged: what the folds build their public result from.

    ``counted``: the server's own counts, summed; ``numbers``: the numbers of each outcome
    but FAILED, in input order; ``failures``: the FAILED items, one group per request that
    had any, and one group per number rejected before sending."""

    requests: int = 0
    counted: int = 0
    numbers: dict[Outcome, list[str]] = field(default_factory=lambda: {o: [] for o in Outcome})
    failures: list[tuple[NumberResult, ...]] = field(default_factory=list)

    def add(self, chunk: ChunkResult, counted: int) -> None:
        self.requests += chunk.requests
        self.counted += counted
        items = chunk.items
        if not items:
            return
        outcomes = list(map(_OUTCOME, items))
        if outcomes.count(outcomes[0]) == len(outcomes):  # the usual chunk: one outcome
            if outcomes[0] is not Outcome.FAILED:
                self.numbers[outcomes[0]] += map(_NUMBER, items)
                return
            failed = list(items)
        else:
            failed = []
            for item, outcome in zip(items, outcomes, strict=True):
                if outcome is Outcome.FAILED:
                    failed.append(item)
                else:
                    self.numbers[outcome].append(item.number)
        if chunk.requests:
            if failed:
                self.failures.append(tuple(failed))
        else:
            self.failures.extend((item,) for item in failed)


_OUTCOME = attrgetter("outcome")
_NUMBER = attrgetter("number")


async def fold(
    chunks: AsyncIterator[C],
    *,
    counted: Callable[[C], int],
    result: Callable[[Merged], R],
    dooms: Callable[[OzoError], bool],
    on_progress: ProgressCallback | None,
) -> R:
    """Every chunk of ``chunks`` merged into one ``result``; ``on_progress`` after each chunk.
    An error that dooms the later chunks is raised with the result so far as its
    ``partial``."""
    progress = ProgressTracker(on_progress)
    merged = Merged()
    try:
        async for chunk in chunks:
            merged.add(chunk, counted(chunk))
            progress.record_items(chunk.items)
    except OzoError as error:
        if not dooms(error):
            raise
        raise error.replace(partial=result(merged)) from None
    return result(merged)
