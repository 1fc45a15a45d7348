"""``ozoasync demo`` and ``ozoasync emulator`` as a user runs them."""

from __future__ import annotations

import asyncio
import re
import socket

from cli_helpers import clean_env, ozoasync, start

from ozoasync import CloudAgentClient, ISalesClient, Outcome
from ozoasync.cli import scenario


async def test_the_demo_runs_every_operation_and_cleans_the_campaign() -> None:
    result = await ozoasync("demo", "--fast", env=clean_env())

    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    for step in ("campaign data", "block numbers", "scheduled data", "phone edit", "iSales"):
        assert step in out
    size = scenario.FAST.campaign_size
    assert f"Campaign 'spring-sale' now holds 0 of its {size:,} numbers" in out
    # (How many the emulator refused depends on the machine's load: not asserted.)
    assert re.search(r"\d+ met an injected fault .* were refused by its rate limit", out, re.S)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


async def test_the_emulator_serves_both_vendors_until_terminated() -> None:
    cloud_port, isales_port = free_ports(2)
    process = await start(
        "emulator", "--port", str(cloud_port), "--isales-port", str(isales_port), env=clean_env()
    )
    assert process.stdout is not None
    banner = ""
    while "serving until" not in banner:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert line, "the emulator exited early"
        banner += line.decode()
    assert f"http://127.0.0.1:{cloud_port}" in banner
    assert f"http://127.0.0.1:{isales_port}" in banner

    number = scenario.FULL.campaign_numbers[0]
    async with CloudAgentClient(
        "demo", "KK-demo-key", base_url=f"http://127.0.0.1:{cloud_port}"
    ) as ca:
        deletion = await ca.campaign_data.delete(scenario.CAMPAIGN, number)
        again = await ca.campaign_data.delete(scenario.CAMPAIGN, number)
    async with ISalesClient(f"http://127.0.0.1:{isales_port}", "AK-demo", "SK-demo") as isales:
        campaign = await isales.campaigns.get(scenario.ISALES_VDN, scenario.ISALES_CAMPAIGN)
    process.terminate()
    rest, _ = await asyncio.wait_for(process.communicate(), timeout=30)

    assert deletion.outcome is Outcome.DELETED
    assert again.outcome is Outcome.NOT_FOUND
    assert set(campaign.caller_numbers) == set(scenario.FULL.isales_numbers)
    assert process.returncode == 0
    assert "emulators stopped" in rest.decode()
