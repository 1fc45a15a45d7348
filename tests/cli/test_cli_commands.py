"""The real console script against the emulators: each subcommand, reports, inputs, exit
codes and one-line errors."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from cli_helpers import (
    clean_env,
    cloudagent_env,
    counts,
    isales_env,
    one_line_error,
    ozoasync,
)

from ozoasync.testing import FakeCloudAgent, FakeISales, Fault

CAMPAIGN = "spring"
FAST = ("--rate-limit", "1000/1")  # the emulator has no limit here; keep runs quick


def numbers(count: int, start: int = 9_700_000_000) -> list[str]:
    return [str(start + i) for i in range(count)]


def write_lines(path: Path, lines: list[str]) -> str:
    path.write_text("".join(f"{line}\n" for line in lines))
    return str(path)


def sent_numbers(fake: FakeCloudAgent) -> Counter[str]:
    return Counter(r.json()["phoneNumber"] for r in fake.requests_to("deleteCampaignData"))


async def test_campaign_data_delete_writes_a_json_report(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    present, gone = numbers(30), numbers(5, start=9_800_000_000)
    fake.add_campaign(CAMPAIGN, present)
    source = write_lines(tmp_path / "numbers.txt", [*present, *gone, present[0]])
    report = tmp_path / "report.json"

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, *FAST, "--report", str(report),
        source, env=cloudagent_env(fake),
    )  # fmt: skip

    assert result.code == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    assert fake.campaigns[CAMPAIGN] == set()
    assert sent_numbers(fake) == Counter(present + gone)  # the repeated line was not sent
    data = json.loads(report.read_text())
    assert data["operation"] == "campaign-data delete"
    assert data["scope"] == f"campaign={CAMPAIGN}"
    rows = data["results"]
    assert len(rows) == 36  # every input line
    duplicate = {"number": present[0], "outcome": "duplicate", "message": "repeats an earlier line"}
    assert [row for row in rows if row["outcome"] == "duplicate"] == [
        {**duplicate, "attempts": None}
    ]
    outcomes = {row["number"]: row["outcome"] for row in rows if row["outcome"] != "duplicate"}
    assert outcomes == {**dict.fromkeys(present, "deleted"), **dict.fromkeys(gone, "not_found")}
    assert data["summary"]["deleted"] == 30
    assert data["summary"]["not_found"] == 5
    assert counts(result.stdout)["deleted"] == "30"


async def test_token_auth_from_the_environment(tmp_path: Path) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign(CAMPAIGN, numbers(5))
        env = {**cloudagent_env(fake), "OZONETEL_AUTH": "token"}
        source = write_lines(tmp_path / "numbers.txt", numbers(5))

        result = await ozoasync("campaign-data", "delete", "--campaign", CAMPAIGN, *FAST, source,
                                env=env)  # fmt: skip

        assert result.code == 0, result.stderr
        assert fake.tokens_generated == 1
        assert fake.campaigns[CAMPAIGN] == set()


async def test_a_csv_column_in_and_a_csv_report_out(fake: FakeCloudAgent, tmp_path: Path) -> None:
    present = numbers(12)
    fake.add_campaign(CAMPAIGN, present)
    source = tmp_path / "contacts.csv"
    with source.open("w", newline="", encoding="utf-8-sig") as file:  # as a spreadsheet saves it
        writer = csv.writer(file)
        writer.writerow(["name", "Mobile", "city"])
        writer.writerows([f"person {i}", number, "Pune"] for i, number in enumerate(present))
        writer.writerow(["nobody", "", "Pune"])  # a blank cell is skipped
    report = tmp_path / "report.csv"

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, *FAST, "--column", "mobile",
        "--report", str(report), str(source), env=cloudagent_env(fake),
    )  # fmt: skip

    assert result.code == 0, result.stderr
    assert fake.campaigns[CAMPAIGN] == set()
    with report.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert sorted(row["number"] for row in rows) == present  # in completion order
    assert {row["outcome"] for row in rows} == {"deleted"}
    assert {row["attempts"] for row in rows} == {"1"}


async def test_numbers_from_stdin(fake: FakeCloudAgent) -> None:
    group = numbers(150)
    fake.add_block_group(3, group)

    result = await ozoasync(
        "block-numbers", "delete", "--group", "3", env=cloudagent_env(fake),
        input="\n".join(group) + "\n\n",
    )  # fmt: skip

    assert result.code == 0, result.stderr
    assert fake.block_groups[3] == set()
    assert len(fake.requests_to("deleteBlockNumberGroup")) == 2  # 100 + 50


async def test_failed_items_exit_1_and_are_retried_by_a_rerun_with_the_journal(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    present = numbers(10)
    fake.add_campaign(CAMPAIGN, present)
    fake.faults.queue(Fault.SERVER_ERROR, 2)
    source = write_lines(tmp_path / "numbers.txt", present)
    journal = tmp_path / "jobs.db"
    args = ("campaign-data", "delete", "--campaign", CAMPAIGN, *FAST, "--journal", str(journal))

    first = await ozoasync(*args, "--max-attempts", "1", "--concurrency", "1", source,
                           env=cloudagent_env(fake))  # fmt: skip

    assert first.code == 1
    assert "failed" in first.stdout
    failed = set(present[:2])  # the first two requests met the 5xx, with no retry allowed
    assert fake.campaigns[CAMPAIGN] == failed
    fake.requests.clear()

    second = await ozoasync(*args, source, env=cloudagent_env(fake))

    assert second.code == 0, second.stderr
    assert set(sent_numbers(fake)) == failed  # only the failed ones were sent again
    assert fake.campaigns[CAMPAIGN] == set()


async def test_an_invalid_line_fails_its_item_only(fake: FakeCloudAgent, tmp_path: Path) -> None:
    fake.add_campaign(CAMPAIGN, numbers(3))
    source = write_lines(tmp_path / "numbers.txt", [*numbers(3), "call me"])

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, *FAST, source, env=cloudagent_env(fake)
    )

    assert result.code == 1
    assert "call me" in result.stdout
    assert fake.campaigns[CAMPAIGN] == set()
    assert len(sent_numbers(fake)) == 3


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["campaign-data"],
        ["campaign-data", "delete"],
        ["campaign-data", "delete", "--campaign", "x", "--rate-limit", "fast", "f.txt"],
        ["campaign-data", "delete", "--campaign", "x", "--concurrency", "0", "f.txt"],
        ["block-numbers", "delete", "--group", "seven", "f.txt"],
        ["isales", "caller-numbers", "add", "--vdn", "1", "--campaign-id", "2", "--priority", "9"],
        ["campaign-data", "delete", "--campaign", "x", "--api-key", "KK", "f.txt"],
        ["unknown-command"],
    ],
)
async def test_bad_arguments_exit_2_with_one_line(argv: list[str]) -> None:
    result = await ozoasync(*argv, env=clean_env())

    assert result.code == 2
    assert one_line_error(result).startswith("ozoasync")
    assert result.stdout == ""


async def test_missing_configuration_exits_2_with_one_line(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "numbers.txt", numbers(3))
    env = clean_env(OZONETEL_USERNAME="acme")

    result = await ozoasync("campaign-data", "delete", "--campaign", "x", source, env=env)

    assert result.code == 2
    assert one_line_error(result) == (
        "ozoasync: OZONETEL_API_KEY is not set (the CloudAgent account API key)"
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"OZONETEL_AUTH": "basic"}, "OZONETEL_AUTH must be one of api_key, token"),
        ({"OZONETEL_BASE_URL": "ftp://x"}, "OZONETEL_BASE_URL must start with http://"),
        ({"OZOASYNC_REDIS_URL": "localhost"}, "OZOASYNC_REDIS_URL must start with redis://"),
    ],
)
async def test_invalid_configuration_exits_2_with_one_line(
    tmp_path: Path, extra: dict[str, str], expected: str
) -> None:
    source = write_lines(tmp_path / "numbers.txt", numbers(3))
    env = clean_env(OZONETEL_USERNAME="acme", OZONETEL_API_KEY="KK-secret-value", **extra)

    result = await ozoasync("campaign-data", "delete", "--campaign", "x", source, env=env)

    assert result.code == 2
    line = one_line_error(result)
    assert expected in line
    assert "KK-secret-value" not in result.stderr + result.stdout


async def test_missing_input_file_exits_2(fake: FakeCloudAgent, tmp_path: Path) -> None:
    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, str(tmp_path / "absent.txt"),
        env=cloudagent_env(fake),
    )  # fmt: skip

    assert result.code == 2
    assert "absent.txt" in one_line_error(result)
    assert fake.requests == []


async def test_refused_credentials_stop_the_run_with_exit_2(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    fake.add_campaign(CAMPAIGN, numbers(50))
    source = write_lines(tmp_path / "numbers.txt", numbers(50))
    env = {**cloudagent_env(fake), "OZONETEL_API_KEY": "KK-wrong-key"}

    result = await ozoasync("campaign-data", "delete", "--campaign", CAMPAIGN, *FAST, source,
                            env=env)  # fmt: skip

    assert result.code == 2
    assert "Invalid User Details" in one_line_error(result)
    assert "stopped early" in result.stdout
    assert len(fake.requests) < 50  # it stopped instead of sending the rest
    assert "KK-wrong-key" not in result.stderr + result.stdout


async def test_an_unknown_campaign_stops_the_run_with_exit_2(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    source = write_lines(tmp_path / "numbers.txt", numbers(40))

    result = await ozoasync("campaign-data", "delete", "--campaign", "nope", *FAST, source,
                            env=cloudagent_env(fake))  # fmt: skip

    assert result.code == 2
    assert "Passed campaign are invalid" in one_line_error(result)
    assert len(fake.requests) < 40


async def test_dry_run_sends_nothing_and_counts(fake: FakeCloudAgent, tmp_path: Path) -> None:
    fake.add_campaign(CAMPAIGN, numbers(20))
    lines = [*numbers(20), numbers(1)[0], "12-34x", "+91-98765-43210"]
    source = write_lines(tmp_path / "numbers.txt", lines)
    journal, report = tmp_path / "jobs.db", tmp_path / "report.json"

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, "--dry-run", "--journal", str(journal),
        "--report", str(report), source, env=cloudagent_env(fake),
    )  # fmt: skip

    assert result.code == 1  # one invalid number: a real run would fail it
    assert fake.requests == []
    assert not journal.exists()
    assert not report.exists()
    assert counts(result.stdout) == {
        "numbers read": "23",
        "duplicates": "1",
        "invalid": "1",
        "to send": "21",
        "requests": "21",
    }
    assert "'12-34x'" in result.stdout
    assert "about 12.2 s" in result.stdout  # 20 intervals of 0.612 s at 100 per 60 s


async def test_dry_run_of_a_valid_input_exits_0(fake: FakeCloudAgent, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "numbers.txt", numbers(250))

    result = await ozoasync(
        "block-numbers", "delete", "--group", "3", "--dry-run", source, env=cloudagent_env(fake)
    )

    assert result.code == 0
    assert fake.requests == []
    assert counts(result.stdout)["requests"] == "3"


async def test_isales_caller_numbers_delete_and_add(
    isales_fake: FakeISales, tmp_path: Path
) -> None:
    kept, removed, added = numbers(5), numbers(120, start=8_000_000_000), numbers(30, 6_000)
    isales_fake.add_campaign(1, 42, [*kept, *removed])
    env = isales_env(isales_fake)
    ids = ("--vdn", "1", "--campaign-id", "42")

    deleted = await ozoasync("isales", "caller-numbers", "delete", *ids,
                             write_lines(tmp_path / "delete.txt", removed), env=env)  # fmt: skip
    added_run = await ozoasync("isales", "caller-numbers", "add", *ids, "--priority", "3",
                               write_lines(tmp_path / "add.txt", added), env=env)  # fmt: skip

    assert deleted.code == 0, deleted.stderr
    assert added_run.code == 0, added_run.stderr
    assert isales_fake.caller_numbers(1, 42) == {*kept, *added}
    assert {isales_fake.campaigns[1][42].caller_numbers[n] for n in added} == {3}


async def test_isales_needs_its_own_configuration(fake: FakeCloudAgent, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "numbers.txt", numbers(3))

    result = await ozoasync(
        "isales", "caller-numbers", "delete", "--vdn", "1", "--campaign-id", "42", source,
        env=cloudagent_env(fake),
    )  # fmt: skip

    assert result.code == 2
    assert one_line_error(result).startswith("ozoasync: ISALES_BASE_URL is not set")


async def test_scheduled_data_delete(fake: FakeCloudAgent, tmp_path: Path) -> None:
    fake.add_scheduled_rows(range(1, 21))
    ids = write_lines(tmp_path / "rows.txt", ["15", "16-18"])

    result = await ozoasync(
        "scheduled-data", "delete", "1-5", "7,9", "--file", ids, env=cloudagent_env(fake)
    )

    assert result.code == 0, result.stderr
    assert fake.scheduled_rows == {6, 8, *range(10, 15), 19, 20}
    assert "1-5,7,9,15-18" in result.stdout


async def test_phones_edit_reports_rejected_skills_with_exit_1(fake: FakeCloudAgent) -> None:
    fake.add_phone("9811112222", "desk")
    env = cloudagent_env(fake)

    result = await ozoasync(
        "phones", "edit", "--number", "9811112222", "--name", "desk", "--new-number",
        "9811113333", "--assign-skill", "unknown-skill", env=env,
    )  # fmt: skip

    assert result.code == 1
    assert "rejected the skills" in result.stdout
    assert set(fake.phones) == {"9811113333"}


async def test_phones_edit_of_an_unknown_phone_exits_1_with_one_line(
    fake: FakeCloudAgent,
) -> None:
    result = await ozoasync(
        "phones", "edit", "--number", "9811112222", "--name", "desk", "--new-number",
        "9811113333", env=cloudagent_env(fake),
    )  # fmt: skip

    assert result.code == 1
    assert "No Record Found" in one_line_error(result)


async def test_python_dash_m_runs_the_same_command_line() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ozoasync", "bogus",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=clean_env(),
    )  # fmt: skip
    _, stderr = await process.communicate()

    assert process.returncode == 2
    assert stderr.decode().startswith("ozoasync: error: argument COMMAND: invalid choice")


async def test_a_rerun_of_a_finished_block_number_cleanup_exits_0(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    group = numbers(250)
    fake.add_block_group(3, group)
    source = write_lines(tmp_path / "numbers.txt", group)
    report = tmp_path / "rerun.json"
    args = ("block-numbers", "delete", "--group", "3")

    first = await ozoasync(*args, source, env=cloudagent_env(fake))
    again = await ozoasync(*args, "--report", str(report), source, env=cloudagent_env(fake))

    assert first.code == 0, first.stdout
    assert again.code == 0, again.stdout
    assert counts(again.stdout) == {"already gone": "250", "failed": "0", "total": "250"}
    rows = json.loads(report.read_text())["results"]
    assert sorted(r["number"] for r in rows) == sorted(group)  # as given, each once
    assert {r["outcome"] for r in rows} == {"not_found"}


async def test_a_rerun_of_a_finished_isales_cleanup_exits_0(
    isales_fake: FakeISales, tmp_path: Path
) -> None:
    kept, removed = numbers(5), numbers(120, start=8_000_000_000)
    isales_fake.add_campaign(1, 42, [*kept, *removed])
    source = write_lines(tmp_path / "delete.txt", removed)
    args = ("isales", "caller-numbers", "delete", "--vdn", "1", "--campaign-id", "42", source)

    first = await ozoasync(*args, env=isales_env(isales_fake))
    again = await ozoasync(*args, env=isales_env(isales_fake))

    assert first.code == 0, first.stdout
    assert again.code == 0, again.stdout + again.stderr
    assert isales_fake.caller_numbers(1, 42) == set(kept)
