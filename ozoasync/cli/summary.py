"""The human-readable summary printed at the end of a run (stdout)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..transport.ratelimit import RateLimit
from .bulk import BulkRun
from .dryrun import DryRun
from .tally import LABELS, Status, one_line


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


def print_run(console: Console, run: BulkRun, report: str | None) -> None:
    tally = run.tally
    shown = [s for s in (Status.DELETED, Status.ADDED, Status.NOT_FOUND) if tally.counts[s]]
    rows = [(LABELS[status], tally.counts[status]) for status in shown]
    rows.append((LABELS[Status.FAILED], tally.failed))
    if tally.counts[Status.SKIPPED]:
        rows.append((LABELS[Status.SKIPPED], tally.counts[Status.SKIPPED]))
    rows.append(("total", tally.total))
    console.print(f"[bold]{run.job.operation}[/] ({run.job.scope})", soft_wrap=True)
    console.print(counts_table(rows))
    console.print(
        f"{tally.processed:,} processed in {duration_text(run.elapsed)} ({run.rate:.1f}/s)"
    )
    if run.error is not None:
        # Stopped by an error every later request would hit: that error is the news.
        console.print(f"stopped early: {one_line(str(run.error))}", style="bold red")
    else:
        for item in tally.first_failures:
            console.print(f"  failed: {item.number}: {one_line(item.message)}", soft_wrap=True)
        if tally.failed > len(tally.first_failures):
            more = tally.failed - len(tally.first_failures)
            where = f"see {report}" if report else "use --report PATH to list them all"
            console.print(f"  ... and {more:,} more failures ({where})")
    if report:
        console.print(f"report: {report}")


def print_dry_run(console: Console, title: str, result: DryRun, limit: RateLimit | None) -> None:
    rows = [("numbers read", result.read)]
    if result.skipped:
        rows.append(("finished earlier (journal)", result.skipped))
    rows += [
        ("duplicates", result.duplicates),
        ("invalid", result.invalid),
        ("to send", result.to_send),
        ("requests", result.requests),
    ]
    console.print(f"[bold]dry run[/]: {title}; nothing was sent", soft_wrap=True)
    console.print(counts_table(rows))
    for raw, problem in result.first_invalid:
        console.print(f"  invalid: {raw!r}: {problem}", highlight=False)
    duration = result.duration(limit)
    if duration is not None and limit is not None:
        console.print(
            f"at most {limit.max_requests} requests per {limit.period:g} s this takes about "
            f"{duration_text(duration)}"
        )
