"""Durable cleanup jobs: a job store on SQLite (a file path, the embedded default) or
PostgreSQL (a ``postgresql://`` URL, for jobs worked from several hosts at once).

    async with await open_store("cleanup.db") as store:
        job = await store.submit(DeleteCampaignData(campaign="spring"), numbers,
                                 account=Account.of(ca))
        await store.work(job, ca)             # in any number of processes and hosts
        print(await store.status(job))
        async for row in store.results(job):  # the audit record, one row per number
            ...
"""

from __future__ import annotations

from .errors import (
    AccountMismatchError,
    JobConflictError,
    JobNotFoundError,
    JobStoreError,
    NotAJobStoreError,
)
from .models import Job, JobStatus, NumberRow, NumberState, WorkReport
from .operations import (
    Account,
    AddCallerNumbers,
    DeleteBlockNumbers,
    DeleteBulkData,
    DeleteCallerNumbers,
    DeleteCampaignData,
    DeleteScheduledData,
    Operation,
    operation,
)
from .store import JobStore, open_store

__all__ = [
    "Account",
    "AccountMismatchError",
    "AddCallerNumbers",
    "DeleteBlockNumbers",
    "DeleteBulkData",
    "DeleteCallerNumbers",
    "DeleteCampaignData",
    "DeleteScheduledData",
    "Job",
    "JobConflictError",
    "JobNotFoundError",
    "JobStatus",
    "JobStore",
    "JobStoreError",
    "NotAJobStoreError",
    "NumberRow",
    "NumberState",
    "Operation",
    "WorkReport",
    "open_store",
    "operation",
]
