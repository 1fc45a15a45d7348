"""The human-readable summary printed at the end of a run (stdout)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .. import RateLimit
from ..results import Outcome
from .bulk import BulkRun
from .tally import LABELS, Fate, Skip, Tally, one_line


def duration_text(seconds: float) -> str:
    """``0.4 s``, ``42.0 s``, ``3 min 20 s``, ``2 h 5 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def counts_table(rows: list[tuple[str, int]]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 1, 0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    for label, count in rows:
        table.add_row(label, f"{count:,}")
    return table


# The rows of a summary, in order; each shown when non-zero (failed: always).
ROWS: tuple[Fate, ...] = (
    Outcome.DELETED,
    Outcome.ADDED,
    Outcome.NOT_FOUND,
    Outcome.PARTLY_CONFIRMED,
    Outcome.FAILED,
    Skip.INVALID,
    Skip.DUPLICATE,
    Skip.PENDING,
)


def count_rows(tally: Tally) -> list[tuple[str, int]]:
    """Every line of the input is in exactly one row; ``total`` is the lines read."""
    rows = [
        (LABELS[fate], tally.counts[fate])
        for fate in ROWS
        if tally.counts[fate] or fate is Outcome.FAILED
    ]
    rows.append(("total", tally.total))
    return rows


def print_run(console: Console, run: BulkRun, report: str | None) -> None:
    tally = run.tally
    console.print(f"[bold]{run.job.operation}[/] ({run.job.scope})", soft_wrap=True)
    console.print(counts_table(count_rows(tally)))
    console.print(
        f"{tally.processed:,} processed in {duration_text(run.elapsed)} ({run.rate:.1f}/s)"
    )
    if run.error is not None:
        # Stopped by an error every later request would hit: that error is the news.
        console.print(f"stopped early: {one_line(str(run.error))}", style="bold red")
    else:
        for item in tally.first_failures:
            console.print(
                f"  {item.fate}: {item.number}: {one_line(item.message)}",
                soft_wrap=True,
                markup=False,
                highlight=False,
            )
        if tally.failed > len(tally.first_failures):
            more = tally.failed - len(tally.first_failures)
            where = f"see {report}" if report else "use --report PATH to list them all"
            console.print(f"  ... and {more:,} more ({where})")
    if run.job_name is not None:
        console.print(f"job: {run.job_name}", soft_wrap=True, markup=False, highlight=False)
    if report:
        console.print(f"report: {report}", soft_wrap=True)


def least_duration(requests: int, limit: RateLimit | None) -> float | None:
    """Seconds ``requests`` take at least under ``limit`` (evenly spaced)."""
    if limit is None or requests == 0 or limit.burst:
        return None
    return (requests - 1) * limit.window


def print_dry_run(console: Console, run: BulkRun, requests: int, limit: RateLimit | None) -> None:
    tally = run.tally
    rows = [("numbers read", run.lines_read)]
    rows += [(DRY_LABELS[fate], tally.counts[fate]) for fate in (Skip.DUPLICATE, Skip.INVALID)]
    rows += [("to send", run.to_send), ("requests", requests)]
    job = run.job
    console.print(
        f"[bold]dry run[/]: {job.operation} ({job.scope}); nothing was sent", soft_wrap=True
    )
    console.print(counts_table(rows))
    for item in tally.first_failures:
        console.print(
            f"  invalid: {item.number!r}: {item.message}", highlight=False, soft_wrap=True
        )
    duration = least_duration(requests, limit)
    if duration is not None and limit is not None:
        console.print(
            f"at most {limit.max_requests} requests per {limit.period:g} s this takes about "
            f"{duration_text(duration)}",
            soft_wrap=True,
        )


DRY_LABELS: dict[Fate, str] = {
    Skip.DUPLICATE: "duplicates",
    Skip.INVALID: "invalid",
}
