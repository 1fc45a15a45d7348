"""A bulk run whose server cannot be reached (OZONETEL_BASE_URL at a closed loopback port):
exit 2 with one line naming the variable to check, and a report with a line for every input
line, the unsent numbers as pending."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import clean_env, closed_port, one_line_error, ozoasync

LINES = [str(9_700_000_000 + i) for i in range(25)]


async def test_a_closed_port_stops_the_run_with_every_input_reported(tmp_path: Path) -> None:
    source = tmp_path / "numbers.txt"
    # Besides 25 numbers: a repeat and an invalid line near the end, never reached.
    source.write_text("\n".join([*LINES[:20], LINES[0], "not-a-number", *LINES[20:]]) + "\n")
    report = tmp_path / "report.json"
    env = clean_env(
        OZONETEL_BASE_URL=f"http://127.0.0.1:{closed_port()}",
        OZONETEL_USERNAME="acme",
        OZONETEL_API_KEY="KK-secret-value",
    )

    result = await ozoasync(
        "campaign-data", "delete", "--campaign", "spring", "--report", str(report),
        "--max-attempts", "1", "--rate-limit", "1000/1", str(source), env=env,
    )  # fmt: skip

    assert result.code == 2
    line = one_line_error(result)
    assert "unreachable" in line
    assert "OZONETEL_BASE_URL" in line
    assert "KK-secret-value" not in result.stderr + result.stdout
    recorded = json.loads(report.read_text())
    rows = recorded["results"]
    assert sorted(r["number"] for r in rows if r["outcome"] in ("failed", "pending")) == LINES
    assert [r["outcome"] for r in rows if r["number"] == "not-a-number"] == ["invalid"]
    assert [r["outcome"] for r in rows if r["message"] == "repeats an earlier line"] == [
        "duplicate"
    ]
    assert len(rows) == 27  # every input line, once
    pending = [r for r in rows if r["outcome"] == "pending"]
    assert pending  # the run stopped early: not every number was tried
    assert all(r["message"].startswith(("not sent", "no result")) for r in pending)
    summary = recorded["summary"]
    assert summary["failed"] + summary["pending"] == 25
