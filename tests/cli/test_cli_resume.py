"""A run killed with SIGKILL mid-way resumes from its journal: nothing it finished is sent
again, and every input number ends up accounted for."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path

from cli_helpers import cloudagent_env, counts, ozoasync, start

from ozoasync.cli import journal
from ozoasync.testing import FakeCloudAgent

CAMPAIGN = "spring"
OPERATION, SCOPE = "campaign-data delete", f"campaign={CAMPAIGN}"


def line_count(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


async def lines_reach(path: Path, count: int) -> None:
    # Another process writes the file: there is nothing to wait on but its content.
    while line_count(path) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


def sent(fake: FakeCloudAgent, start: int = 0) -> Counter[str]:
    requests = fake.requests[start:]
    return Counter(r.json()["phoneNumber"] for r in requests if r.endpoint == "deleteCampaignData")


async def test_a_killed_run_resumes_without_resending_what_it_finished(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    listed = [str(9_600_000_000 + i) for i in range(150)]
    fake.add_campaign(CAMPAIGN, listed[:130])  # 20 are already gone
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(listed) + "\n")
    journal_path = tmp_path / "journal.jsonl"
    args = ("campaign-data", "delete", "--campaign", CAMPAIGN, "--journal", str(journal_path))
    env = cloudagent_env(fake)

    # 20 requests per second: 150 numbers take 7.5 s; the kill comes after about 30.
    process = await start(*args, "--rate-limit", "20/1", str(source), env=env)
    await asyncio.wait_for(lines_reach(journal_path, 30), timeout=30)
    os.kill(process.pid, signal.SIGKILL)
    await process.wait()

    assert process.returncode == -signal.SIGKILL
    finished = journal.load(str(journal_path), OPERATION, SCOPE).finished
    assert 30 <= len(finished) < len(listed)
    sent_before_kill = len(fake.requests)

    resumed = await ozoasync(*args, "--rate-limit", "1000/1", str(source), env=env)

    assert resumed.code == 0, resumed.stderr
    assert not set(sent(fake, sent_before_kill)) & finished  # none of them was sent again
    assert all(sent(fake)[number] == 1 for number in finished)
    assert counts(resumed.stdout)["finished earlier (journal)"] == str(len(finished))
    # Every number accounted for: gone from the campaign, and finished in the journal.
    assert fake.campaigns[CAMPAIGN] == set()
    assert journal.load(str(journal_path), OPERATION, SCOPE).finished == set(listed)
