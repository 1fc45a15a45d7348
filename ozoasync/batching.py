"""Reading any iterable or async iterable of numbers lazily, checked and cut into batches.

Validation happens before anything is sent: a collection (list, tuple, set...) is checked
whole up front, so one bad number raises RequestValidationError and the server sees nothing.
A lazy source (generator, file, async iterable) cannot be read ahead of time: there each bad
item is reported as rejected in the batch where it was read, and never sent.
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
)
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .errors import OzoError, RequestValidationError

T = TypeVar("T")

Numbers = Iterable[str] | AsyncIterable[str]
Check = Callable[[object, str], str]


@dataclass(slots=True)
class Batch:
    """Checked, de-duplicated items (at most the batch size) and the items rejected while
    reading them, each with its reason."""

    items: list[str] = field(default_factory=list)
    rejected: list[tuple[str, RequestValidationError]] = field(default_factory=list)


async def iterate(source: Numbers, field_name: str) -> AsyncGenerator[str, None]:
    """Items of a sync or async iterable, one at a time."""
    if isinstance(source, str | bytes):
        raise RequestValidationError(field_name, "pass an iterable of numbers, not one string")
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    elif isinstance(source, Iterable):
        for item in source:
            yield item
    else:
        raise RequestValidationError(
            field_name, f"must be an iterable or async iterable, not {type(source).__name__}"
        )


def check_collection(source: Numbers, check: Check, field_name: str) -> None:
    """Raise on the first bad item when the whole input is already in memory."""
    if isinstance(source, Collection) and not isinstance(source, str | bytes):
        if not source:
            raise RequestValidationError(field_name, "must not be empty")
        for item in source:
            check(item, field_name)


async def batches(
    source: Numbers, *, size: int, check: Check, field_name: str, dedupe: bool = True
) -> AsyncIterator[Batch]:
    """``source`` in batches of at most ``size`` checked items, read lazily. Duplicates are
    dropped when ``dedupe`` (the first occurrence is kept). An empty source raises."""
    check_collection(source, check, field_name)
    seen: set[str] = set()
    batch = Batch()
    read = 0
    async for raw in iterate(source, field_name):
        read += 1
        try:
            item = check(raw, field_name)
        except RequestValidationError as error:
            batch.rejected.append((str(raw), error))
            continue
        if dedupe:
            if item in seen:
                continue
            seen.add(item)
        batch.items.append(item)
        if len(batch.items) == size:
            yield batch
            batch = Batch()
    if read == 0:
        raise RequestValidationError(field_name, "must not be empty")
    if batch.items or batch.rejected:
        yield batch


@dataclass(slots=True)
class ChunkOutcome(Generic[T]):
    """What became of one batch: the server's answer (``value``), the error that failed it,
    or neither when every item it read was rejected before sending."""

    batch: Batch
    value: T | None = None
    error: OzoError | None = None

    @property
    def sent(self) -> bool:
        return bool(self.batch.items)


async def send_in_chunks(
    source: Numbers,
    *,
    size: int,
    check: Check,
    send: Callable[[list[str]], Awaitable[T]],
    dooms: Callable[[OzoError], bool],
) -> AsyncIterator[ChunkOutcome[T]]:
    """``source`` in checked, de-duplicated chunks of at most ``size``, each sent with
    ``send``; one outcome per chunk. A failed chunk does not stop the others, unless
    ``dooms(error)`` says every later one would fail too: then its outcome is yielded and the
    error raised (the caller attaches what it has merged so far as ``error.partial``)."""
    async for batch in batches(source, size=size, check=check, field_name="numbers"):
        if not batch.items:
            yield ChunkOutcome(batch)
            continue
        try:
            value = await send(batch.items)
        except OzoError as error:
            yield ChunkOutcome(batch, error=error)
            if dooms(error):
                raise
            continue
        yield ChunkOutcome(batch, value=value)
