"""``ozoasync forget --campaigns A,B,... [--scheduled] FILE``: make each number disappear
from the given campaigns and, with ``--scheduled``, from every scheduled call of the account.

Campaigns: DeleteBulkData (100 numbers x 100 campaigns per request, 2 requests a minute,
one in flight per account), or deleteCampaignData per number and campaign with
``--per-number`` (for accounts that do not offer DeleteBulkData; 100 a minute). Scheduled
data: one listing, then one deleteScheduledData of the matching rows, whatever their
campaign. The report has one line per number and place (``campaign=NAME`` or
``scheduled``). The numbers are held in memory (one list for both steps): it is meant for
erasure and do-not-call lists, not for cleanups of millions.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from .. import CloudAgentClient, validation
from ..results import ScheduledNumberResult
from . import clients, config
from .bulk import Job, Outputs, Sender, Sink, run_bulk
from .common import Context, UsageError, finish, source_of, tuning
from .endpoints import BULK_DATA, CAMPAIGN_DATA
from .tally import Item, one_line

SCHEDULED = "scheduled"


def campaign_list(text: str) -> list[str]:
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise UsageError("--campaigns: give at least one campaign name (A,B,...)")
    return [validation.non_empty_text(name, "--campaigns") for name in names]


def scheduled_item(result: ScheduledNumberResult) -> Item:
    message = result.message or (str(result.error) if result.error is not None else "")
    if result.row_ids:
        rows = ",".join(str(row_id) for row_id in result.row_ids)
        message = f"rows {rows}" + (f": {message}" if message else "")
    return Item(result.number, result.outcome, one_line(message), place=SCHEDULED)


def forget_sender(
    ca: CloudAgentClient, campaigns: list[str], *, scheduled: bool, per_number: bool
) -> Sender:
    async def send(numbers: Iterator[str], sink: Sink) -> None:
        wanted = list(numbers)
        if per_number:
            for campaign in campaigns:
                async for result in ca.campaign_data.delete_many(campaign, wanted):
                    message = result.message or (str(result.error) if result.error else "")
                    sink(
                        [
                            Item(
                                result.phone_number,
                                result.outcome,
                                one_line(message),
                                result.attempts,
                                place=f"campaign={campaign}",
                            )
                        ]
                    )
        else:
            async for chunk in ca.campaign_data.delete_across(campaigns, wanted):
                sink(
                    [
                        Item(
                            item.number,
                            item.outcome,
                            one_line(item.message or (str(item.error) if item.error else "")),
                            place=f"campaign={campaign}",
                        )
                        for item in chunk.items
                        for campaign in chunk.campaigns or campaigns
                    ]
                )
        if scheduled:
            deletion = await ca.scheduled_data.delete_for(wanted)
            sink([scheduled_item(result) for result in deletion.items])

    return send


async def forget(args: argparse.Namespace, ctx: Context) -> int:
    settings = config.cloudagent_settings(ctx.env)
    redis = config.redis_settings(ctx.env)
    campaigns = campaign_list(args.campaigns)
    if args.journal is not None:
        raise UsageError("forget does not take --journal yet: keep its --report as the record")
    places = ",".join(campaigns) + (" + scheduled" if args.scheduled else "")
    job = Job("forget", f"campaigns={places}", validation.phone_number)
    endpoint = CAMPAIGN_DATA if args.per_number else BULK_DATA
    async with clients.cloudagent(settings, redis, tuning(args, endpoint)) as ca:
        send = forget_sender(ca, campaigns, scheduled=args.scheduled, per_number=args.per_number)
        stream = ctx.out.file if args.output == "jsonl" else None
        outputs = Outputs(report=args.report, stream=stream)
        run = await run_bulk(job, send, source_of(args, ctx), outputs, ctx.err, ctx.interruption)
    return finish(ctx, args, run)
