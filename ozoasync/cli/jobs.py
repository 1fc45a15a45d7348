"""``ozoasync jobs list | status JOB | export JOB``: what a job store (``--journal``: a
SQLite file or a ``postgresql://`` URL) holds, read-only. The export is the audit record:
every number with its outcome, message, attempts and the UTC time it finished."""

from __future__ import annotations

import argparse
import csv
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import msgspec
from rich.table import Table

from ..jobs import JobStatus, JobStore, NumberRow, open_store
from .common import Context, UsageError
from .report import AtomicFile, report_format, safe_cells
from .summary import counts_table, duration_text
from .tally import EXIT_OK

EXPORT_FIELDS = ("number", "outcome", "message", "attempts", "finished_at")


def existing(where: str) -> str:
    """``where``, if a store can be there: reading never creates one."""
    is_url = where.startswith(("postgresql://", "postgres://"))
    if not is_url and not os.path.exists(where):
        raise UsageError(f"--journal {where}: no such job store")
    return where


@asynccontextmanager
async def opened(where: str) -> AsyncIterator[JobStore]:
    store = await open_store(existing(where))
    try:
        yield store
    finally:
        await store.close()


def utc_text(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="milliseconds")


def export_row(row: NumberRow) -> dict[str, object]:
    """One number of the audit record: its outcome, or its state while unfinished."""
    return {
        "number": row.number,
        "outcome": row.outcome.value if row.outcome is not None else row.state.value,
        "message": row.message,
        "attempts": row.attempts,
        "finished_at": utc_text(row.finished_at),
    }


async def jobs_list(args: argparse.Namespace, ctx: Context) -> int:
    async with opened(args.journal) as store:
        jobs = await store.jobs()
        table = Table(box=None, padding=(0, 1, 0, 0))
        for column in ("job", "operation", "account", "created (UTC)", "finished", "total"):
            table.add_column(column, justify="right" if column in ("finished", "total") else "left")
        for job in jobs:
            status = await store.status(job)
            table.add_row(
                job.name,
                job.operation.describe(),
                job.account.label,
                utc_text(job.created_at),
                f"{status.finished:,}",
                f"{status.total:,}",
            )
    if not jobs:
        ctx.out.print("no jobs in this store")
    else:
        ctx.out.print(table)
    return EXIT_OK


def status_rows(status: JobStatus) -> list[tuple[str, int]]:
    rows = [(str(outcome), count) for outcome, count in sorted(status.outcomes.items())]
    rows += [
        ("pending", status.pending),
        ("in flight", status.in_flight),
        ("finished", status.finished),
        ("total", status.total),
        ("lines read", status.lines),
        ("duplicates", status.duplicates),
        ("invalid", status.invalid),
    ]
    return rows


async def jobs_status(args: argparse.Namespace, ctx: Context) -> int:
    async with opened(args.journal) as store:
        status = await store.status(args.job)
    if args.json:
        ctx.out.file.write(msgspec.json.encode(status).decode() + "\n")
        return EXIT_OK
    job = status.job
    ctx.out.print(f"[bold]{job.name}[/]: {job.operation.describe()} @ {job.account.label}")
    ctx.out.print(counts_table(status_rows(status)))
    state = "done" if status.done else ("submitting" if not status.submitted else "working")
    line = f"{state}; {status.rate:.1f}/s lately"
    if status.eta_seconds is not None and not status.done:
        line += f", about {duration_text(status.eta_seconds)} left"
    if status.last_finished_at is not None:
        line += f"; last finished {utc_text(status.last_finished_at)}"
    ctx.out.print(line, soft_wrap=True)
    return EXIT_OK


async def jobs_export(args: argparse.Namespace, ctx: Context) -> int:
    """Streams the audit record into the report (memory stays constant), written
    atomically like every report."""
    extension = report_format(args.report)
    count = 0
    async with opened(args.journal) as store:
        job = await store.job(args.job)
        file = AtomicFile(args.report)
        try:
            if extension == ".csv":
                writer = csv.DictWriter(file, EXPORT_FIELDS)
                writer.writeheader()
                async for row in store.results(job):
                    writer.writerow(safe_cells(export_row(row)))
                    count += 1
            else:
                head = {
                    "job": job.name,
                    "operation": job.operation.describe(),
                    "account": job.account.label,
                }
                file.write(msgspec.json.encode(head).decode()[:-1] + ',"results":[')
                async for row in store.results(job):
                    separator = ",\n" if count else "\n"
                    file.write(separator + msgspec.json.encode(export_row(row)).decode())
                    count += 1
                file.write("\n]}\n")
        except BaseException:
            file.discard()
            raise
        file.commit()
    ctx.out.print(f"exported {count:,} numbers of job {job.name!r} to {args.report}")
    return EXIT_OK
