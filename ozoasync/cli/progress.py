"""The live progress bar (rich) on stderr: done/total, rate, ETA and the running counts.
Shown only when stderr is a terminal; otherwise every method does nothing."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from .tally import LABELS, Status, Tally


class RateColumn(ProgressColumn):
    """Items per second over the last seconds (rich's own estimate)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("  -  /s" if speed is None else f"{speed:7.1f}/s", style="progress.data.speed")


def counts_text(tally: Tally) -> str:
    """The non-zero counts, e.g. ``deleted 120 · already gone 4 · failed 1``."""
    shown = (Status.DELETED, Status.ADDED, Status.NOT_FOUND, Status.FAILED)
    return " · ".join(
        f"{LABELS[status]} {tally.counts[status]}" for status in shown if tally.counts[status]
    )


class LiveProgress:
    """``with LiveProgress(console, "deleting", total) as bar: bar.update(tally)``.
    ``total`` None (input from stdin) shows no ETA."""

    def __init__(self, console: Console, description: str, total: int | None) -> None:
        self.enabled = console.is_terminal
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[counts]}"),
            console=console,
            disable=not self.enabled,
            # Logs go through the same console; keep the user's own stdout untouched.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task: TaskID = self._progress.add_task(
            description, total=total, counts=counts_text(Tally())
        )

    def update(self, tally: Tally) -> None:
        if self.enabled:
            self._progress.update(self._task, completed=tally.processed, counts=counts_text(tally))

    def __enter__(self) -> LiveProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()
