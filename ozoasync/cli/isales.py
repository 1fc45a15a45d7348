"""The CC-iSales commands: isales caller-numbers delete | add."""

from __future__ import annotations

import argparse

from .. import ISalesClient, validation
from ..results import CallerNumberAddition, CallerNumberDeletion, Outcome
from . import clients, config
from .bulk import Job, Sender
from .common import BulkCommand, Context, bulk, chunked, dry, tuning
from .endpoints import ADD_CALLER_NO, DELETE_CALLER_NO
from .tally import Item, one_line

# The vendor's documented limits.
NUMBERS_PER_REQUEST = 100
MAX_VDN_ID = 9999


def confirmed_items(
    chunk: list[str], result: CallerNumberDeletion | CallerNumberAddition, done: Outcome
) -> list[Item]:
    """One item per number of a chunk. The server answers a count, not which numbers: a
    chunk confirmed whole is ``done``; one confirmed in part is PARTLY_CONFIRMED (each number
    was changed, or already was as asked: gone from / present on the campaign)."""
    if result.failed:
        failure = result.failed[0]
        message = one_line(f"{failure.result_code} {failure.result_desc}")
        return [Item(n, Outcome.FAILED, message) for n in chunk]
    if result.count >= len(chunk):
        return [Item(n, done) for n in chunk]
    message = f"the server confirmed {result.count} of this request's {len(chunk)} numbers"
    return [Item(n, Outcome.PARTLY_CONFIRMED, message) for n in chunk]


def caller_numbers_sender(
    client: ISalesClient, vdn: int, campaign: int, add_priority: int | None
) -> Sender:
    """Deletes the numbers, or adds them with ``add_priority`` when it is given."""

    async def send_chunk(chunk: list[str]) -> list[Item]:
        if add_priority is not None:
            added = await client.caller_numbers.add(vdn, campaign, chunk, priority=add_priority)
            return confirmed_items(chunk, added, Outcome.ADDED)
        deleted = await client.caller_numbers.delete(vdn, campaign, chunk)
        return confirmed_items(chunk, deleted, Outcome.DELETED)

    return chunked(NUMBERS_PER_REQUEST, send_chunk)


def caller_numbers_job(action: str, vdn: int, campaign: int) -> Job:
    verb = "adding" if action == "add" else "deleting"
    return Job(
        f"isales caller-numbers {action}",
        f"vdn={vdn}/campaign={campaign}",
        validation.access_code,
        verb,
    )


async def caller_numbers(args: argparse.Namespace, ctx: Context) -> int:
    """Both directions: ``args.action`` is "delete" or "add"."""
    settings = config.isales_settings(ctx.env)
    redis = config.redis_settings(ctx.env)
    vdn = validation.positive_int(args.vdn, "--vdn", maximum=MAX_VDN_ID)
    campaign = validation.positive_int(args.campaign_id, "--campaign-id")
    adding = args.action == "add"
    job = caller_numbers_job(args.action, vdn, campaign)
    command = BulkCommand(job, NUMBERS_PER_REQUEST, args.rate_limit)
    if args.dry_run:
        return dry(ctx, args, command)
    endpoint = ADD_CALLER_NO if adding else DELETE_CALLER_NO
    priority = args.priority if adding else None
    async with clients.isales(settings, redis, tuning(args, endpoint)) as client:
        return await bulk(
            ctx, args, command, caller_numbers_sender(client, vdn, campaign, priority)
        )
