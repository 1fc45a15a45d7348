"""Jobs of the chunked operations (block numbers, iSales calling numbers): the store keeps
the per-number truth the SDK's chunk streams decide."""

from __future__ import annotations

from collections import Counter

import pytest

from ozoasync import CloudAgentClient, ISalesClient, Outcome, RetryPolicy
from ozoasync.jobs import (
    Account,
    AccountMismatchError,
    AddCallerNumbers,
    DeleteBlockNumbers,
    DeleteCallerNumbers,
    JobStore,
)
from ozoasync.testing import FakeCloudAgent, FakeISales


def numbers(count: int) -> list[str]:
    return [f"9{i:09d}" for i in range(count)]


async def test_block_number_job_records_each_number_of_each_chunk(store: JobStore) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_block_group(7, numbers(150))
        operation = DeleteBlockNumbers(group_id=7)
        account = Account.cloudagent(fake.username, fake.url)
        job = await store.submit(operation, [*numbers(180), "x1"], account=account)
        async with CloudAgentClient(fake.username, fake.api_key, base_url=fake.url) as ca:
            report = await store.work(job, ca, batch=60)
        assert report.outcomes == {Outcome.DELETED: 150, Outcome.NOT_FOUND: 30}
        assert fake.block_groups[7] == set()
        rows = [row async for row in store.results(job)]
        assert Counter(row.outcome for row in rows)[Outcome.FAILED] == 1  # the invalid one
        # Chunks of 100 span claimed batches: 180 numbers, two requests.
        assert len(fake.requests_to("deleteBlockNumberGroup")) == 2


async def test_caller_number_jobs_add_then_delete(store: JobStore) -> None:
    async with FakeISales() as fake:
        fake.add_campaign(1, 2, ["1000"])  # the vendor keeps at least one calling number
        account = Account.isales(fake.url, fake.app_key)
        assert fake.app_key not in account.label
        added = await store.submit(
            AddCallerNumbers(vdn_id=1, campaign_id=2, priority=3), numbers(120), account=account
        )
        removed = await store.submit(
            DeleteCallerNumbers(vdn_id=1, campaign_id=2), numbers(120), account=account
        )
        assert added.name != removed.name
        async with ISalesClient(
            fake.url, fake.app_key, fake.app_secret, retry=RetryPolicy(max_attempts=1)
        ) as isales:
            assert (await store.work(added, isales)).outcomes == {Outcome.ADDED: 120}
            assert fake.caller_numbers(1, 2) == {"1000", *numbers(120)}
            assert (await store.work(removed, isales)).outcomes == {Outcome.DELETED: 120}
        assert fake.caller_numbers(1, 2) == {"1000"}
        async with CloudAgentClient("demo", "KK", base_url=fake.url) as ca:
            with pytest.raises(AccountMismatchError):
                await store.work(added, ca)
