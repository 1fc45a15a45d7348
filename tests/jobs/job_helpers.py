"""What the job tests share: where a test's store lives, for this and other processes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import asyncpg

from ozoasync.jobs import JobStore, open_store

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class StoreAddress:
    """What ``open_store`` takes to open a test's store."""

    where: str
    schema: str | None = None

    async def open(self) -> JobStore:
        return await open_store(self.where, schema=self.schema)

    async def held_by_process(self, pid: int) -> set[str]:
        """The numbers in flight under a lease of process ``pid`` (a worker's lease owner is
        ``host:pid:tag``), read from the database itself rather than through the store."""
        query = "SELECT number FROM ozo_numbers WHERE state = 'in_flight' AND lease_owner LIKE {}"
        pattern = f"%:{pid}:%"
        if self.schema is None:
            with sqlite3.connect(self.where) as connection:
                return {row[0] for row in connection.execute(query.format("?"), (pattern,))}
        connection = await asyncpg.connect(self.where)
        try:
            rows = await connection.fetch(
                query.format("$1").replace("ozo_numbers", f'"{self.schema}".ozo_numbers'), pattern
            )
        finally:
            await connection.close()
        return {row[0] for row in rows}
