"""``ozoasync forget``: numbers gone from every campaign given and from scheduled data, with
one report line per number and place."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import cloudagent_env, ozoasync

from ozoasync.testing import FakeCloudAgent

PERSON, OTHER, NEVER = "9811112222", "9811113333", "9811114444"


async def seeded(fake: FakeCloudAgent) -> None:
    fake.add_campaign("spring", [PERSON, OTHER])
    fake.add_campaign("summer", [PERSON])
    fake.add_campaign("autumn", [PERSON])  # not named: kept
    fake.add_scheduled_rows([7, 8], phone_number=PERSON, campaign="spring")
    fake.add_scheduled_rows([9], phone_number=OTHER, campaign="spring")


async def forget_run(
    fake: FakeCloudAgent, tmp_path: Path, *extra: str
) -> tuple[int, list[dict[str, object]]]:
    source = tmp_path / "erase.txt"
    source.write_text(f"# erasure requests\n(98111) 12222\n{NEVER}\n")
    report = tmp_path / "erased.json"
    result = await ozoasync(
        "forget", "--campaigns", "spring,summer", "--scheduled", "--report", str(report),
        *extra, str(source), env=cloudagent_env(fake),
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    return result.code, json.loads(report.read_text())["results"]


async def test_forget_through_delete_bulk_data(tmp_path: Path) -> None:
    async with FakeCloudAgent(rate_limits={"DeleteBulkData": (100, 1.0)}) as fake:
        await seeded(fake)
        code, rows = await forget_run(fake, tmp_path, "--rate-limit", "100/1")
        bulk_requests = len(fake.requests_to("DeleteBulkData"))
        campaigns, scheduled = fake.campaigns, fake.scheduled_rows

    assert code == 0
    assert bulk_requests == 1  # 2 numbers x 2 campaigns in one request
    assert campaigns == {"spring": {OTHER}, "summer": set(), "autumn": {PERSON}}
    assert scheduled == {9}
    assert {(r["number"], r["place"], r["outcome"]) for r in rows} == {
        # The server counted 2 deletions for 2 x 2 pairs: as the SDK decides, each pair
        # was deleted or already gone.
        (PERSON, "campaign=spring", "partly_confirmed"),
        (PERSON, "campaign=summer", "partly_confirmed"),
        (PERSON, "scheduled", "deleted"),
        (NEVER, "campaign=spring", "partly_confirmed"),
        (NEVER, "campaign=summer", "partly_confirmed"),
        (NEVER, "scheduled", "not_found"),
    }


async def test_forget_per_number(fake: FakeCloudAgent, tmp_path: Path) -> None:
    await seeded(fake)
    code, rows = await forget_run(fake, tmp_path, "--per-number", "--rate-limit", "1000/1")

    assert code == 0
    assert fake.requests_to("DeleteBulkData") == []
    assert len(fake.requests_to("deleteCampaignData")) == 4  # 2 numbers x 2 campaigns
    assert fake.campaigns == {"spring": {OTHER}, "summer": set(), "autumn": {PERSON}}
    assert fake.scheduled_rows == {9}
    assert len(rows) == 6  # one line per number and place
    by_place = {(r["number"], r["place"]): r["outcome"] for r in rows}
    assert by_place[(NEVER, "scheduled")] == "not_found"
    assert by_place[(NEVER, "campaign=spring")] == "not_found"
