"""A bulk run stopped by SIGTERM, SIGHUP or SIGINT stops reading, lets its requests in flight
finish, writes a whole report of everything it processed, says so on stderr and exits with
128 + the signal's number. Reports are written atomically; a full disk is one clear line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import cloudagent_env, ozoasync, start

from ozoasync.testing import FakeCloudAgent

CAMPAIGN = "spring"


async def requests_reach(fake: FakeCloudAgent, count: int) -> None:
    # Another process sends them: there is nothing to wait on but the server's record.
    while len(fake.requests_to("deleteCampaignData")) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
async def test_a_signal_mid_run_leaves_a_whole_report_of_every_processed_number(
    fake: FakeCloudAgent, tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    listed = [str(9_600_000_000 + i) for i in range(200)]
    fake.add_campaign(CAMPAIGN, listed)
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(listed) + "\n")
    report = tmp_path / "report.json"
    process = await start(
        "campaign-data", "delete", "--campaign", CAMPAIGN, "--rate-limit", "20/1",
        "--report", str(report), str(source),
        env=cloudagent_env(fake),
    )  # fmt: skip
    await asyncio.wait_for(requests_reach(fake, 15), timeout=30)
    process.send_signal(signum)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == code
    assert f"stopped by {signum.name}" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    written = json.loads(report.read_text())  # whole, valid JSON
    deleted = {row["number"] for row in written["results"] if row["outcome"] == "deleted"}
    # Every number the server deleted is in the report: in-flight requests finished.
    assert deleted == set(listed) - fake.campaigns[CAMPAIGN]
    assert 15 <= len(deleted) < len(listed)
    assert written["summary"]["deleted"] == len(deleted)
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


async def test_an_unwritable_report_directory_is_one_clear_line(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    fake.add_campaign(CAMPAIGN, ["9600000001"])
    source = tmp_path / "numbers.txt"
    source.write_text("9600000001\n")
    missing = tmp_path / "no-such-dir" / "report.json"
    result = await ozoasync(
        "campaign-data", "delete", "--campaign", CAMPAIGN, "--report", str(missing),
        str(source), env=cloudagent_env(fake),
    )  # fmt: skip
    assert result.code == 2
    assert result.stderr.strip() == (
        f"ozoasync: cannot write report {missing}: No such file or directory"
    )


@contextlib.contextmanager
def tiny_file_system(path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (needs root): a real full disk."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
async def test_a_full_disk_is_one_clear_line_and_leaves_no_partial_report(
    fake: FakeCloudAgent, tmp_path: Path
) -> None:
    listed = [str(9_600_000_000 + i) for i in range(2_000)]  # a report of ~100 KB
    fake.add_campaign(CAMPAIGN, listed)
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(listed) + "\n")
    with tiny_file_system(tmp_path / "full") as full:
        report = full / "report.json"
        result = await ozoasync(
            "campaign-data", "delete", "--campaign", CAMPAIGN, "--rate-limit", "100000/1",
            "--concurrency", "32", "--report", str(report), str(source),
            env=cloudagent_env(fake),
        )  # fmt: skip
        assert result.code == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines()[-1] == (
            f"ozoasync: cannot write report {report}: No space left on device"
        )
        assert os.listdir(full) == []  # no half-written report, no temporary file
