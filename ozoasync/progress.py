"""Progress of bulk operations, reported to a user's ``on_progress`` callback."""

from __future__ import annotations

import time
from collections.abc import Callable

from . import validation
from .results import Outcome, Progress

ProgressCallback = Callable[[Progress], object]
"""Called (synchronously, from the event loop) after every item or chunk; keep it cheap."""


class ProgressTracker:
    """Counts finished items and hands a :class:`Progress` snapshot to the callback."""

    def __init__(
        self,
        callback: ProgressCallback | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        validation.callback(callback, "on_progress")
        self._callback = callback
        self._clock = clock
        self._started = clock()
        self._counts = {outcome: 0 for outcome in Outcome}

    def snapshot(self) -> Progress:
        done = sum(self._counts.values())
        elapsed = self._clock() - self._started
        return Progress(
            done=done,
            deleted=self._counts[Outcome.DELETED],
            not_found=self._counts[Outcome.NOT_FOUND],
            failed=self._counts[Outcome.FAILED],
            rate=done / elapsed if elapsed > 0 else 0.0,
        )

    def record(self, outcome: Outcome, count: int = 1) -> None:
        """``count`` items finished with ``outcome``."""
        if count <= 0:
            return
        self._counts[outcome] += count
        if self._callback is not None:
            self._callback(self.snapshot())
