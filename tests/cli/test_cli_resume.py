"""Runs on a job store (``--journal``): a run killed with SIGKILL mid-way resumes without
re-sending what it finished; three processes with the same store and job name work one job
together; a file that is not a job store is refused untouched."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path

from cli_helpers import cloudagent_env, counts, ozoasync, start

from ozoasync.jobs import open_store
from ozoasync.testing import FakeCloudAgent

CAMPAIGN = "spring"
JOB = "spring-optouts"


async def finished_in_store(path: Path) -> set[str]:
    if not path.exists():  # noqa: ASYNC240 - a stat, and opening would create the store
        return set()
    async with await open_store(str(path)) as store:
        try:
            return {row.number async for row in store.results(JOB) if row.outcome is not None}
        except LookupError:  # not submitted yet
            return set()


async def finished_reach(path: Path, count: int) -> None:
    # Another process writes the store: there is nothing to wait on but its content.
    while len(await finished_in_store(path)) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


def sent(fake: FakeCloudAgent, start: int = 0) -> Counter[str]:
    requests = fake.requests[start:]
    return Counter(r.json()["phoneNumber"] for r in requests if r.endpoint == "deleteCampaignData")


# Short, so the resumed run need not wait the default minute for the killed run's claims.
LEASE = 3.0


def command(store: Path, source: Path, rate: str) -> tuple[str, ...]:
    return ("campaign-data", "delete", "--campaign", CAMPAIGN, "--journal", str(store),
            "--job", JOB, "--rate-limit", rate, "--lease", str(LEASE), str(source))  # fmt: skip


async def test_a_killed_run_resumes_without_resending_what_it_finished(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    listed = [str(9_600_000_000 + i) for i in range(150)]
    fake.add_campaign(CAMPAIGN, listed[:130])  # 20 are already gone
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(listed) + "\n")
    store = tmp_path / "jobs.db"
    env = cloudagent_env(fake)

    # 20 requests per second: 150 numbers take 7.5 s; the kill comes after about 30.
    process = await start(*command(store, source, "20/1"), env=env)
    await asyncio.wait_for(finished_reach(store, 30), timeout=30)
    os.kill(process.pid, signal.SIGKILL)
    await process.wait()

    assert process.returncode == -signal.SIGKILL
    finished = await finished_in_store(store)
    assert 30 <= len(finished) < len(listed)
    sent_before_kill = len(fake.requests)

    # The dead worker's numbers in flight come back when its lease (LEASE s) expires; those
    # are the only ones a resumed run may send twice.
    resumed = await ozoasync(*command(store, source, "1000/1"), env=env)

    assert resumed.code == 0, resumed.stderr
    assert not set(sent(fake, sent_before_kill)) & finished  # none of them was sent again
    assert all(sent(fake)[number] == 1 for number in finished)
    assert counts(resumed.stdout)["total"] == "150"
    assert fake.campaigns[CAMPAIGN] == set()
    assert await finished_in_store(store) == set(listed)


async def test_three_processes_on_one_store_work_one_job(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    listed = [str(9_600_000_000 + i) for i in range(120)]
    fake.add_campaign(CAMPAIGN, listed)
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(listed) + "\n")
    store = tmp_path / "jobs.db"

    runs = await asyncio.gather(
        *(ozoasync(*command(store, source, "1000/1"), env=cloudagent_env(fake)) for _ in range(3))
    )

    assert [run.code for run in runs] == [0, 0, 0], [run.stderr for run in runs]
    assert fake.campaigns[CAMPAIGN] == set()
    assert set(sent(fake).values()) == {1}  # every number sent once, by one of them
    assert len(sent(fake)) == len(listed)


async def test_a_file_that_is_not_a_job_store_is_refused_untouched(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    fake.add_campaign(CAMPAIGN, ["9600000000"])
    source = tmp_path / "numbers.txt"
    source.write_text("9600000000\n")
    old_journal = tmp_path / "spring.jsonl"
    old_journal.write_text('{"op":"campaign-data delete"}')  # one line, no newline

    result = await ozoasync(*command(old_journal, source, "1000/1"), env=cloudagent_env(fake))

    assert result.code == 2
    assert "is not an ozoasync job store" in result.stderr
    assert old_journal.read_text() == '{"op":"campaign-data delete"}'
    assert fake.requests == []
