"""The streaming engine under the bulk calls: a bounded-concurrency map over a lazy input
that yields results as they finish.

``concurrency`` long-lived workers share the input: each reads an item, does its work, hands
the result over and waits until the consumer has taken it, and every result already waiting,
before reading again. So memory does not grow with the input: at most ``concurrency`` items are
read but not yet yielded, and a consumer that pauses holds the reading back. A sync input is
read inline; an async one by one worker at a time, the others' results flowing meanwhile (a
slow source does not hold back finished work). No task is made per item.

With ``first_alone`` the first item's work runs alone and the rest fan out only once it has
finished: an error that dooms every item (wrong credentials, an unknown campaign) then costs
one request instead of ``concurrency``.

How it ends:

- the input runs out: every result has been yielded;
- ``stop(result)`` returns an exception, or reading the input or a worker raises one: no more
  input is read (a read in progress is cancelled), the work in flight finishes and is
  yielded, then that exception is raised (a worker that raised yields nothing for its item);
- the consumer breaks out of ``async for`` or is cancelled: the work in flight is cancelled
  and awaited, so no task outlives the iterator. After a ``break`` Python closes an async
  generator when it is garbage-collected (at once in CPython, through the event loop);
  ``contextlib.aclosing`` closes it deterministically.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Coroutine, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Stop = Callable[[R], BaseException | None]


class _Ended:
    """A worker's last message: ``error`` is what killed it beyond the engine's own rules
    (KeyboardInterrupt, a cancellation not the engine's), re-raised to the consumer."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class _Exhausted:
    """What :meth:`_Map.next_item` returns when reading is over."""


_EXHAUSTED = _Exhausted()


class _Map(Generic[T, R]):
    """What the workers of one call share."""

    def __init__(
        self,
        source: Iterable[T] | AsyncIterable[T],
        work: Callable[[T], Coroutine[Any, Any, R]],
        stop: Stop[R] | None,
        first_alone: bool,
    ) -> None:
        self.work = work
        self.stop = stop
        self.sync_items = None if isinstance(source, AsyncIterable) else iter(source)
        self.async_items = aiter(source) if isinstance(source, AsyncIterable) else None
        self.read_lock = asyncio.Lock()
        self.reader: asyncio.Task[Any] | None = None
        self.reading = True
        #: The consumer has left: nothing more is handed over.
        self.closed = False
        self.failure: BaseException | None = None
        self.fanned_out = asyncio.Event()
        if not first_alone:
            self.fanned_out.set()
        self.messages: asyncio.Queue[tuple[R, asyncio.Future[None]] | _Ended] = asyncio.Queue()

    def stop_reading(self, error: BaseException) -> None:
        self.reading = False
        self.failure = self.failure or error
        if self.reader is not None and self.reader is not asyncio.current_task():
            self.reader.cancel()
        self.fanned_out.set()  # workers waiting to fan out wake up, and end

    async def next_item(self) -> T | _Exhausted:
        """The next item, or _EXHAUSTED when reading is over."""
        if self.sync_items is not None:
            try:
                return next(self.sync_items)
            except StopIteration:
                self.reading = False
            except Exception as error:
                self.stop_reading(error)
            return _EXHAUSTED
        async with self.read_lock:
            if not self.reading:
                return _EXHAUSTED
            assert self.async_items is not None
            self.reader = asyncio.current_task()
            try:
                return await anext(self.async_items)
            except StopAsyncIteration:
                self.reading = False
            except asyncio.CancelledError:
                if self.reading:
                    raise  # not the engine's own cancellation of a read: the consumer left
            except Exception as error:
                self.stop_reading(error)
            finally:
                self.reader = None
            return _EXHAUSTED

    async def worker(self, index: int) -> None:
        try:
            if index > 0:
                await self.fanned_out.wait()
            while self.reading:
                item = await self.next_item()
                if isinstance(item, _Exhausted):
                    break
                try:
                    result = await self.work(item)
                except Exception as error:
                    self.stop_reading(error)
                    break
                if self.closed:
                    break  # work that outlived its cancellation: nobody takes its result
                if self.stop is not None and self.failure is None:
                    stopping = self.stop(result)
                    if stopping is not None:
                        self.stop_reading(stopping)
                self.fanned_out.set()
                taken = asyncio.get_running_loop().create_future()
                self.messages.put_nowait((result, taken))
                await taken
        except BaseException as error:
            # Beyond the engine's rules (a cancellation, KeyboardInterrupt): the consumer, if
            # it is still there, raises it.
            self.messages.put_nowait(_Ended(error))
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        finally:
            self.fanned_out.set()  # a worker that ends lets those waiting to fan out end too
        self.messages.put_nowait(_Ended(None))


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
    shared = _Map(source, work, stop, first_alone)
    workers = [asyncio.create_task(shared.worker(index)) for index in range(concurrency)]
    running = concurrency
    # Workers whose results were taken, let go on to read only when no result is waiting:
    # while the consumer works through results already there, nothing more is read.
    owed: list[asyncio.Future[None]] = []
    try:
        while running:
            if shared.messages.empty():
                for taken in owed:
                    taken.set_result(None)
                owed.clear()
            message = await shared.messages.get()
            if isinstance(message, _Ended):
                running -= 1
                if message.error is not None:
                    raise message.error
                continue
            result, taken = message
            yield result
            owed.append(taken)
    finally:
        # Reached early only when the consumer left (break, cancellation, an error).
        shared.closed = True
        shared.reading = False
        for task in workers:
            task.cancel()
        await asyncio.wait(workers)
        # The workers' last messages hold their frames (a cancellation's traceback), which
        # hold the shared state: emptied, so the source is let go of at once, not at the
        # next garbage collection.
        while not shared.messages.empty():
            shared.messages.get_nowait()
    if shared.failure is not None:
        raise shared.failure
