"""A bulk run on a job store (``--journal PATH`` or ``--journal postgresql://…``): the input
is submitted into the store (de-duplicated by the database, idempotent), then worked through
the SDK by this process together with any other process or host working the same job; at the
end the report is the store's record of every number of the job.

A signal cancels the work at once: the numbers in flight go back to pending (a later run,
here or on another host, sends them), and the report is written from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import Any

from rich.console import Console

from ..errors import OzoError, RequestValidationError
from ..jobs import Account, JobStatus, JobStore, NumberRow, NumberState, Operation, open_store
from ..results import Outcome
from . import inputs
from .bulk import BulkRun, Job, Outputs, close_reports
from .interrupt import Interruption
from .progress import LiveProgress
from .report import JsonLinesStream, Report, open_report
from .tally import FAILURES, Fate, Item, Skip, Tally

POLL_SECONDS = 1.0  # how often the progress bar reads the store's counts


def submitted_lines(lines: Iterable[str], job: Job, run: BulkRun) -> Iterator[str]:
    """The input lines as the store gets them: a valid number without the separators
    people write in numbers, anything else as written (the store records it invalid)."""
    for line in lines:
        run.lines_read += 1
        number = inputs.normalised(line)
        try:
            yield job.check(number, "numbers")
        except RequestValidationError:
            yield line


def tally_of(status: JobStatus) -> Tally:
    """Every line of the job counted once: outcomes, invalid lines, duplicates, pending."""
    tally = Tally()
    for outcome, count in status.outcomes.items():
        tally.counts[outcome] += count
    tally.counts[Outcome.FAILED] -= status.invalid  # the store counts them among FAILED
    tally.counts[Skip.INVALID] += status.invalid
    tally.counts[Skip.DUPLICATE] += status.duplicates
    tally.counts[Skip.PENDING] += status.pending + status.in_flight
    return tally


def row_item(row: NumberRow) -> Item:
    fate: Fate
    if row.invalid:
        fate = Skip.INVALID
    elif row.state is not NumberState.FINISHED or row.outcome is None:
        fate = Skip.PENDING
    else:
        fate = row.outcome
    return Item(row.number, fate, row.message, row.attempts)


async def follow(store: JobStore, name: str, bar: LiveProgress) -> None:
    """Keep the progress bar on the store's counts (other workers' included)."""
    while True:
        status = await store.status(name)
        bar.update(tally_of(status), status.lines if status.submitted else None)
        await asyncio.sleep(POLL_SECONDS)


async def run_stored(
    job: Job,
    operation: Operation,
    account: Account,
    client: Any,
    source: inputs.Reader,
    outputs: Outputs,
    console: Console,
    interruption: Interruption,
    *,
    name: str | None,
    concurrency: int,
    lease: float,
) -> BulkRun:
    assert outputs.journal is not None
    run = BulkRun(job)
    started = time.monotonic()
    async with await open_store(outputs.journal) as store:
        stored = await store.submit(
            operation, submitted_lines(source, job, run), account=account, name=name
        )
        with ExitStack() as stack:
            bar = stack.enter_context(LiveProgress(console, job.verb))
            following = asyncio.create_task(follow(store, stored.name, bar))
            try:
                # A re-run retries what failed (never the invalid lines), as users expect.
                work = store.work(
                    stored, client, concurrency=concurrency, lease=lease, retry_failed=True
                )
                await interruption.graceful(work, grace=0.0)
            except OzoError as error:
                run.error = error
            finally:
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await following
        run.stopped_by = interruption.signum
        run.elapsed = time.monotonic() - started
        status = await store.status(stored.name)
        run.tally = tally_of(status)
        run.to_send = status.total - status.invalid
        await write_record(store, stored.name, outputs, run)
    run.job_name = stored.name
    return run


async def write_record(store: JobStore, name: str, outputs: Outputs, run: BulkRun) -> None:
    """The report and the JSON lines from the store: every number of the job, once."""
    reports: list[Report] = []
    if outputs.report is not None:
        reports.append(open_report(outputs.report, run.job.operation, run.job.scope))
    if outputs.stream is not None:
        reports.append(JsonLinesStream(outputs.stream))
    failures = run.tally.first_failures
    try:
        async for row in store.results(name):
            item = row_item(row)
            if item.fate in FAILURES and len(failures) < run.tally.keep_failures:
                failures.append(item)
            for report in reports:
                report.write([item])
    finally:
        close_reports(reports, run.tally)
