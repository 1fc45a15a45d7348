"""``ozoasync forget --journal``: one job per place in a real SQLite job store, resumed
without re-sending what finished; and the fallback to deleteCampaignData when the account
does not offer DeleteBulkData (the emulator refuses it)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
from cli_helpers import cloudagent_env, ozoasync

from ozoasync.jobs import open_store
from ozoasync.testing import FakeCloudAgent

PERSON, OTHER, NEVER, LATER = "9811112222", "9811113333", "9811114444", "9811115555"
FAST = ("--rate-limit", "1000/1")


def seeded(fake: FakeCloudAgent) -> None:
    fake.add_campaign("spring", [PERSON, OTHER, LATER])
    fake.add_campaign("summer", [PERSON, LATER])
    fake.add_campaign("autumn", [PERSON])  # not named: kept
    fake.add_scheduled_rows([7, 8], phone_number=PERSON, campaign="spring")
    fake.add_scheduled_rows([9], phone_number=OTHER, campaign="spring")
    fake.add_scheduled_rows([10], phone_number=LATER, campaign="summer")


async def forget(
    fake: FakeCloudAgent, tmp_path: Path, lines: str, *extra: str
) -> tuple[int, str, list[dict[str, object]]]:
    source = tmp_path / "erase.txt"
    source.write_text(lines)
    report = tmp_path / "erased.json"
    result = await ozoasync(
        "forget", "--campaigns", "spring,summer", "--scheduled", "--journal",
        str(tmp_path / "erasure.db"), "--report", str(report), *extra, str(source),
        env=cloudagent_env(fake),
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    return result.code, result.stderr, json.loads(report.read_text())["results"]


def sent_numbers(fake: FakeCloudAgent, endpoint: str) -> list[str]:
    numbers: list[str] = []
    for request in fake.requests_to(endpoint):
        body = msgspec.json.decode(request.body)
        numbers += (
            body.get("phoneNumber") if endpoint == "DeleteBulkData" else [body["phoneNumber"]]
        )
    return numbers


async def test_forget_is_a_job_per_place_and_resumes_without_resending(tmp_path: Path) -> None:
    async with FakeCloudAgent(rate_limits={"DeleteBulkData": (100, 1.0)}) as fake:
        seeded(fake)
        code, _, rows = await forget(
            fake, tmp_path, f"# erasures\n(98111) 12222\n{NEVER}\n{PERSON}\nbad\n", *FAST
        )
        first_bulk = sent_numbers(fake, "DeleteBulkData")
        listings = len(fake.requests_to("getScheduledData"))
        # The same job again, one more number: only that one is sent.
        again, _, rows_again = await forget(
            fake, tmp_path, f"{PERSON}\n{NEVER}\n{LATER}\n", "--rate-limit", "1000/1"
        )
        second_bulk = sent_numbers(fake, "DeleteBulkData")[len(first_bulk) :]
        campaigns, scheduled = fake.campaigns, fake.scheduled_rows

    assert code == 1  # the invalid line
    assert sorted(first_bulk) == [PERSON, NEVER]
    assert listings == 1
    places = {(r["number"], r.get("place", ""), r["outcome"]) for r in rows}
    assert places == {
        (PERSON, "campaign=spring", "partly_confirmed"),
        (PERSON, "campaign=summer", "partly_confirmed"),
        (PERSON, "scheduled", "deleted"),
        (NEVER, "campaign=spring", "partly_confirmed"),
        (NEVER, "campaign=summer", "partly_confirmed"),
        (NEVER, "scheduled", "not_found"),
        ("bad", "", "invalid"),  # one line, not one per place
    }
    scheduled_rows = {r["number"]: r["message"] for r in rows if r.get("place") == "scheduled"}
    assert str(scheduled_rows[PERSON]).startswith("rows 7,8")

    assert again == 1  # the job still holds the invalid line
    assert second_bulk == [LATER]  # finished numbers are not sent again
    assert campaigns == {"spring": {OTHER}, "summer": set(), "autumn": {PERSON}}
    assert scheduled == {9}
    numbers = {r["number"] for r in rows_again}
    assert numbers == {PERSON, NEVER, LATER, "bad"}  # the jobs' record: every number
    assert len(rows_again) == 3 * 3 + 1

    async with await open_store(str(tmp_path / "erasure.db")) as store:
        names = [job.name for job in await store.jobs()]
    assert names == ["forget campaigns=spring,summer", "forget scheduled"]


async def test_forget_falls_back_to_delete_campaign_data(tmp_path: Path) -> None:
    async with FakeCloudAgent(bulk_data_refusal="not_enabled") as fake:
        seeded(fake)
        code, stderr, rows = await forget(fake, tmp_path, f"{PERSON}\n{NEVER}\n", *FAST)
        bulk_tries = len(fake.requests_to("DeleteBulkData"))
        per_number = sorted(sent_numbers(fake, "deleteCampaignData"))
        # A re-run goes straight to the per-number jobs, which have nothing left.
        rerun, _, rows_again = await forget(fake, tmp_path, f"{PERSON}\n{NEVER}\n", *FAST)
        bulk_tries_again = len(fake.requests_to("DeleteBulkData"))
        per_number_again = len(fake.requests_to("deleteCampaignData"))
        campaigns = fake.campaigns

    assert code == 0, stderr
    assert "DeleteBulkData is not available to this account" in stderr
    assert bulk_tries == 1  # one refused request, then per number
    assert per_number == sorted([PERSON, PERSON, NEVER, NEVER])  # 2 numbers x 2 campaigns
    assert campaigns == {"spring": {OTHER, LATER}, "summer": {LATER}, "autumn": {PERSON}}
    by_place = {(r["number"], r["place"]): r["outcome"] for r in rows}
    assert by_place == {
        (PERSON, "campaign=spring"): "deleted",
        (PERSON, "campaign=summer"): "deleted",
        (PERSON, "scheduled"): "deleted",
        (NEVER, "campaign=spring"): "not_found",
        (NEVER, "campaign=summer"): "not_found",
        (NEVER, "scheduled"): "not_found",
    }
    assert rerun == 0
    assert (bulk_tries_again, per_number_again) == (1, 4)
    assert {(r["number"], r["place"]): r["outcome"] for r in rows_again} == by_place


async def test_forget_without_journal_falls_back_too(tmp_path: Path) -> None:
    async with FakeCloudAgent(bulk_data_refusal="404") as fake:
        seeded(fake)
        source = tmp_path / "erase.txt"
        source.write_text(f"{PERSON}\n{NEVER}\n")
        report = tmp_path / "erased.csv"
        result = await ozoasync(
            "forget", "--campaigns", "spring,summer", "--report", str(report), *FAST,
            str(source), env=cloudagent_env(fake),
        )  # fmt: skip
        bulk_tries = len(fake.requests_to("DeleteBulkData"))
        per_number = len(fake.requests_to("deleteCampaignData"))
        campaigns = fake.campaigns

    assert result.code == 0, result.stderr
    assert (bulk_tries, per_number) == (1, 4)
    assert campaigns["spring"] == {OTHER, LATER}
    assert campaigns["summer"] == {LATER}
    assert report.read_text().count("\n") == 1 + 4  # header + one line per number and place


async def test_forget_dry_run_sends_nothing(fake: FakeCloudAgent, tmp_path: Path) -> None:
    seeded(fake)
    source = tmp_path / "erase.txt"
    source.write_text(f"{PERSON}\n{NEVER}\n{PERSON}\nbad\n")
    journal = tmp_path / "erasure.db"

    result = await ozoasync(
        "forget", "--campaigns", "spring,summer", "--scheduled", "--dry-run", "--journal",
        str(journal), str(source), env=cloudagent_env(fake),
    )  # fmt: skip

    assert result.code == 1, result.stderr  # the invalid line
    assert fake.requests == []
    assert fake.campaigns["spring"] == {PERSON, OTHER, LATER}
    assert not journal.exists()
    assert "dry run" in result.stdout
    assert "requests       3" in result.stdout  # 1 DeleteBulkData + 1 listing + 1 deletion
