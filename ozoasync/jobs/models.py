"""The job store's typed results (frozen msgspec Structs, encodable to JSON)."""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from ..results import Outcome
from .operations import Account, Operation


class NumberState(enum.StrEnum):
    """Where one number of a job is."""

    PENDING = "pending"
    #: Claimed by a worker under a lease (``lease_until``).
    IN_FLIGHT = "in_flight"
    FINISHED = "finished"


class Job(msgspec.Struct, frozen=True, kw_only=True):
    """A job: what to do (``operation``, with its target), for which ``account``."""

    id: int
    name: str
    operation: Operation
    account: Account
    created_at: datetime


class JobStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Counts of one job. ``total`` is the distinct numbers stored (invalid ones included);
    ``lines`` the input lines read, ``duplicates`` the lines that repeated a number,
    ``invalid`` the numbers refused unsent (FAILED with the validation message).
    ``outcomes`` counts finished numbers by outcome (invalid ones among the FAILED).
    ``rate``: numbers finished per second over the last few minutes; ``eta_seconds`` the
    time left at that rate (None when nothing finished lately). ``submitted`` is False
    while a submission is still streaming the input in."""

    job: Job
    total: int
    pending: int
    in_flight: int
    finished: int
    outcomes: dict[Outcome, int]
    lines: int
    duplicates: int
    invalid: int
    submitted: bool
    rate: float
    eta_seconds: float | None
    last_finished_at: datetime | None

    @property
    def done(self) -> bool:
        return self.submitted and self.pending == 0 and self.in_flight == 0


class NumberRow(msgspec.Struct, frozen=True, kw_only=True):
    """One number of a job, as the audit record shows it. ``attempts``: how many times a
    worker took it to send (a worker that died with it in flight counts; numbers refused as
    invalid have 0). ``finished_at`` is UTC."""

    number: str
    state: NumberState
    outcome: Outcome | None
    message: str
    attempts: int
    invalid: bool
    finished_at: datetime | None


class WorkReport(msgspec.Struct, frozen=True, kw_only=True):
    """What one ``work`` call did: numbers it finished, by outcome."""

    finished: int
    outcomes: dict[Outcome, int]


__all__ = ["Job", "JobStatus", "NumberRow", "NumberState", "WorkReport"]
