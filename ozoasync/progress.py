"""Progress of bulk operations, reported to a user's ``on_progress`` callback."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from operator import attrgetter

from . import validation
from .results import NumberResult, Outcome, Progress

_OUTCOME = attrgetter("outcome")

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
        self._counts = dict.fromkeys(Outcome, 0)

    def snapshot(self) -> Progress:
        counts = self._counts
        done = sum(counts.values())
        elapsed = self._clock() - self._started
        return Progress(
            done=done,
            deleted=counts[Outcome.DELETED],
            not_found=counts[Outcome.NOT_FOUND],
            failed=counts[Outcome.FAILED],
            added=counts[Outcome.ADDED],
            partly_confirmed=counts[Outcome.PARTLY_CONFIRMED],
            rate=done / elapsed if elapsed > 0 else 0.0,
        )

    def record(self, outcome: Outcome, count: int = 1) -> None:
        """``count`` items finished with ``outcome``."""
        if count <= 0:
            return
        self._counts[outcome] += count
        if self._callback is not None:
            self._callback(self.snapshot())

    def record_items(self, items: Iterable[NumberResult]) -> None:
        """A chunk's items finished: one callback for all of them."""
        for outcome, count in Counter(map(_OUTCOME, items)).items():
            self._counts[outcome] += count
        if self._callback is not None:
            self._callback(self.snapshot())
