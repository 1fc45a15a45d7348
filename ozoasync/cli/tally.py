"""What happened to each input line, the running counts, and the exit code they mean."""

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
from ..jobs import JobStoreError
from ..results import Outcome

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Skip(enum.StrEnum):
    """Why an input line was not sent: states of the command line's input, not outcomes of
    an operation (those are the SDK's :class:`~ozoasync.Outcome`)."""

    DUPLICATE = "duplicate"  # repeats an earlier line; sent once
    INVALID = "invalid"  # not a number the operation accepts; never sent
    PENDING = "pending"  # not finished: the run stopped before it (in a job store: to resume)


Fate = Outcome | Skip
"""What became of one input line: the operation's outcome, or why it was not sent."""

# Done for good: journaled, never sent again. Failures are retried by a re-run.
FINISHED: frozenset[Fate] = frozenset(
    {Outcome.DELETED, Outcome.NOT_FOUND, Outcome.ADDED, Outcome.PARTLY_CONFIRMED}
)

# Counted against the run: failed here, or would fail in any run.
FAILURES: frozenset[Fate] = frozenset({Outcome.FAILED, Skip.INVALID})

LABELS: dict[Fate, str] = {
    Outcome.DELETED: "deleted",
    Outcome.ADDED: "added",
    Outcome.NOT_FOUND: "already gone",
    Outcome.PARTLY_CONFIRMED: "in partly confirmed chunks",
    Outcome.FAILED: "failed",
    Skip.DUPLICATE: "duplicates (sent once)",
    Skip.INVALID: "invalid",
    Skip.PENDING: "pending (not sent, or no answer)",
}


@dataclass(frozen=True, slots=True)
class Item:
    """One input item (a number) and what happened to it."""

    number: str
    fate: Fate
    message: str = ""
    attempts: int | None = None
    place: str = ""  # where, when a run has several places (forget: a campaign, scheduled)

    @property
    def finished(self) -> bool:
        return self.fate in FINISHED


@dataclass(slots=True)
class Tally:
    """Counts per fate, with the first few failures (invalid lines included) kept for the
    summary."""

    counts: Counter[Fate] = field(default_factory=Counter)
    first_failures: list[Item] = field(default_factory=list)
    keep_failures: int = 5

    def add(self, item: Item) -> None:
        self.counts[item.fate] += 1
        if item.fate in FAILURES and len(self.first_failures) < self.keep_failures:
            self.first_failures.append(item)

    @property
    def processed(self) -> int:
        """Lines sent in this run (each an outcome of the operation)."""
        return sum(n for fate, n in self.counts.items() if isinstance(fate, Outcome))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        """Failed lines, invalid ones included: they make the exit code 1."""
        return sum(self.counts[fate] for fate in FAILURES)


def error_exit_code(error: OzoError) -> int:
    """2 for errors the user fixes in the arguments or the environment (input rejected
    before sending, credentials refused, a server or Redis that cannot be reached, a job
    store that is not one or lacks the job named); 1 for the service failing."""
    if isinstance(
        error,
        AuthenticationError
        | RequestValidationError
        | CoordinationError
        | ServerUnreachableError
        | JobStoreError,
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
