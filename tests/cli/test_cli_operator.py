"""What an operator sees: JSON lines on stdout, whole lines when stdout is not a terminal,
UTC timestamps in the logs, every input line counted in the summary and the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_helpers import cloudagent_env, counts, ozoasync

from ozoasync.testing import FakeCloudAgent

CAMPAIGN = "spring"


async def test_jsonl_streams_one_object_per_input_line_and_keeps_stdout_clean(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    fake.add_campaign(CAMPAIGN, ["9700000001"])
    source = tmp_path / "numbers.txt"
    source.write_text("9700000001\n9700000002\n9700000001\nnot-a-number\n")

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, "--output", "jsonl", str(source),
        env=cloudagent_env(fake),
    )  # fmt: skip

    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted((r["number"], r["outcome"]) for r in rows) == [
        ("9700000001", "deleted"),
        ("9700000001", "duplicate"),
        ("9700000002", "not_found"),
        ("not-a-number", "invalid"),
    ]
    assert "total" in result.stderr  # the summary moved to stderr
    assert result.code == 1  # the invalid line


async def test_three_identical_lines_are_one_request_and_two_duplicates(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    fake.add_campaign(CAMPAIGN, [])
    source = tmp_path / "numbers.txt"
    source.write_text("9700000001\n9700000001\n9700000001\n")

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, str(source), env=cloudagent_env(fake)
    )

    assert result.code == 0, result.stderr
    assert counts(result.stdout) == {
        "already gone": "1",
        "failed": "0",
        "duplicates (sent once)": "2",
        "total": "3",
    }
    assert len(fake.requests) == 1


async def test_comments_and_separators_and_invalid_lines_in_the_report(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    fake.add_campaign(CAMPAIGN, ["+919876543210"])
    source = tmp_path / "numbers.txt"
    bad = [f"call-me-{i}" for i in range(8)]  # more than the summary shows
    source.write_text("# opt-outs\n\n+91-98765-43210\n" + "\n".join(bad) + "\n")
    report = tmp_path / "report.json"

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, "--report", str(report), str(source),
        env=cloudagent_env(fake),
    )  # fmt: skip

    assert result.code == 1
    rows = json.loads(report.read_text())["results"]
    assert {r["number"]: r["outcome"] for r in rows} == {
        "+919876543210": "deleted",
        **{line: "invalid" for line in bad},  # every one of them, in full
    }
    assert counts(result.stdout)["invalid"] == "8"
    assert fake.campaigns[CAMPAIGN] == set()


async def test_lines_are_not_wrapped_when_stdout_is_not_a_terminal(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    long_line = "9" * 30 + "x" * 90  # invalid, and far longer than 80 columns
    source = tmp_path / "numbers.txt"
    source.write_text(long_line + "\n")
    env = cloudagent_env(fake)
    del env["COLUMNS"]

    result = await ozoasync("campaign-data", "delete", "--campaign", CAMPAIGN, str(source), env=env)

    assert any(long_line in line for line in result.stdout.splitlines())


async def test_log_lines_carry_iso_8601_utc_timestamps(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    fake.add_campaign(CAMPAIGN, ["9700000001"])
    source = tmp_path / "numbers.txt"
    source.write_text("9700000001\n")

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, "-vv", str(source),
        env=cloudagent_env(fake),
    )  # fmt: skip

    log_lines = result.stderr.splitlines()
    assert log_lines
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING) ")
    assert all(stamp.match(line) for line in log_lines), log_lines
