"""The job store on real SQLite files and a real PostgreSQL schema (each test its own),
worked against the emulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import sqlite3
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest

from ozoasync import (
    AuthenticationError,
    CloudAgentClient,
    Outcome,
    RequestValidationError,
    RetryPolicy,
)
from ozoasync.jobs import (
    Account,
    AccountMismatchError,
    DeleteBlockNumbers,
    DeleteCampaignData,
    JobConflictError,
    JobNotFoundError,
    JobStore,
    NotAJobStoreError,
    NumberState,
    open_store,
)
from ozoasync.testing import FakeCloudAgent, Fault

SPRING = DeleteCampaignData(campaign="spring")


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"9{i:09d}" for i in range(start, start + count)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeCloudAgent]:
    async with FakeCloudAgent() as server:
        yield server


def client_for(
    fake: FakeCloudAgent, *, api_key: str | None = None, limited: bool = False
) -> CloudAgentClient:
    return CloudAgentClient(
        fake.username,
        api_key or fake.api_key,
        base_url=fake.url,
        retry=RetryPolicy(max_attempts=1),
        timeout=2.0,
        rate_limits=None if limited else {"deleteCampaignData": None},
    )


def account(fake: FakeCloudAgent) -> Account:
    return Account.cloudagent(fake.username, fake.url)


async def test_submit_drops_duplicates_records_invalid_and_is_idempotent(
    store: JobStore, fake: FakeCloudAgent
) -> None:
    given = [*numbers(10), *numbers(4), " 9000000001 ", "not-a-number", "", "not-a-number"]
    job = await store.submit(SPRING, given, account=account(fake), batch=3)
    first = await store.status(job)
    assert (first.total, first.lines, first.duplicates, first.invalid) == (12, 18, 6, 2)
    assert (first.pending, first.finished, first.outcomes) == (10, 2, {Outcome.FAILED: 2})
    assert first.submitted
    assert not first.done
    again = await store.submit(SPRING, given, account=account(fake))
    assert again == job
    assert await store.status(job) == msgspec.structs.replace(first, rate=first.rate)
    invalid = [row async for row in store.results(job) if row.invalid]
    assert [(row.number, row.outcome, row.attempts) for row in invalid] == [
        ("not-a-number", Outcome.FAILED, 0),
        ("", Outcome.FAILED, 0),
    ]
    assert "not a phone number" in invalid[0].message
    assert invalid[0].finished_at is not None


async def test_an_interrupted_submission_is_finished_by_submitting_again(
    store: JobStore, fake: FakeCloudAgent
) -> None:
    def broken() -> Iterator[str]:
        yield from numbers(25)
        raise OSError("the input pipe broke")

    with pytest.raises(OSError, match="pipe broke"):
        await store.submit(SPRING, broken(), account=account(fake), batch=10)
    job = await store.job(f"campaign-data.delete spring @ {account(fake).label}")
    partial = await store.status(job)
    assert not partial.submitted
    assert partial.total == partial.lines == 20  # two whole batches, nothing counted twice
    await store.submit(SPRING, numbers(40), account=account(fake), batch=10)
    status = await store.status(job)
    assert (status.total, status.lines, status.duplicates, status.submitted) == (40, 40, 0, True)


async def test_a_job_name_is_refused_for_another_target_or_account(
    store: JobStore, fake: FakeCloudAgent
) -> None:
    await store.submit(SPRING, numbers(1), account=account(fake), name="erasure-42")
    with pytest.raises(JobConflictError, match="erasure-42"):
        await store.submit(
            DeleteCampaignData(campaign="autumn"),
            numbers(1),
            account=account(fake),
            name="erasure-42",
        )
    with pytest.raises(JobConflictError):
        await store.submit(
            DeleteBlockNumbers(group_id=7), numbers(1), account=account(fake), name="erasure-42"
        )
    with pytest.raises(JobConflictError):
        await store.submit(
            SPRING, numbers(1), account=Account.cloudagent("other", fake.url), name="erasure-42"
        )
    assert [job.name for job in await store.jobs()] == ["erasure-42"]
    with pytest.raises(JobNotFoundError):
        await store.job("erasure-43")


@pytest.mark.parametrize(
    "content", [b'{"number": "9000000001", "outcome": "deleted"}\n', b"\x00" * 4096]
)
async def test_a_file_that_is_not_a_store_is_refused_and_left_alone(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(content)
    with pytest.raises(NotAJobStoreError, match="not an ozoasync job store"):
        await open_store(path)
    assert path.read_bytes() == content


async def test_a_sqlite_database_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    connection.close()
    with pytest.raises(NotAJobStoreError, match="users"):
        await open_store(path)
    with sqlite3.connect(path) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
    connection.close()
    assert tables == [("users",)]


async def test_work_records_every_outcome_and_results_stream_in_input_order(
    store: JobStore, fake: FakeCloudAgent
) -> None:
    fake.add_campaign("spring", numbers(30))
    given = numbers(40)
    job = await store.submit(SPRING, given, account=account(fake))
    async with client_for(fake) as ca:
        report = await store.work(job, ca, batch=7, concurrency=4)
    assert report.outcomes == {Outcome.DELETED: 30, Outcome.NOT_FOUND: 10}
    status = await store.status(job)
    assert status.done
    assert status.finished == 40
    assert status.eta_seconds == 0.0
    assert status.rate > 0
    assert status.last_finished_at is not None
    rows = [row async for row in store.results(job, page=6)]
    assert [row.number for row in rows] == given
    assert {row.state for row in rows} == {NumberState.FINISHED}
    assert all(row.attempts == 1 and row.finished_at is not None for row in rows)
    assert rows[35].outcome is Outcome.NOT_FOUND
    assert rows[35].message == "No Record Found"
    sent = Counter(r.json()["phoneNumber"] for r in fake.requests_to("deleteCampaignData"))
    assert sent == Counter(given)
    async with client_for(fake) as ca:
        assert (await store.work(job, ca)).finished == 0  # nothing is sent twice
    assert len(fake.requests_to("deleteCampaignData")) == 40


async def test_a_dooming_error_stops_the_worker_and_returns_its_numbers(
    store: JobStore, fake: FakeCloudAgent
) -> None:
    fake.add_campaign("spring", numbers(50))
    job = await store.submit(SPRING, numbers(50), account=account(fake))
    async with client_for(fake, api_key="KK-wrong") as ca:
        with pytest.raises(AuthenticationError):
            await store.work(job, ca, batch=10, concurrency=2)
    status = await store.status(job)
    assert (status.pending, status.in_flight, status.finished) == (50, 0, 0)
    refused = len(fake.requests_to("deleteCampaignData"))
    assert 1 <= refused <= 3  # the requests in flight when the first refusal came back
    attempts = Counter([row.attempts async for row in store.results(job)])
    assert attempts == {0: 50 - refused, 1: refused}  # claimed but unsent counts no attempt
    async with client_for(fake) as ca:
        await store.work(job, ca, batch=10, concurrency=2)
    assert (await store.status(job)).outcomes == {Outcome.DELETED: 50}


async def test_a_cancelled_worker_gives_its_numbers_back_at_once(
    store: JobStore, fake: FakeCloudAgent
) -> None:
    fake.add_campaign("spring", numbers(20))
    job = await store.submit(SPRING, numbers(20), account=account(fake))
    async with client_for(fake, limited=True) as ca:  # the vendor's 100 per minute
        worker = asyncio.create_task(store.work(job, ca, batch=10, concurrency=2, lease=600))
        while (await store.status(job)).finished < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        worker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await worker
    status = await store.status(job)
    assert status.in_flight == 0
    assert status.pending == 20 - status.finished
    async with client_for(fake) as ca:
        await store.work(job, ca, batch=10)
    assert (await store.status(job)).outcomes == {Outcome.DELETED: 20}
    sent = Counter(r.json()["phoneNumber"] for r in fake.requests_to("deleteCampaignData"))
    assert set(sent) == set(numbers(20))
    assert max(sent.values()) <= 2


async def test_failed_numbers_are_sent_again_only_on_request_and_lost_answers_count(
    store: JobStore, fake: FakeCloudAgent
) -> None:
    fake.add_campaign("spring", numbers(6))
    job = await store.submit(SPRING, [*numbers(6), "bad"], account=account(fake))
    fake.faults.queue(Fault.SERVER_ERROR, 1)  # not acted on
    fake.faults.queue(Fault.DROP_AFTER, 1)  # deleted, but the answer was lost
    async with client_for(fake) as ca:
        first = await store.work(job, ca, concurrency=1)
        assert first.outcomes == {Outcome.FAILED: 2, Outcome.DELETED: 4}
        assert (await store.work(job, ca)).finished == 0
        again = await store.work(job, ca, retry_failed=True)
    assert again.finished == 2  # never the invalid one
    rows = {row.number: row async for row in store.results(job)}
    retried = [row for row in rows.values() if row.attempts == 2]
    assert len(retried) == 2
    assert {row.outcome for row in retried} == {Outcome.DELETED}
    assert any("earlier attempt" in row.message for row in retried)
    assert rows["bad"].attempts == 0
    assert rows["bad"].outcome is Outcome.FAILED
    assert fake.campaigns["spring"] == set()


async def test_bad_arguments_are_refused_before_anything_is_stored(
    store: JobStore, fake: FakeCloudAgent
) -> None:
    with pytest.raises(RequestValidationError, match="batch"):
        await store.submit(SPRING, numbers(3), account=account(fake), batch=0)
    with pytest.raises(RequestValidationError, match="name"):
        await store.submit(SPRING, numbers(3), account=account(fake), name=" ")
    assert await store.jobs() == []
    job = await store.submit(SPRING, numbers(3), account=account(fake))
    async with client_for(fake) as ca:
        with pytest.raises(RequestValidationError, match="concurrency"):
            await store.work(job, ca, concurrency=0)
        with pytest.raises(RequestValidationError, match="lease"):
            await store.work(job, ca, lease=0)
    assert fake.requests == []


async def test_work_refuses_a_client_of_another_account(
    store: JobStore, fake: FakeCloudAgent
) -> None:
    job = await store.submit(SPRING, numbers(3), account=Account.cloudagent("acme", fake.url))
    async with client_for(fake) as ca:
        with pytest.raises(AccountMismatchError, match="acme"):
            await store.work(job.name, ca)
    assert fake.requests == []


async def test_submit_and_results_memory_does_not_grow_with_the_input(store: JobStore) -> None:
    async def peak(count: int, name: str) -> int:
        tracemalloc.start()
        try:
            lazy = (f"9{i:09d}" for i in range(count))
            job = await store.submit(
                SPRING, lazy, account=Account.cloudagent("acme", "http://x"), name=name
            )
            async for _ in store.results(job):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small = await peak(10_000, "small")
    large = await peak(50_000, "large")
    assert large < small * 1.5
