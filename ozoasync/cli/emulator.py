"""``ozoasync emulator``: both emulators on loopback HTTP, seeded with the demo's data, until
Ctrl-C or SIGTERM, for experiments with the command line or your own code."""

from __future__ import annotations

import argparse

from ..testing import FakeCloudAgent, FakeISales, FaultPlan
from . import endpoints
from . import scenario as data
from .common import Context, UsageError
from .tally import EXIT_OK

VENDOR_LIMIT = (100, 60.0)  # deleteCampaignData, as the vendor documents it


def isales_port(port: int, chosen: int | None) -> int:
    """The iSales emulator's port: as chosen, else the next one (any free one for port 0)."""
    if chosen is not None:
        return chosen
    return port + 1 if port else 0


def write_numbers(path: str, numbers: list[str]) -> None:
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.writelines(f"{number}\n" for number in numbers)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


async def emulator(args: argparse.Namespace, ctx: Context) -> int:
    if not 0 <= args.fault_rate <= 1:
        raise UsageError("--fault-rate must be between 0 and 1")
    limit = args.rate_limit
    limits = {
        endpoints.CAMPAIGN_DATA: (limit.max_requests, limit.period) if limit else VENDOR_LIMIT
    }
    cloud = FakeCloudAgent(
        host=args.host, port=args.port, rate_limits=limits, faults=FaultPlan(rate=args.fault_rate)
    )
    isales = FakeISales(
        host=args.host,
        port=isales_port(args.port, args.isales_port),
        faults=FaultPlan(rate=args.fault_rate),
    )
    scenario = data.FULL
    scenario.seed_cloudagent(cloud)
    scenario.seed_isales(isales)
    if args.numbers_file is not None:
        write_numbers(args.numbers_file, scenario.cleanup_list)
    try:
        await cloud.start()
        await isales.start()
    except OSError as exc:
        await cloud.stop()
        raise UsageError(f"cannot listen on {args.host}: {exc.strerror}") from None
    try:
        count, period = limits[endpoints.CAMPAIGN_DATA]
        out = ctx.out
        out.print(f"CloudAgent emulator: {cloud.url}", soft_wrap=True)
        out.print(f"CC-iSales emulator: {isales.url}", soft_wrap=True)
        out.print(
            f"seeded: campaign '{data.CAMPAIGN}' ({scenario.campaign_size:,} numbers), block "
            f"group {data.BLOCK_GROUP}, scheduled rows {data.SCHEDULED_ROWS.start}-"
            f"{data.SCHEDULED_ROWS.stop - 1}, phone {data.PHONE[0]} ({data.PHONE[1]}), iSales "
            f"campaign {data.ISALES_CAMPAIGN} of VDN {data.ISALES_VDN}; deleteCampaignData "
            f"limited to {count} per {period:g} s",
            soft_wrap=True,
        )
        out.print("point the command line at them with:", soft_wrap=True)
        out.print(
            f"  export OZONETEL_BASE_URL={cloud.url} OZONETEL_USERNAME={cloud.username} "
            f"OZONETEL_API_KEY={cloud.api_key}",
            soft_wrap=True,
            markup=False,
        )
        out.print(
            f"  export ISALES_BASE_URL={isales.url} ISALES_APP_KEY={isales.app_key} "
            f"ISALES_APP_SECRET={isales.app_secret}",
            soft_wrap=True,
            markup=False,
        )
        out.print("serving until Ctrl-C or SIGTERM", soft_wrap=True)
        await ctx.interruption.wait()
    finally:
        await isales.stop()
        await cloud.stop()
    out.print("emulators stopped")
    return EXIT_OK
