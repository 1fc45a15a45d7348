"""``--journal postgresql://…`` from the command line: two processes run the same command
with the same job name and work one job together, every number sent once; ``jobs status
--json`` and ``jobs export`` read the same PostgreSQL store back. Each test has a schema of
its own (the URL's ``search_path``), dropped after."""

from __future__ import annotations

import asyncio
import csv
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import msgspec
import pytest
from cli_helpers import RUN_TIMEOUT, Finished, clean_env, cloudagent_env, ozoasync, start

from ozoasync.jobs import open_store
from ozoasync.testing import FakeCloudAgent

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
PRESENT = [str(9_700_000_000 + i) for i in range(160)]
ABSENT = [str(9_800_000_000 + i) for i in range(40)]
JOB = "shared-erasure"


@pytest.fixture
async def journal() -> AsyncIterator[str]:
    """A job store URL whose tables live in a schema of this test's own."""
    try:
        connection = await asyncpg.connect(POSTGRES, timeout=2)
    except (OSError, asyncpg.PostgresError):
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    schema = f"ozo_cli_{uuid.uuid4().hex[:12]}"
    await connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES}?search_path={schema}"
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


async def finished(process: asyncio.subprocess.Process) -> Finished:
    stdout, stderr = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


async def test_two_processes_work_one_postgres_job_and_the_store_reads_back(
    tmp_path: Path, journal: str
) -> None:
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join([*PRESENT, *ABSENT, PRESENT[0]]) + "\n")
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", PRESENT)
        processes = [
            await start(
                "campaign-data",
                "delete",
                "--campaign",
                "spring",
                "--journal",
                journal,
                "--job",
                JOB,
                "--rate-limit",
                "150/1",
                "--report",
                str(tmp_path / f"r{i}.json"),
                str(source),
                env=cloudagent_env(fake),
            )
            for i in range(2)
        ]
        runs = [await finished(process) for process in processes]
        sent = Counter(
            msgspec.json.decode(r.body)["phoneNumber"]
            for r in fake.requests_to("deleteCampaignData")
        )
        left = fake.campaigns["spring"]

    for run in runs:
        assert run.code == 0, run.stderr
        assert "Traceback" not in run.stderr
    assert sent == Counter(PRESENT + ABSENT)  # every number sent once, by one of the two
    assert left == set()
    for i in range(2):  # each report is the store's record of the whole job
        rows = json.loads((tmp_path / f"r{i}.json").read_text())["results"]
        outcomes = Counter(r["outcome"] for r in rows)
        assert outcomes == {"deleted": 160, "not_found": 40}

    env = clean_env()
    status = await ozoasync("jobs", "status", JOB, "--journal", journal, "--json", env=env)
    exported = await ozoasync(
        "jobs", "export", JOB, "--journal", journal, "--report", str(tmp_path / "audit.csv"),
        env=env,
    )  # fmt: skip
    listed = await ozoasync("jobs", "list", "--journal", journal, env=env)

    async with await open_store(journal) as store:
        truth = await store.status(JOB)
        rows = [row async for row in store.results(JOB)]
    assert status.code == 0, status.stderr
    counted = json.loads(status.stdout)
    assert counted["outcomes"] == {o.value: n for o, n in truth.outcomes.items()}
    assert counted["outcomes"] == {"deleted": 160, "not_found": 40}
    assert (counted["total"], counted["lines"], counted["duplicates"]) == (200, 201, 1)
    assert (counted["pending"], counted["in_flight"], counted["finished"]) == (0, 0, 200)
    assert exported.code == 0, exported.stderr
    with (tmp_path / "audit.csv").open(newline="") as file:
        audit = list(csv.DictReader(file))
    assert [(r["number"], r["outcome"], int(r["attempts"])) for r in audit] == [
        (row.number, row.outcome.value if row.outcome else "", row.attempts) for row in rows
    ]
    assert all(int(r["attempts"]) == 1 for r in audit)
    assert [r["finished_at"] for r in audit] == [
        row.finished_at.isoformat(timespec="milliseconds") if row.finished_at else ""
        for row in rows
    ]
    assert listed.code == 0, listed.stderr
    assert JOB in listed.stdout
