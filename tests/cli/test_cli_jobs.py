"""``ozoasync jobs list | status | export`` over a real SQLite job store worked through the
SDK against the emulator: what the commands print matches the store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from cli_helpers import clean_env, ozoasync

from ozoasync import CloudAgentClient
from ozoasync.jobs import Account, DeleteCampaignData, JobStore, open_store
from ozoasync.testing import FakeCloudAgent

CAMPAIGN = "spring"


async def worked_store(path: Path, ca: CloudAgentClient, fake: FakeCloudAgent) -> str:
    present = [str(9_700_000_000 + i) for i in range(20)]
    fake.add_campaign(CAMPAIGN, present)
    lines = [*present, str(9_800_000_000), present[0], "=cmd()"]  # gone, repeat, invalid
    async with await open_store(str(path)) as store:
        job = await store.submit(
            DeleteCampaignData(campaign=CAMPAIGN), lines, account=Account.of(ca), name="spring"
        )
        await store.work(job, ca)
    return job.name


async def rows_of(path: Path, name: str) -> list[dict[str, object]]:
    store: JobStore
    async with await open_store(str(path)) as store:
        return [
            {
                "number": row.number,
                "outcome": row.outcome.value if row.outcome else row.state.value,
                "message": row.message,
                "attempts": row.attempts,
                "finished_at": row.finished_at.isoformat(timespec="milliseconds")
                if row.finished_at
                else "",
            }
            async for row in store.results(name)
        ]


async def test_list_status_and_export_match_the_store(
    fake: FakeCloudAgent, ca: CloudAgentClient, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.db"
    name = await worked_store(path, ca, fake)
    env = clean_env()

    listed = await ozoasync("jobs", "list", "--journal", str(path), env=env)
    status = await ozoasync("jobs", "status", name, "--journal", str(path), "--json", env=env)
    csv_export = await ozoasync(
        "jobs", "export", name, "--journal", str(path), "--report", str(tmp_path / "a.csv"),
        env=env,
    )  # fmt: skip
    json_export = await ozoasync(
        "jobs", "export", name, "--journal", str(path), "--report", str(tmp_path / "a.json"),
        env=env,
    )  # fmt: skip

    assert listed.code == 0, listed.stderr
    assert "spring" in listed.stdout
    assert "campaign-data.delete spring" in listed.stdout
    assert status.code == 0, status.stderr
    counted = json.loads(status.stdout)
    assert counted["outcomes"] == {"deleted": 20, "not_found": 1, "failed": 1}
    assert (counted["lines"], counted["duplicates"], counted["invalid"]) == (23, 1, 1)
    assert counted["pending"] == 0
    assert counted["submitted"] is True
    expected = await rows_of(path, name)
    assert len(expected) == 22
    assert csv_export.code == 0, csv_export.stderr
    assert json_export.code == 0, json_export.stderr
    with (tmp_path / "a.csv").open(newline="") as file:
        exported = list(csv.DictReader(file))
    assert [r["number"] for r in exported] == [
        f"'{r['number']}" if str(r["number"]).startswith("=") else r["number"] for r in expected
    ]  # the invalid "=cmd()" neutralised
    assert [r["finished_at"] for r in exported] == [r["finished_at"] for r in expected]
    assert all(r["finished_at"].endswith("+00:00") for r in exported)  # UTC
    assert json.loads((tmp_path / "a.json").read_text())["results"] == expected


async def test_an_unknown_job_or_store_is_one_line_exit_2(
    fake: FakeCloudAgent, ca: CloudAgentClient, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.db"
    await worked_store(path, ca, fake)
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("hello\n")

    unknown = await ozoasync("jobs", "status", "nope", "--journal", str(path), env=clean_env())
    missing = await ozoasync("jobs", "list", "--journal", str(tmp_path / "x.db"), env=clean_env())
    foreign = await ozoasync("jobs", "list", "--journal", str(not_a_store), env=clean_env())

    assert (unknown.code, missing.code, foreign.code) == (2, 2, 2)
    assert "no job named 'nope'" in unknown.stderr
    assert "no such job store" in missing.stderr
    assert "is not an ozoasync job store" in foreign.stderr
    assert not_a_store.read_text() == "hello\n"  # untouched
    assert not (tmp_path / "x.db").exists()  # reading never creates a store
