"""Errors of the job store. All are :class:`~ozoasync.OzoError`."""

from __future__ import annotations

from ..errors import OzoError


class JobStoreError(OzoError):
    """Base class of the job store's errors."""


class NotAJobStoreError(JobStoreError):
    """The file or database is not an ozoasync job store (another program's SQLite file, a
    JSON Lines journal, an unknown schema version). Nothing in it was changed."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where} is not an ozoasync job store: {problem}")


class JobConflictError(JobStoreError):
    """A job of that name exists for another operation, target or account."""

    def __init__(self, name: str, existing: str, requested: str) -> None:
        self.name = name
        self.existing = existing
        self.requested = requested
        super().__init__(
            f"job {name!r} exists for {existing}, not {requested}: choose another name"
        )


class JobNotFoundError(JobStoreError, LookupError):
    """No job of that name (or id) in the store."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no job named {name!r} in the store")


class AccountMismatchError(JobStoreError):
    """``work`` was given a client for another account or vendor than the job's."""

    def __init__(self, job: str, expected: str, got: str) -> None:
        self.job = job
        self.expected = expected
        self.got = got
        super().__init__(f"job {job!r} belongs to {expected}; the client is for {got}")


__all__ = [
    "AccountMismatchError",
    "JobConflictError",
    "JobNotFoundError",
    "JobStoreError",
    "NotAJobStoreError",
]
