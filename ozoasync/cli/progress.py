"""The live progress bar (rich) on stderr: done/total, rate, ETA and, on a wide terminal,
the elapsed time and the running counts. Shown only when stderr is a terminal; otherwise
every method does nothing. At 80 columns done/total, rate and ETA still fit."""

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

from ..results import Outcome
from .tally import LABELS, Skip, Tally

WIDE = 120  # columns from which the elapsed time and the counts are shown too


class RateColumn(ProgressColumn):
    """Lines per second over the last seconds (rich's own estimate)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("  -  /s" if speed is None else f"{speed:7.1f}/s", style="progress.data.speed")


def counts_text(tally: Tally) -> str:
    """The non-zero counts, e.g. ``deleted 120 · already gone 4 · failed 1``."""
    shown = (
        Outcome.DELETED,
        Outcome.ADDED,
        Outcome.NOT_FOUND,
        Outcome.FAILED,
        Skip.INVALID,
        Skip.DUPLICATE,
    )
    return " · ".join(
        f"{LABELS[fate]} {tally.counts[fate]}" for fate in shown if tally.counts[fate]
    )


def columns(width: int) -> list[ProgressColumn]:
    essential: list[ProgressColumn] = [
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=None if width >= WIDE else 16),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    if width < WIDE:
        return essential
    return [
        *essential,
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[counts]}"),
    ]


class LiveProgress:
    """``with LiveProgress(console, "deleting") as bar: bar.update(tally, total)``: done is
    every input line accounted for; ``total`` (the lines of the input, estimated while a
    file is being read) None shows no ETA."""

    def __init__(self, console: Console, description: str) -> None:
        self.enabled = console.is_terminal
        self._progress = Progress(
            *columns(console.width),
            console=console,
            disable=not self.enabled,
            # Logs go through the same console; keep the user's own stdout untouched.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task: TaskID = self._progress.add_task(
            description, total=None, counts=counts_text(Tally())
        )

    def update(self, tally: Tally, total: int | None) -> None:
        if self.enabled:
            self._progress.update(
                self._task, completed=tally.total, total=total, counts=counts_text(tally)
            )

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
