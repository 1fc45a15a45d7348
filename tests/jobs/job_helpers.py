"""What the job tests share: where a test's store lives, for this and other processes."""

from __future__ import annotations

from dataclasses import dataclass

from ozoasync.jobs import JobStore, open_store

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class StoreAddress:
    """What ``open_store`` takes to open a test's store."""

    where: str
    schema: str | None = None

    async def open(self) -> JobStore:
        return await open_store(self.where, schema=self.schema)
