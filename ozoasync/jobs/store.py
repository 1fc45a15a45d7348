"""The job store: one algorithm over SQLite and PostgreSQL (see ``backend.py``)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import msgspec

from .. import validation
from ..batching import iterate
from ..errors import OzoError, RequestValidationError, dooms_later_requests
from ..results import NumberResult, Outcome
from .backend import (
    Backend,
    InsertNew,
    Many,
    PostgresBackend,
    Query,
    SQLiteBackend,
    Statement,
)
from .errors import AccountMismatchError, JobConflictError, JobNotFoundError
from .models import Job, JobStatus, NumberRow, NumberState, WorkReport
from .operations import Account, Operation, decode_operation, describe_client, encode_operation

log = logging.getLogger("ozoasync.jobs")

#: Finished numbers of this many last seconds make a job's rate.
RATE_WINDOW = 300.0

_PENDING = NumberState.PENDING.value
_IN_FLIGHT = NumberState.IN_FLIGHT.value
_FINISHED = NumberState.FINISHED.value

_NUMBER_COLUMNS = (
    ("job_id", "bigint"),
    ("number", "text"),
    ("state", "text"),
    ("outcome", "text"),
    ("message", "text"),
    ("invalid", "integer"),
    ("finished_at", "double precision"),
)

JobRef = Job | str


def _utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


async def open_store(where: str | os.PathLike[str], *, schema: str | None = None) -> JobStore:
    """Open (creating if need be) the job store at ``where``: a ``postgresql://`` URL, or
    a SQLite file path. ``schema``: the PostgreSQL schema to keep the tables in (created if
    missing; default: the connection's search path). Raises NotAJobStoreError for a file
    or schema that is something else."""
    return await JobStore.open(where, schema=schema)


@dataclass
class _Claimed:
    id: int
    #: An earlier attempt may have acted (its worker stopped with it in flight, or its
    #: answer was lost).
    maybe_sent: bool


@dataclass
class _Worker:
    """One ``work`` call's bookkeeping: the rows it holds, bounded by batch + concurrency."""

    owner: str
    held: dict[str, _Claimed] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    #: (outcome, message, maybe_sent, id) of results not yet written.
    unwritten: list[tuple[str, str, int, int]] = field(default_factory=list)
    outcomes: Counter[Outcome] = field(default_factory=Counter)


class JobStore:
    """Durable cleanup jobs. Open with :func:`open_store`; use as an async context manager
    or call :meth:`close`. One store object serves many concurrent coroutines."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._sql_now = backend.dialect.now

    @classmethod
    async def open(cls, where: str | os.PathLike[str], *, schema: str | None = None) -> Self:
        """See :func:`open_store`."""
        text = os.fspath(where)
        backend: SQLiteBackend | PostgresBackend
        if text.startswith(("postgresql://", "postgres://")):
            backend = PostgresBackend(text, schema=schema)
        else:
            if schema is not None:
                raise RequestValidationError("schema", "only a PostgreSQL store has schemas")
            backend = SQLiteBackend(Path(text))
        await backend.open()
        return cls(backend)

    async def close(self) -> None:
        await self._backend.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- jobs ------------------------------------------------------------------------------

    def _job(self, row: tuple[Any, ...]) -> Job:
        job_id, name, spec, account, created_at = row
        return Job(
            id=job_id,
            name=name,
            operation=decode_operation(spec),
            account=msgspec.json.decode(account, type=Account),
            created_at=datetime.fromtimestamp(created_at, UTC),
        )

    async def job(self, name: str) -> Job:
        """The job named ``name``; raises JobNotFoundError."""
        rows = await self._backend.read(
            Query(
                "SELECT id, name, spec, account, created_at FROM ozo_jobs WHERE name = ?", (name,)
            )
        )
        if not rows:
            raise JobNotFoundError(name)
        return self._job(rows[0])

    async def jobs(self) -> list[Job]:
        """Every job of the store, oldest first."""
        rows = await self._backend.read(
            Query("SELECT id, name, spec, account, created_at FROM ozo_jobs ORDER BY id")
        )
        return [self._job(row) for row in rows]

    async def _resolve(self, job: JobRef) -> Job:
        return await self.job(job) if isinstance(job, str) else job

    async def submit(
        self,
        operation: Operation,
        numbers: Iterable[str] | AsyncIterable[str],
        *,
        account: Account,
        name: str | None = None,
        batch: int = 5000,
    ) -> Job:
        """Create the job (or find it: same name, operation, target and account) and stream
        ``numbers`` into it, ``batch`` at a time; returns when the input is stored.

        The database drops numbers the job has already (client memory stays constant for any
        input size), so submitting the same input again adds nothing, and a submission that
        was interrupted is finished by submitting again. A number ``operation`` refuses is
        stored FINISHED/FAILED with the validation message, never sent. ``name`` defaults to
        the operation, its target and the account. Raises JobConflictError when ``name`` is
        taken by another operation, target or account."""
        batch = validation.positive_int(batch, "batch")
        if name is not None:
            name = validation.non_empty_text(name, "name")
        spec = encode_operation(operation)
        account_text = msgspec.json.encode(account).decode()
        name = name or f"{operation.describe()} @ {account.label}"
        _, found = await self._backend.run(
            [
                Query(
                    "INSERT INTO ozo_jobs (name, operation, spec, account, created_at) "
                    f"VALUES (?, ?, ?, ?, {self._sql_now}) ON CONFLICT (name) DO NOTHING",
                    (name, operation.kind, spec, account_text),
                ),
                Query(
                    "SELECT id, name, spec, account, created_at FROM ozo_jobs WHERE name = ?",
                    (name,),
                ),
            ]
        )
        job = self._job(found.rows[0])
        if job.operation != operation or job.account != account:
            raise JobConflictError(
                name,
                f"{job.operation.describe()} @ {job.account.label}",
                f"{operation.describe()} @ {account.label}",
            )
        lines = 0
        rows: list[tuple[Any, ...]] = []
        async for raw in iterate(numbers, "numbers"):
            lines += 1
            try:
                number = operation.normalise(raw)
            except RequestValidationError as error:
                rows.append(
                    (
                        job.id,
                        str(raw).strip(),
                        _FINISHED,
                        Outcome.FAILED.value,
                        error.problem,
                        1,
                        time.time(),
                    )
                )
            else:
                rows.append((job.id, number, _PENDING, None, "", 0, None))
            if len(rows) >= batch:
                await self._store_batch(job, rows, lines)
                rows = []
        await self._store_batch(job, rows, lines)
        await self._backend.run(
            [Query("UPDATE ozo_jobs SET submitted = 1 WHERE id = ?", (job.id,))]
        )
        return job

    async def _store_batch(self, job: Job, rows: list[tuple[Any, ...]], lines: int) -> None:
        # The lines read are stored with the numbers they brought: an interrupted submission
        # never counts lines whose numbers are missing.
        await self._backend.run(
            [
                InsertNew("ozo_numbers", _NUMBER_COLUMNS, rows),
                Query(
                    f"UPDATE ozo_jobs SET lines = {self._backend.dialect.greatest}(lines, ?) "
                    "WHERE id = ?",
                    (lines, job.id),
                ),
            ]
        )

    # -- reading ---------------------------------------------------------------------------

    async def status(self, job: JobRef) -> JobStatus:
        """Counts by state and outcome, duplicates, invalid lines, rate and ETA."""
        job = await self._resolve(job)
        counts = await self._backend.read(
            Query(
                "SELECT state, outcome, invalid, count(*), max(finished_at) FROM ozo_numbers "
                "WHERE job_id = ? GROUP BY state, outcome, invalid",
                (job.id,),
            )
        )
        recent = await self._backend.read(
            Query(
                f"SELECT count(*), min(finished_at), {self._sql_now} FROM ozo_numbers "
                "WHERE job_id = ? AND state = 'finished' AND invalid = 0 "
                f"AND finished_at >= {self._sql_now} - ?",
                (job.id, RATE_WINDOW),
            )
        )
        ((lines, submitted),) = await self._backend.read(
            Query("SELECT lines, submitted FROM ozo_jobs WHERE id = ?", (job.id,))
        )
        by_state: Counter[str] = Counter()
        outcomes: Counter[Outcome] = Counter()
        invalid = 0
        last: float | None = None
        for state, outcome, is_invalid, count, latest in counts:
            by_state[state] += count
            if outcome is not None:
                outcomes[Outcome(outcome)] += count
            if is_invalid:
                invalid += count
            if latest is not None and (last is None or latest > last):
                last = latest
        recent_count, first_recent, now = recent[0]
        rate = recent_count / max(now - first_recent, 1.0) if recent_count else 0.0
        remaining = by_state[_PENDING] + by_state[_IN_FLIGHT]
        total = sum(by_state.values())
        return JobStatus(
            job=job,
            total=total,
            pending=by_state[_PENDING],
            in_flight=by_state[_IN_FLIGHT],
            finished=by_state[_FINISHED],
            outcomes=dict(outcomes),
            lines=lines,
            duplicates=lines - total,
            invalid=invalid,
            submitted=bool(submitted),
            rate=rate,
            eta_seconds=remaining / rate if rate else (0.0 if remaining == 0 else None),
            last_finished_at=_utc(last),
        )

    async def results(self, job: JobRef, *, page: int = 1000) -> AsyncIterator[NumberRow]:
        """Every number of the job in input order, ``page`` rows read at a time (memory
        stays constant): the audit record."""
        job = await self._resolve(job)
        after = 0
        while True:
            rows = await self._backend.read(
                Query(
                    "SELECT id, number, state, outcome, message, attempts, invalid, finished_at "
                    "FROM ozo_numbers WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
                    (job.id, after, page),
                )
            )
            for row_id, number, state, outcome, message, attempts, invalid, finished in rows:
                after = row_id
                yield NumberRow(
                    number=number,
                    state=NumberState(state),
                    outcome=None if outcome is None else Outcome(outcome),
                    message=message,
                    attempts=attempts,
                    invalid=bool(invalid),
                    finished_at=_utc(finished),
                )
            if len(rows) < page:
                return

    # -- working ---------------------------------------------------------------------------

    async def work(
        self,
        job: JobRef,
        client: Any,
        *,
        batch: int = 100,
        lease: float = 60.0,
        concurrency: int = 8,
        retry_failed: bool = False,
        poll: float = 1.0,
    ) -> WorkReport:
        """Work ``job`` with ``client`` (a CloudAgentClient or ISalesClient for the job's
        account) until every number is finished; returns what this call finished.

        Claims ``batch`` pending numbers at a time under a lease of ``lease`` seconds
        (renewed every third of it while the worker lives), sends them through the SDK
        (``concurrency`` requests at once for one-number-per-request operations; the rate
        limit is the client's, shared through its coordination), and records each outcome
        as it comes. Numbers whose lease expired (their worker died) are taken over: only
        those are ever sent twice, and a NOT_FOUND on such a re-send is recorded DELETED
        (the earlier attempt most likely deleted it; the message says so). When no number
        is left to claim but other workers hold some, it waits (``poll`` seconds at most
        between looks) to take over theirs should they die.

        FAILED numbers stay FAILED; ``retry_failed=True`` sends them again (never the
        numbers refused as invalid). An error that dooms every later request (credentials,
        token budget, coordination store, server unreachable) stops the worker: the numbers
        it holds go back to pending and the error is raised. Cancelling the call does the
        same, promptly."""
        batch = validation.positive_int(batch, "batch")
        concurrency = validation.positive_int(concurrency, "concurrency")
        if not lease > 0 or not poll > 0:
            raise RequestValidationError("lease", "lease and poll must be positive seconds")
        job = await self._resolve(job)
        if not job.account.matches(client) or job.operation.vendor != job.account.vendor:
            raise AccountMismatchError(job.name, job.account.label, describe_client(client))
        worker = _Worker(owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
        if retry_failed:
            await self._backend.run(
                [
                    Query(
                        "UPDATE ozo_numbers SET state = 'pending', outcome = NULL, "
                        "finished_at = NULL WHERE job_id = ? AND state = 'finished' "
                        "AND outcome = 'failed' AND invalid = 0",
                        (job.id,),
                    )
                ]
            )
        housekeeping = asyncio.create_task(self._housekeep(job, worker, lease))
        try:
            # One SDK call per run of claimable numbers; between them, wait to take over the
            # numbers other workers hold should they die. The first batch is claimed before
            # the call starts, so a job with nothing left never hands the SDK an empty input.
            while first := await self._next_claim(job, worker, batch, lease, poll):
                claims = self._claims(job, worker, batch, lease, first)
                stream = job.operation.send(client, claims, concurrency=concurrency)
                async with aclosing(stream) as results:  # type: ignore[type-var]
                    async for result in results:
                        if housekeeping.done():
                            housekeeping.result()  # raises what stopped the lease renewal
                        self._note(worker, result)
                        if len(worker.unwritten) >= batch:
                            await self._write(worker)
                await self._write(worker)
        finally:
            housekeeping.cancel()
            # Its failure, if any, was raised above; the release below must still run.
            await asyncio.gather(housekeeping, return_exceptions=True)
            await self._write(worker)
            await self._release(job, worker)
        return WorkReport(finished=sum(worker.outcomes.values()), outcomes=dict(worker.outcomes))

    def _note(self, worker: _Worker, result: NumberResult) -> None:
        error = result.error
        if error is not None and dooms_later_requests(error):
            # Not the number's fault: it goes back to pending when the worker stops.
            worker.refused.add(result.number)
            return
        claimed = worker.held.pop(result.number)
        worker.started.discard(result.number)
        outcome, message = result.outcome, result.message
        if outcome is Outcome.NOT_FOUND and claimed.maybe_sent:
            outcome = Outcome.DELETED
            message = (
                "deleted by an earlier attempt that may have acted (its worker stopped with "
                f"it in flight, or its answer was lost); the re-send answered {message!r}"
            )
        lost = isinstance(error, OzoError) and error.answer_lost
        worker.unwritten.append(
            (outcome.value, message, int(lost or claimed.maybe_sent), claimed.id)
        )
        worker.outcomes[outcome] += 1

    async def _claims(
        self, job: Job, worker: _Worker, batch: int, lease: float, rows: list[tuple[Any, ...]]
    ) -> AsyncIterator[str]:
        """The numbers this worker claims, as the SDK reads them: a batch is claimed only
        when the previous one has been read. Ends as soon as nothing is claimable, so that a
        chunked call sends its last, partial chunk instead of waiting for more."""
        while rows:
            for row_id, number, maybe_sent in rows:
                worker.held[number] = _Claimed(row_id, bool(maybe_sent))
            for _, number, _ in rows:
                worker.started.add(number)
                yield number
            rows = await self._claim(job, worker, batch, lease)

    async def _next_claim(
        self, job: Job, worker: _Worker, batch: int, lease: float, poll: float
    ) -> list[tuple[Any, ...]]:
        """The next batch; while other workers hold the rest, waits to take theirs over
        should they die; empty when the job has nothing left."""
        while True:
            rows = await self._claim(job, worker, batch, lease)
            if rows:
                return rows
            wait = await self._wait_for_work(job)
            if wait is None:
                return []
            await asyncio.sleep(min(wait, poll))

    async def _claim(
        self, job: Job, worker: _Worker, batch: int, lease: float
    ) -> list[tuple[Any, ...]]:
        now, skip = self._sql_now, self._backend.dialect.skip_locked
        claim = (
            "UPDATE ozo_numbers SET state = 'in_flight', lease_owner = ?, "
            f"lease_until = {now} + ?, attempts = attempts + 1, "
            "maybe_sent = CASE WHEN state = 'in_flight' THEN 1 ELSE maybe_sent END "
            "WHERE id IN (SELECT id FROM ozo_numbers WHERE job_id = ? AND {which} "
            f"LIMIT ?{skip}) RETURNING id, number, maybe_sent"
        )
        # Leases of dead workers first, then fresh numbers: two statements, each an index
        # range, rather than one OR that would scan every pending number.
        (expired,) = await self._backend.run(
            [
                Query(
                    claim.format(which=f"state = 'in_flight' AND lease_until < {now}"),
                    (worker.owner, float(lease), job.id, batch),
                )
            ]
        )
        if expired.rows:
            log.info("job %r: took over %d numbers of a stopped worker", job.name, expired.count)
            return expired.rows
        (fresh,) = await self._backend.run(
            [
                Query(
                    claim.format(which="state = 'pending'"),
                    (worker.owner, float(lease), job.id, batch),
                )
            ]
        )
        return fresh.rows

    async def _wait_for_work(self, job: Job) -> float | None:
        """None when the job has nothing pending or in flight; else seconds until the
        earliest lease expires (0 when numbers are pending: another worker's claim skipped
        them)."""
        ((pending,),) = await self._backend.read(
            Query(
                "SELECT count(*) FROM (SELECT 1 FROM ozo_numbers WHERE job_id = ? "
                "AND state = 'pending' LIMIT 1) AS p",
                (job.id,),
            )
        )
        if pending:
            return 0.0
        ((earliest, now),) = await self._backend.read(
            Query(
                f"SELECT min(lease_until), {self._sql_now} FROM ozo_numbers "
                "WHERE job_id = ? AND state = 'in_flight'",
                (job.id,),
            )
        )
        if earliest is None:
            return None
        return float(max(earliest - now, 0.05))

    async def _housekeep(self, job: Job, worker: _Worker, lease: float) -> None:
        """Write finished outcomes a few times a second; renew this worker's leases."""
        renew_every = lease / 3
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(min(0.25, renew_every))
            await self._write(worker)
            if time.monotonic() - renewed >= renew_every:
                renewed = time.monotonic()
                await self._backend.run(
                    [
                        Query(
                            f"UPDATE ozo_numbers SET lease_until = {self._sql_now} + ? "
                            "WHERE job_id = ? AND state = 'in_flight' AND lease_owner = ?",
                            (float(lease), job.id, worker.owner),
                        )
                    ]
                )

    async def _write(self, worker: _Worker) -> None:
        if not worker.unwritten:
            return
        rows, worker.unwritten = worker.unwritten, []
        # The first outcome to arrive wins: a number a slow worker still finished after its
        # lease was taken over keeps the outcome of the request that acted.
        await self._backend.run(
            [
                Many(
                    "UPDATE ozo_numbers SET state = 'finished', outcome = ?, message = ?, "
                    f"maybe_sent = ?, finished_at = {self._sql_now}, lease_owner = NULL, "
                    "lease_until = NULL WHERE id = ? AND state = 'in_flight'",
                    rows,
                )
            ]
        )

    async def _release(self, job: Job, worker: _Worker) -> None:
        """Give back every number this worker holds: those it may have sent (read by the SDK,
        no answer yet) marked as possibly sent; the rest as they were."""
        release = (
            "UPDATE ozo_numbers SET state = 'pending', lease_owner = NULL, lease_until = NULL"
            "{extra} WHERE {which} AND lease_owner = ? AND state = 'in_flight'"
        )
        in_flight = worker.started - worker.refused
        statements: list[Statement] = [
            Many(
                release.format(extra=", maybe_sent = 1", which="id = ?"),
                [(worker.held[n].id, worker.owner) for n in in_flight if n in worker.held],
            ),
            Many(
                release.format(extra="", which="id = ?"),
                [(worker.held[n].id, worker.owner) for n in worker.refused],
            ),
            # Claimed but never read by the SDK (a claim that committed as the worker was
            # stopping included): never sent, so that attempt does not count.
            Query(
                release.format(extra=", attempts = attempts - 1", which="job_id = ?"),
                (job.id, worker.owner),
            ),
        ]
        await self._backend.run(statements)
        worker.held.clear()

