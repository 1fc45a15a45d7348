"""The CC-iSales commands: isales caller-numbers delete | add."""

from __future__ import annotations

import argparse

from .. import ISalesClient, validation
from ..jobs import Account, AddCallerNumbers, DeleteCallerNumbers, Operation
from . import clients, config
from .bulk import Job, Sender
from .common import BulkCommand, Context, bulk, chunked, dry, tuning
from .endpoints import ADD_CALLER_NO, DELETE_CALLER_NO

# The vendor's documented limits.
NUMBERS_PER_REQUEST = 100
MAX_VDN_ID = 9999


def caller_numbers_sender(
    client: ISalesClient, vdn: int, campaign: int, add_priority: int | None
) -> Sender:
    """Deletes the numbers, or adds them with ``add_priority`` when it is given."""
    numbers = client.caller_numbers
    if add_priority is not None:
        priority = add_priority
        return chunked(lambda chunk: numbers.add_chunks(vdn, campaign, chunk, priority=priority))
    return chunked(lambda chunk: numbers.delete_chunks(vdn, campaign, chunk))


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
    operation: Operation
    if adding:
        operation = AddCallerNumbers(vdn_id=vdn, campaign_id=campaign, priority=args.priority)
    else:
        operation = DeleteCallerNumbers(vdn_id=vdn, campaign_id=campaign)
    command = BulkCommand(job, NUMBERS_PER_REQUEST, args.rate_limit, operation)
    if args.dry_run:
        return dry(ctx, args, command)
    endpoint = ADD_CALLER_NO if adding else DELETE_CALLER_NO
    priority = args.priority if adding else None
    async with clients.isales(settings, redis, tuning(args, endpoint)) as client:
        send = caller_numbers_sender(client, vdn, campaign, priority)
        account = Account.isales(settings.base_url, settings.app_key)
        return await bulk(ctx, args, command, send, client, account)
