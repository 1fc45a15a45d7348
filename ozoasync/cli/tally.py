"""What happened to each input item, the running counts, and the exit code they mean."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from ..errors import (
    AuthenticationError,
    CoordinationError,
    InvalidParameterError,
    NotFoundError,
    OzoError,
    RequestValidationError,
    ServerUnreachableError,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Status(enum.StrEnum):
    """One item's fate. The first three are the SDK's ``Outcome`` values."""

    DELETED = "deleted"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    ADDED = "added"
    # In a chunk the server confirmed only in part (iSales answers a count, not which
    # numbers): each was deleted (added) or already gone (already there).
    PARTLY_CONFIRMED = "partly_confirmed"
    SKIPPED = "skipped"  # finished in an earlier run, per the journal; not sent
    DUPLICATE = "duplicate"  # repeats an earlier input item; not sent again

    @property
    def finished(self) -> bool:
        """Done for good: journaled, never sent again. Failures are retried by a re-run."""
        return self in _FINISHED

    @property
    def sent(self) -> bool:
        """Handled by this run (not skipped as finished earlier or as a repeat)."""
        return self not in (Status.SKIPPED, Status.DUPLICATE)


_FINISHED = frozenset({Status.DELETED, Status.NOT_FOUND, Status.ADDED, Status.PARTLY_CONFIRMED})


LABELS = {
    Status.DELETED: "deleted",
    Status.ADDED: "added",
    Status.NOT_FOUND: "already gone",
    Status.PARTLY_CONFIRMED: "in partly confirmed chunks",
    Status.FAILED: "failed",
    Status.SKIPPED: "finished earlier (journal)",
    Status.DUPLICATE: "duplicates (sent once)",
}


@dataclass(frozen=True, slots=True)
class Item:
    """One input item (a number) and what happened to it."""

    number: str
    status: Status
    message: str = ""
    attempts: int | None = None


@dataclass(slots=True)
class Tally:
    """Counts per status, with the first few failures kept for the summary."""

    counts: Counter[Status] = field(default_factory=Counter)
    first_failures: list[Item] = field(default_factory=list)
    keep_failures: int = 5

    def add(self, item: Item) -> None:
        self.counts[item.status] += 1
        if item.status is Status.FAILED and len(self.first_failures) < self.keep_failures:
            self.first_failures.append(item)

    @property
    def processed(self) -> int:
        """Items handled in this run (skipped ones and repeats excluded)."""
        return sum(n for status, n in self.counts.items() if status.sent)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return self.counts[Status.FAILED]


def error_exit_code(error: OzoError) -> int:
    """2 for errors the user fixes in the arguments or the environment (input rejected
    before sending, credentials refused, a server or Redis that cannot be reached); 1 for
    the service failing."""
    if isinstance(
        error,
        AuthenticationError | RequestValidationError | CoordinationError | ServerUnreachableError,
    ):
        return EXIT_USAGE
    return EXIT_FAILED


def bulk_exit_code(failed: int, error: OzoError | None = None) -> int:
    """The exit code of a bulk run: the error that stopped it, else 1 if any item failed.

    A bulk operation stops early only on an error every later request would hit: besides
    credentials and Redis, a target the server does not know (campaign, group): also 2."""
    if error is not None:
        if isinstance(error, InvalidParameterError | NotFoundError):
            return EXIT_USAGE
        return error_exit_code(error)
    return EXIT_FAILED if failed else EXIT_OK


def one_line(text: str) -> str:
    """``text`` on one line (a server's message may hold newlines)."""
    return " ".join(text.split())
