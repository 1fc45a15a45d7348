"""The two databases under the job store, behind one small interface.

The store's algorithm (``store.py``) is written once, in SQL both databases accept, with
``?`` placeholders and a few dialect fragments (the database clock, ``SKIP LOCKED``, the
identity column, ``greatest``). What differs is here: how a transaction is opened (SQLite
``BEGIN IMMEDIATE``, so that a claim never upgrades a read lock into a write lock and loses
to another process; PostgreSQL row locks with ``FOR UPDATE SKIP LOCKED``), placeholders,
and how a batch is inserted while the database drops duplicates (``ON CONFLICT DO
NOTHING``: ``executemany`` on SQLite, one ``unnest`` statement on PostgreSQL).

Times are seconds since the Unix epoch, read from the database's clock, so that workers on
hosts whose clocks disagree still agree on when a lease expires.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .errors import JobStoreError, NotAJobStoreError

SCHEMA_VERSION = "1"

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    """One statement. ``rows`` holds what a SELECT or ``RETURNING`` gave, ``count`` the rows
    an INSERT, UPDATE or DELETE changed."""

    sql: str
    args: Sequence[Any] = ()


@dataclass(frozen=True)
class Many:
    """One statement run once per argument tuple (no rows come back)."""

    sql: str
    args: Sequence[Sequence[Any]] = ()


@dataclass(frozen=True)
class InsertNew:
    """Insert ``rows`` into ``table``; rows whose unique key exists already are dropped by
    the database. ``columns`` pairs each column with its PostgreSQL array element type."""

    table: str
    columns: Sequence[tuple[str, str]]
    rows: Sequence[Sequence[Any]]


Statement = Query | Many | InsertNew


@dataclass
class Result:
    rows: list[Row] = field(default_factory=list)
    count: int = 0


@dataclass(frozen=True)
class Dialect:
    #: The database clock, in seconds since the epoch.
    now: str
    #: Appended to the SELECT of a claim.
    skip_locked: str
    #: The primary-key column definition.
    identity: str
    #: The two-argument maximum.
    greatest: str


SQLITE = Dialect(
    now="((julianday('now') - 2440587.5) * 86400.0)",
    skip_locked="",
    identity="INTEGER PRIMARY KEY",
    greatest="max",
)
POSTGRES = Dialect(
    now="extract(epoch from clock_timestamp())::double precision",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    identity="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    greatest="greatest",
)


def schema(dialect: Dialect) -> list[str]:
    """The job store's tables, one algorithm's worth for both databases."""
    return [
        "CREATE TABLE IF NOT EXISTS ozo_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS ozo_jobs (
            id {dialect.identity},
            name TEXT NOT NULL UNIQUE,
            operation TEXT NOT NULL,
            spec TEXT NOT NULL,
            account TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            lines BIGINT NOT NULL DEFAULT 0,
            submitted INTEGER NOT NULL DEFAULT 0)""",
        f"""CREATE TABLE IF NOT EXISTS ozo_numbers (
            id {dialect.identity},
            job_id BIGINT NOT NULL REFERENCES ozo_jobs (id) ON DELETE CASCADE,
            number TEXT NOT NULL,
            state TEXT NOT NULL,
            outcome TEXT,
            message TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0,
            invalid INTEGER NOT NULL DEFAULT 0,
            maybe_sent INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_until DOUBLE PRECISION,
            finished_at DOUBLE PRECISION,
            UNIQUE (job_id, number))""",
        "CREATE INDEX IF NOT EXISTS ozo_numbers_claim ON ozo_numbers (job_id, state, lease_until)",
        # Results stream in input order, a page at a time.
        "CREATE INDEX IF NOT EXISTS ozo_numbers_order ON ozo_numbers (job_id, id)",
    ]


class Backend(Protocol):
    dialect: Dialect

    async def run(self, statements: Sequence[Statement]) -> list[Result]:
        """Run ``statements`` in one write transaction, in order; one Result each."""
        ...

    async def read(self, query: Query) -> list[Row]:
        """One SELECT, outside any write transaction."""
        ...

    async def close(self) -> None: ...


# -- SQLite --------------------------------------------------------------------------------


def _busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the database (SQLITE_BUSY / SQLITE_LOCKED)."""
    return getattr(error, "sqlite_errorcode", None) in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    ) or "locked" in str(error)


class SQLiteBackend:
    """One connection used from one thread: statements run in the order they were asked
    for, so a release issued after a cancelled claim runs after that claim committed."""

    dialect = SQLITE

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ozoasync-jobs")
        self._connection: sqlite3.Connection | None = None

    async def _call(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def open(self) -> None:
        await self._call(self._open)

    def _open(self) -> None:
        # Processes opening a new store at once (web workers starting together) can meet
        # SQLITE_BUSY while one switches it to WAL, which SQLite reports at once rather than
        # through the busy timeout: try again until the timeout has passed.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                self._connection = self._connect()
                return
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise NotAJobStoreError(str(self.path), str(error)) from error
                if time.monotonic() >= deadline:
                    raise JobStoreError(
                        f"{self.path}: the job store stayed locked by another process for "
                        f"{self._busy_timeout:g} s"
                    ) from error
                time.sleep(0.05)

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None
            )
        except sqlite3.Error as error:
            raise NotAJobStoreError(str(self.path), str(error)) from error
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("BEGIN IMMEDIATE")
            tables = {
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
            if tables and "ozo_meta" not in tables:
                raise NotAJobStoreError(
                    str(self.path), f"it holds other tables ({', '.join(sorted(tables))})"
                )
            for statement in schema(SQLITE):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO ozo_meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT DO NOTHING",
                (SCHEMA_VERSION,),
            )
            version = connection.execute(
                "SELECT value FROM ozo_meta WHERE key = 'schema_version'"
            ).fetchone()
            if version != (SCHEMA_VERSION,):
                raise NotAJobStoreError(str(self.path), f"unknown schema version {version}")
            connection.execute("COMMIT")
        except sqlite3.OperationalError as error:
            connection.close()
            if _busy(error):
                raise
            raise NotAJobStoreError(str(self.path), str(error)) from error
        except sqlite3.DatabaseError as error:
            connection.close()
            raise NotAJobStoreError(str(self.path), str(error)) from error
        except BaseException:
            connection.close()
            raise
        return connection

    def _run(self, statements: Sequence[Statement]) -> list[Result]:
        connection = self._connection
        assert connection is not None, "the store is closed"
        results = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                if isinstance(statement, Query):
                    cursor = connection.execute(statement.sql, tuple(statement.args))
                    rows = cursor.fetchall()
                    results.append(Result(rows, max(cursor.rowcount, 0)))
                elif isinstance(statement, Many):
                    cursor = connection.executemany(statement.sql, statement.args)
                    results.append(Result([], max(cursor.rowcount, 0)))
                else:
                    names = ", ".join(name for name, _ in statement.columns)
                    marks = ", ".join("?" for _ in statement.columns)
                    cursor = connection.executemany(
                        f"INSERT INTO {statement.table} ({names}) VALUES ({marks}) "
                        "ON CONFLICT DO NOTHING",
                        statement.rows,
                    )
                    results.append(Result([], max(cursor.rowcount, 0)))
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return results

    async def run(self, statements: Sequence[Statement]) -> list[Result]:
        result: list[Result] = await self._call(self._run, statements)
        return result

    def _read(self, query: Query) -> list[Row]:
        connection = self._connection
        assert connection is not None, "the store is closed"
        return connection.execute(query.sql, tuple(query.args)).fetchall()

    async def read(self, query: Query) -> list[Row]:
        rows: list[Row] = await self._call(self._read, query)
        return rows

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        await self._call(self._close)
        self._executor.shutdown(wait=True)


# -- PostgreSQL ----------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\?")


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...``."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


def _count(status: str) -> int:
    """The row count of a command tag such as ``UPDATE 5`` or ``INSERT 0 5``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresBackend:
    """An asyncpg pool; ``schema`` (created if missing) is the search path of every
    connection."""

    dialect = POSTGRES

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 4) -> None:
        self.url = url
        self.schema = schema
        self._pool_size = pool_size
        self._pool: Any = None

    async def open(self) -> None:
        try:
            import asyncpg
        except ImportError as error:
            raise ImportError(
                "a PostgreSQL job store needs asyncpg: pip install 'ozoasync[postgres]'"
            ) from error
        settings = {"search_path": self.schema} if self.schema else {}
        self._pool = await asyncpg.create_pool(
            self.url, min_size=1, max_size=self._pool_size, server_settings=settings
        )
        async with self._pool.acquire() as connection, connection.transaction():
            # Workers starting at once on several hosts create the tables once.
            await connection.execute("SELECT pg_advisory_xact_lock(7429175836)")
            if self.schema:
                await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            for statement in schema(POSTGRES):
                await connection.execute(statement)
            await connection.execute(
                "INSERT INTO ozo_meta (key, value) VALUES ('schema_version', $1) "
                "ON CONFLICT DO NOTHING",
                SCHEMA_VERSION,
            )
            version = await connection.fetchval(
                "SELECT value FROM ozo_meta WHERE key = 'schema_version'"
            )
        if version != SCHEMA_VERSION:
            await self.close()
            raise NotAJobStoreError(self.schema or "the database", f"schema version {version}")

    async def run(self, statements: Sequence[Statement]) -> list[Result]:
        results = []
        async with self._pool.acquire() as connection, connection.transaction():
            for statement in statements:
                if isinstance(statement, Query):
                    sql = numbered(statement.sql)
                    if "RETURNING" in sql or sql.lstrip().upper().startswith("SELECT"):
                        records = await connection.fetch(sql, *statement.args)
                        rows = [tuple(record) for record in records]
                        results.append(Result(rows, len(rows)))
                    else:
                        status = await connection.execute(sql, *statement.args)
                        results.append(Result([], _count(status)))
                elif isinstance(statement, Many):
                    await connection.executemany(numbered(statement.sql), statement.args)
                    results.append(Result([], len(statement.args)))
                else:
                    names = ", ".join(name for name, _ in statement.columns)
                    arrays = ", ".join(
                        f"${i}::{kind}[]" for i, (_, kind) in enumerate(statement.columns, 1)
                    )
                    columns = [list(column) for column in zip(*statement.rows, strict=True)]
                    if not columns:
                        results.append(Result())
                        continue
                    status = await connection.execute(
                        f"INSERT INTO {statement.table} ({names}) "
                        f"SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING",
                        *columns,
                    )
                    results.append(Result([], _count(status)))
        return results

    async def read(self, query: Query) -> list[Row]:
        async with self._pool.acquire() as connection:
            records = await connection.fetch(numbered(query.sql), *query.args)
        return [tuple(record) for record in records]

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
