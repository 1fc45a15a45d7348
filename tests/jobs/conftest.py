"""Job stores for the tests: a SQLite file in the test's temporary directory, and a
PostgreSQL schema of the test's own on 127.0.0.1:5432 (database ``test``), dropped after."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from job_helpers import POSTGRES_URL, StoreAddress

from ozoasync.jobs import JobStore


async def _postgres_is_up() -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=2)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


@pytest.fixture(params=["sqlite", "postgres"])
async def address(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreAddress]:
    if request.param == "sqlite":
        yield StoreAddress(str(tmp_path / "jobs.db"))
        return
    if not await _postgres_is_up():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    schema = f"ozo_test_{uuid.uuid4().hex[:12]}"
    yield StoreAddress(POSTGRES_URL, schema)
    connection = await asyncpg.connect(POSTGRES_URL)
    await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await connection.close()


@pytest.fixture
async def store(address: StoreAddress) -> AsyncIterator[JobStore]:
    opened = await address.open()
    yield opened
    await opened.close()
