"""The streaming engine under the bulk calls: a bounded-concurrency map over a lazy input
that yields results as they finish.

Memory does not grow with the input: an item is read only when a worker slot is free, so at
most ``concurrency`` items are read but not yet yielded (plus one read in progress).

With ``first_alone`` the first item's work runs alone and the rest fan out only once it has
finished: an error that dooms every item (wrong credentials, an unknown campaign) then costs
one request instead of ``concurrency``.

How it ends:

- the input runs out: every result has been yielded;
- ``stop(result)`` returns an exception, or reading the input or a worker raises one: no more
  input is read, the work in flight finishes and is yielded, then that exception is raised
  (a worker that raised yields nothing for its item);
- the consumer breaks out of ``async for`` or is cancelled: the work in flight is cancelled
  and awaited, so no task outlives the iterator. After a ``break`` Python closes an async
  generator when it is garbage-collected (at once in CPython, through the event loop);
  ``contextlib.aclosing`` closes it deterministically.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Stop = Callable[[R], BaseException | None]


def _reader(source: Iterable[T] | AsyncIterable[T]) -> Callable[[], Coroutine[Any, Any, T]]:
    """A coroutine function returning the next item; it raises StopAsyncIteration at the end."""
    if isinstance(source, AsyncIterable):
        async_items = aiter(source)

        async def read_async() -> T:
            return await anext(async_items)

        return read_async
    items = iter(source)

    async def read() -> T:
        try:
            return next(items)
        except StopIteration:
            raise StopAsyncIteration from None

    return read


async def map_as_completed(
    source: Iterable[T] | AsyncIterable[T],
    work: Callable[[T], Coroutine[Any, Any, R]],
    *,
    concurrency: int,
    stop: Stop[R] | None = None,
    first_alone: bool = False,
) -> AsyncGenerator[R, None]:
    """``work(item)`` for every item of ``source``, at most ``concurrency`` at once, each result
    yielded as soon as it is ready (completion order). See the module docstring for how it
    ends."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    read = _reader(source)
    running: set[asyncio.Task[R]] = set()
    # Reading is a task of its own so that a slow async source (a pipe, a cursor) does not hold
    # back results that are already finished.
    reader: asyncio.Task[T] | None = None
    reading = True
    failure: BaseException | None = None
    # Work allowed at once: 1 until the first item's work has finished, with first_alone.
    width = 1 if first_alone else concurrency

    def stop_reading(error: BaseException) -> None:
        nonlocal reading, failure
        reading = False
        failure = failure or error
        if reader is not None:
            reader.cancel()

    try:
        while True:
            if reading and reader is None and len(running) < width:
                reader = asyncio.create_task(read())
            waiting: set[asyncio.Future[Any]] = {*running}
            if reader is not None:
                waiting.add(reader)
            if not waiting:
                break
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if reader is not None and reader in done:
                finished_read, reader = reader, None
                done.discard(finished_read)
                if not finished_read.cancelled():
                    try:
                        item = finished_read.result()
                    except StopAsyncIteration:
                        reading = False
                    except Exception as error:
                        stop_reading(error)
                    else:
                        running.add(asyncio.create_task(work(item)))
            if running & done:
                width = concurrency
            for task in done:
                running.discard(task)
                try:
                    result: R = task.result()
                except Exception as error:
                    stop_reading(error)
                    continue
                if failure is None and stop is not None:
                    stopping = stop(result)
                    if stopping is not None:
                        stop_reading(stopping)
                yield result
    finally:
        # Reached early only when the consumer left (break, cancellation, an error).
        leftovers: set[asyncio.Future[Any]] = {*running}
        if reader is not None:
            leftovers.add(reader)
        for task in leftovers:
            task.cancel()
        if leftovers:
            await asyncio.wait(leftovers)
    if failure is not None:
        raise failure
