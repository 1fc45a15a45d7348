"""Three worker processes work one job against one emulator, their rate limit shared
through Redis (time-scaled: 50 requests per 0.25 s), and one of them is killed
with SIGKILL mid-run: every number is finished exactly once, only the numbers the killed
worker held are sent again, and the emulator never sees more than the shared limit."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
import redis.asyncio
from job_helpers import StoreAddress

from ozoasync import Outcome
from ozoasync.jobs import Account, DeleteCampaignData, JobStore
from ozoasync.testing import FakeCloudAgent
from ozoasync.testing.readings import max_in_window

WORKER = Path(__file__).with_name("job_worker.py")
# 2,000 keeps the suite fast on two cores; OZO_TEST_JOB_NUMBERS=20000 is the full-size run.
NUMBERS = int(os.environ.get("OZO_TEST_JOB_NUMBERS", "2000"))
MAX_REQUESTS, PERIOD = 50, 0.25
BATCH, CONCURRENCY, LEASE = 50, 8, 2.0

pytestmark = pytest.mark.redis


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    name = f"ozoasync-test-jobs-{uuid.uuid4().hex}"
    client = redis.asyncio.Redis(host="127.0.0.1", port=6379)
    try:
        await client.ping()
    except OSError:
        pytest.skip("no redis-server on 127.0.0.1:6379")
    yield name
    keys = [key async for key in client.scan_iter(match=f"{name}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_three_workers_one_killed_finish_every_number_once(
    address: StoreAddress, store: JobStore, prefix: str
) -> None:
    numbers = [f"9{i:09d}" for i in range(NUMBERS)]
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", numbers)
        account = Account.cloudagent(fake.username, fake.url)
        job = await store.submit(DeleteCampaignData(campaign="spring"), numbers, account=account)
        config = {
            "store": address.where,
            "schema": address.schema,
            "job": job.name,
            "url": fake.url,
            "username": fake.username,
            "api_key": fake.api_key,
            "prefix": prefix,
            "max_requests": MAX_REQUESTS,
            "period": PERIOD,
            "batch": BATCH,
            "lease": LEASE,
            "concurrency": CONCURRENCY,
        }
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(WORKER),
                json.dumps(config),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(3)
        ]
        while (await store.status(job)).finished < NUMBERS * 0.3:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        workers[0].send_signal(signal.SIGKILL)
        await workers[0].wait()
        # What the dead worker held, read before its leases (renewed to LEASE seconds every
        # LEASE / 3) expire and the survivors take them over.
        held = await address.held_by_process(workers[0].pid)
        outputs = await asyncio.gather(
            *(
                asyncio.wait_for(worker.communicate(), 60 + 3 * NUMBERS * PERIOD / MAX_REQUESTS)
                for worker in workers
            )
        )
        assert workers[0].returncode == -signal.SIGKILL
        for worker, (_, errors) in zip(workers[1:], outputs[1:], strict=True):
            assert worker.returncode == 0, errors.decode()
        reports = [json.loads(out) for out, _ in outputs[1:]]

        status = await store.status(job)
        assert status.done
        assert status.outcomes == {Outcome.DELETED: NUMBERS}
        assert fake.campaigns["spring"] == set()
        rows = {row.number: row async for row in store.results(job)}
        sent = Counter(
            request.json()["phoneNumber"]
            for request in fake.requests_to("deleteCampaignData")
            if not request.rejected
        )
        assert set(sent) == set(numbers)
        resent = {number for number, count in sent.items() if count > 1}
        # The dead worker held at most: the batch it had claimed but not yet handed to the
        # SDK, the requests it had in flight, and outcomes not yet written (written a few
        # times a second, and whenever a batch's worth is waiting).
        assert 0 < len(held) <= 2 * BATCH + CONCURRENCY
        # Only what it held went out twice, and only what it held was taken over: each such
        # number counts the dead worker's attempt and the survivor's.
        assert all(count <= 2 for count in sent.values())
        assert resent <= held
        took_over = {number for number, row in rows.items() if row.attempts > 1}
        assert took_over == held
        assert all(rows[number].attempts == 2 for number in held)
        # The survivors finished everything the killed worker did not write.
        assert sum(report["finished"] for report in reports) <= NUMBERS
        arrivals = sorted(r.arrived for r in fake.requests_to("deleteCampaignData"))
        assert max_in_window(arrivals, PERIOD) <= MAX_REQUESTS
        assert msgspec.json.encode(status)  # the status is JSON-encodable as a whole
