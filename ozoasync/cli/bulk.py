"""Running a bulk operation: input minus what the journal says is finished, through the
operation, into the journal, the report, the progress bar and the counts."""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

from rich.console import Console

from ..errors import OzoError
from . import inputs
from .interrupt import Interruption
from .journal import Journal
from .progress import LiveProgress
from .report import Report, open_report
from .tally import Item, Status, Tally

Sink = Callable[[Sequence[Item]], None]
"""Takes the items that just finished (one number, or one chunk's numbers)."""

Sender = Callable[[Iterator[str], Sink], Awaitable[None]]
"""Sends the numbers it is given (read lazily) and hands every result to the sink."""

Input = inputs.Source | Sequence[str]
"""A file or stdin, or numbers already in memory (the demo)."""


@dataclass(frozen=True, slots=True)
class Job:
    """One bulk operation on one target: what the journal and report call it."""

    operation: str  # e.g. "campaign-data delete"
    scope: str  # e.g. "campaign=spring-sale"
    verb: str = "deleting"  # for the progress bar


@dataclass(frozen=True, slots=True)
class Outputs:
    journal: str | None = None
    report: str | None = None


@dataclass(slots=True)
class BulkRun:
    """What a run did: the counts, how long it took, and the error or the signal that
    stopped it."""

    job: Job
    tally: Tally = field(default_factory=Tally)
    elapsed: float = 0.0
    error: OzoError | None = None
    stopped_by: signal.Signals | None = None
    items_read: int = 0

    @property
    def rate(self) -> float:
        return self.tally.processed / self.elapsed if self.elapsed > 0 else 0.0


def read(source: Input) -> Iterator[str]:
    if isinstance(source, inputs.Source):
        return inputs.read(source)
    return iter(source)


def pending_total(source: Input, finished: set[str]) -> int | None:
    """How many items will be sent, when that can be known ahead (not for stdin)."""
    if isinstance(source, inputs.Source) and source.path == inputs.STDIN:
        return None
    return len(set(read(source)) - finished)


class Recorder:
    """The sink: counts, journals, reports and shows every finished item."""

    def __init__(
        self, tally: Tally, journal: Journal | None, report: Report | None, bar: LiveProgress
    ) -> None:
        self.tally = tally
        self._journal = journal
        self._report = report
        self._bar = bar

    def __call__(self, items: Sequence[Item]) -> None:
        for item in items:
            self.tally.add(item)
        if self._journal is not None:
            self._journal.append(items)
        if self._report is not None:
            self._report.write(items)
        self._bar.update(self.tally)


def unfinished(
    items: Iterable[str],
    finished: set[str],
    run: BulkRun,
    sink: Sink,
    interruption: Interruption,
) -> Iterator[str]:
    """Each item not yet finished, once; the others go to the sink as skipped or repeats
    (sending a repeat would only cost a request of the rate limit). Reading stops at a
    signal."""
    seen: set[str] = set()
    for item in items:
        if interruption.requested:
            return
        run.items_read += 1
        if item in finished:
            sink([Item(item, Status.SKIPPED, "finished in an earlier run (journal)")])
        elif item in seen:
            sink([Item(item, Status.DUPLICATE, "repeats an earlier line")])
        else:
            seen.add(item)
            yield item


async def run_bulk(
    job: Job,
    send: Sender,
    source: Input,
    outputs: Outputs,
    console: Console,
    interruption: Interruption,
) -> BulkRun:
    """Run ``send`` over the unfinished items of ``source``. An OzoError that stops the
    operation is kept in the result, and so is a signal (see :mod:`.interrupt`): what
    finished before either is journaled and reported."""
    run = BulkRun(job)
    with ExitStack() as stack:
        journal = None
        if outputs.journal is not None:
            journal = stack.enter_context(Journal.open(outputs.journal, job.operation, job.scope))
        finished = journal.finished if journal is not None else set()
        total = pending_total(source, finished)
        report = None
        if outputs.report is not None:
            report = opened = open_report(outputs.report, job.operation, job.scope)
            stack.callback(lambda: opened.close(_summary_counts(run.tally)))
        bar = stack.enter_context(LiveProgress(console, job.verb, total))
        sink = Recorder(run.tally, journal, report, bar)
        todo = unfinished(read(source), finished, run, sink, interruption)
        started = time.monotonic()
        first = next(todo, None)
        if first is not None:
            try:
                await interruption.graceful(send(itertools.chain([first], todo), sink))
            except OzoError as error:
                run.error = error
        run.stopped_by = interruption.signum
        run.elapsed = time.monotonic() - started
    if run.items_read == 0 and run.stopped_by is None:
        name = source.name if isinstance(source, inputs.Source) else "input"
        raise inputs.InputError(f"{name}: no numbers to process")
    return run


def _summary_counts(tally: Tally) -> dict[str, int]:
    return {status.value: tally.counts[status] for status in Status}
