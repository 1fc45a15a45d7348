"""Running a bulk operation without a job store: the input, read once through one pipeline
(comments and blank lines dropped, numbers normalised and checked, repeats set aside),
through the operation, into the report, the progress bar and the counts. A dry run is the
same pipeline with nothing sent. With ``--journal`` see :mod:`.stored`."""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import IO

from rich.console import Console

from ..batching import RecentNumbers
from ..errors import OzoError, RequestValidationError
from . import inputs
from .interrupt import Interruption
from .progress import LiveProgress
from .report import JsonLinesStream, Report, open_report
from .tally import LABELS, Item, Skip, Tally

Sink = Callable[[Sequence[Item]], None]
"""Takes the items that just finished (one number, or one chunk's numbers)."""

Sender = Callable[[Iterator[str], Sink], Awaitable[None]]
"""Sends the numbers it is given (read lazily) and hands every result to the sink."""

Check = Callable[[object, str], str]
"""Checks one number (``validation.phone_number``, ``validation.access_code``)."""

Input = inputs.Reader | Sequence[str]
"""A file or stdin, or numbers already in memory (the demo)."""


@dataclass(frozen=True, slots=True)
class Job:
    """One bulk operation on one target: what the journal and report call it, and how its
    numbers are checked."""

    operation: str  # e.g. "campaign-data delete"
    scope: str  # e.g. "campaign=spring-sale"
    check: Check
    verb: str = "deleting"  # for the progress bar


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where results go besides the counts: the journal, the report file, and a stream of
    JSON lines (``--output jsonl``)."""

    journal: str | None = None
    report: str | None = None
    stream: IO[str] | None = None


@dataclass(slots=True)
class BulkRun:
    """What a run did: the counts, how long it took, the error or the signal that stopped
    it, and how many input lines it read and passed on to be sent."""

    job: Job
    tally: Tally = field(default_factory=Tally)
    elapsed: float = 0.0
    error: OzoError | None = None
    stopped_by: signal.Signals | None = None
    job_name: str | None = None  # in a job store
    lines_read: int = 0
    to_send: int = 0
    #: Numbers handed to the operation without a result yet (without a job store only).
    outstanding: set[str] = field(default_factory=set)

    @property
    def rate(self) -> float:
        return self.tally.processed / self.elapsed if self.elapsed > 0 else 0.0


def estimated_lines(source: Input, lines_read: int) -> int | None:
    """How many lines the input holds: exact for numbers in memory, estimated for a file
    from the share of its bytes read so far (read once, never ahead), None for stdin."""
    if not isinstance(source, inputs.Reader):
        return len(source)
    if source.size is None or source.bytes_read == 0:
        return None
    if source.bytes_read >= source.size:
        return lines_read
    return max(lines_read, round(lines_read * source.size / source.bytes_read))


class Recorder:
    """The sink: counts, reports and shows every finished item."""

    def __init__(
        self,
        run: BulkRun,
        source: Input,
        reports: Sequence[Report],
        bar: LiveProgress,
    ) -> None:
        self._run = run
        self._source = source
        self._reports = reports
        self._bar = bar

    def __call__(self, items: Sequence[Item]) -> None:
        for item in items:
            self._run.tally.add(item)
            self._run.outstanding.discard(item.number)
        for report in self._reports:
            report.write(items)
        self._bar.update(self._run.tally, estimated_lines(self._source, self._run.lines_read))


def sendable(
    lines: Iterable[str],
    job: Job,
    run: BulkRun,
    sink: Sink,
    interruption: Interruption,
) -> Iterator[str]:
    """Each valid number of ``lines``, once, normalised (separators dropped). The other
    lines go to the sink: invalid, or repeats within the SDK's de-duplication window
    (sending a repeat would only cost a request of the rate limit; a window, so that memory
    stays flat however long the input). Reading stops at a signal."""
    recent = RecentNumbers()
    for line in lines:
        if interruption.requested:
            return
        run.lines_read += 1
        try:
            number = job.check(inputs.normalised(line), "numbers")
        except RequestValidationError as error:
            sink([Item(line, Skip.INVALID, error.problem)])
            continue
        if not recent.first_time(number):
            sink([Item(number, Skip.DUPLICATE, "repeats an earlier line")])
        else:
            run.to_send += 1
            run.outstanding.add(number)
            yield number


async def run_bulk(
    job: Job,
    send: Sender,
    source: Input,
    outputs: Outputs,
    console: Console,
    interruption: Interruption,
) -> BulkRun:
    """Run ``send`` over the sendable numbers of ``source``. An OzoError that stops the
    operation is kept in the result, and so is a signal (see :mod:`.interrupt`): what
    finished before either is journaled and reported."""
    run = BulkRun(job)
    with ExitStack() as stack:
        reports: list[Report] = []
        if outputs.report is not None:
            reports.append(open_report(outputs.report, job.operation, job.scope))
        if outputs.stream is not None:
            reports.append(JsonLinesStream(outputs.stream))
        stack.callback(close_reports, reports, run.tally)
        bar = stack.enter_context(LiveProgress(console, job.verb))
        sink = Recorder(run, source, reports, bar)
        todo = sendable(source, job, run, sink, interruption)
        started = time.monotonic()
        first = next(todo, None)
        if first is not None:
            try:
                await interruption.graceful(send(itertools.chain([first], todo), sink))
            except OzoError as error:
                run.error = error
            account_for_the_rest(todo, run, sink)
        run.stopped_by = interruption.signum
        run.elapsed = time.monotonic() - started
    if run.lines_read == 0 and run.stopped_by is None:
        name = source.source.name if isinstance(source, inputs.Reader) else "input"
        raise inputs.InputError(f"{name}: no numbers to process")
    return run


UNSENT = "not sent: the run stopped before it"
NO_ANSWER = "no result: the run stopped first (it may not have been sent)"


def account_for_the_rest(todo: Iterator[str], run: BulkRun, sink: Sink) -> None:
    """After an early stop, every input line still gets its report line: the numbers handed
    to the operation without a result, then the lines never read (still checked: invalid
    and repeated lines count as such). After a signal nothing more is read."""
    sink([Item(number, Skip.PENDING, NO_ANSWER) for number in sorted(run.outstanding)])
    for number in todo:
        sink([Item(number, Skip.PENDING, UNSENT)])


def close_reports(reports: Sequence[Report], tally: Tally) -> None:
    summary = {str(fate): tally.counts[fate] for fate in LABELS}
    for report in reports:
        report.close(summary)
