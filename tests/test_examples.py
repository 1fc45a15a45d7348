"""The recipes in examples/ work as their users run them: the bulk script as a process, the
FastAPI app under uvicorn with two worker processes sharing one account through Redis, the
aiohttp app in an aiohttp server; all against the CloudAgent emulator over loopback HTTP."""

from __future__ import annotations

import sys
from pathlib import Path

from examples_helpers import EXAMPLES, environment, run

from ozoasync.testing import FakeCloudAgent, Fault

sys.path.insert(0, str(EXAMPLES.parent))

# --- examples/bulk_cleanup.py ---------------------------------------------------------------


def write_numbers(path: Path, numbers: list[str]) -> str:
    path.write_text("".join(f"{number}\n" for number in numbers))
    return str(path)


async def test_the_bulk_script_deletes_a_file_of_numbers_and_sums_up(tmp_path: Path) -> None:
    numbers = [str(9_800_000_000 + i) for i in range(40)]
    async with FakeCloudAgent(rate_limits={"deleteCampaignData": (100, 1.0)}) as fake:
        fake.add_campaign("spring", numbers[:35])
        fake.faults.queue(Fault.SERVER_ERROR, endpoint="deleteCampaignData")
        path = write_numbers(tmp_path / "numbers.txt", [*numbers, "", "not-a-number"])
        done = await run(
            str(EXAMPLES / "bulk_cleanup.py"),
            path,
            "--campaign",
            "spring",
            "--rate-limit",
            "100/1",
            env=environment(fake),
        )
        assert fake.campaigns["spring"] == set()
        assert fake.counters["rejected"] == 0
    assert done.returncode == 1, done.stderr  # one number failed
    lines = done.stdout.splitlines()
    assert lines[0].startswith("failed: not-a-number: ")
    assert lines[-1] == "41 numbers: 35 deleted, 5 already gone, 1 failed"
    assert done.stderr.splitlines()[-1].startswith(
        "41 done: 35 deleted, 5 already gone, 1 failed, "
    )


async def test_the_bulk_script_stops_on_refused_credentials(tmp_path: Path) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        path = write_numbers(tmp_path / "numbers.txt", ["9876543210", "9876543211"])
        env = environment(fake, OZONETEL_API_KEY="KK-wrong", OZONETEL_CAMPAIGN="spring")
        done = await run(str(EXAMPLES / "bulk_cleanup.py"), path, env=env)
        assert fake.campaigns["spring"] == {"9876543210"}
    assert done.returncode == 2, done.stderr
    assert done.stdout.splitlines()[-1].startswith("stopped early: ")
    assert "KK-wrong" not in done.stdout + done.stderr


async def test_the_bulk_script_wants_a_campaign_and_credentials(tmp_path: Path) -> None:
    path = write_numbers(tmp_path / "numbers.txt", ["9876543210"])
    async with FakeCloudAgent() as fake:
        no_campaign = await run(str(EXAMPLES / "bulk_cleanup.py"), path, env=environment(fake))
        env = environment(fake)
        del env["OZONETEL_API_KEY"]
        no_key = await run(str(EXAMPLES / "bulk_cleanup.py"), path, "--campaign", "c", env=env)
        assert fake.requests == []
    assert no_campaign.returncode == 2
    assert "--campaign (or OZONETEL_CAMPAIGN) is required" in no_campaign.stderr
    assert no_key.returncode == 2
    assert "set OZONETEL_API_KEY in the environment" in no_key.stderr
