"""The CloudAgent commands: campaign-data delete, block-numbers delete, scheduled-data delete,
phones edit."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from .. import CloudAgentClient, NotFoundError, RateLimit, validation
from ..cloudagent.block_numbers import CHUNK_SIZE
from ..cloudagent.client import DEFAULT_RATE_LIMITS
from ..jobs import Account, DeleteBlockNumbers, DeleteCampaignData
from ..results import CampaignDataDeletion
from ..row_ids import compact_row_ids
from . import clients, config, inputs
from .bulk import Job, Sender, Sink
from .common import BulkCommand, Context, UsageError, bulk, chunked, dry, tuning
from .endpoints import BLOCK_NUMBERS, CAMPAIGN_DATA
from .tally import EXIT_FAILED, EXIT_OK, Item, one_line


def deletion_item(result: CampaignDataDeletion) -> Item:
    message = result.message or (str(result.error) if result.error is not None else "")
    return Item(result.phone_number, result.outcome, one_line(message), result.attempts)


def campaign_data_sender(ca: CloudAgentClient, campaign: str, concurrency: int) -> Sender:
    async def send(numbers: Iterator[str], sink: Sink) -> None:
        async for result in ca.campaign_data.delete_many(
            campaign, numbers, concurrency=concurrency
        ):
            sink([deletion_item(result)])

    return send


def block_numbers_sender(ca: CloudAgentClient, group: int) -> Sender:
    return chunked(lambda numbers: ca.block_numbers.delete_chunks(group, numbers))


def campaign_data_command(campaign: str, limit: RateLimit | None) -> BulkCommand:
    job = Job("campaign-data delete", f"campaign={campaign}", validation.phone_number)
    rate = limit or DEFAULT_RATE_LIMITS[CAMPAIGN_DATA]
    return BulkCommand(job, 1, rate, DeleteCampaignData(campaign=campaign))


async def campaign_data_delete(args: argparse.Namespace, ctx: Context) -> int:
    settings = config.cloudagent_settings(ctx.env)
    redis = config.redis_settings(ctx.env)
    campaign = validation.non_empty_text(args.campaign, "--campaign")
    command = campaign_data_command(campaign, args.rate_limit)
    if args.dry_run:
        return dry(ctx, args, command)

    async with clients.cloudagent(settings, redis, tuning(args, CAMPAIGN_DATA)) as ca:
        send = campaign_data_sender(ca, campaign, args.concurrency)
        return await bulk(ctx, args, command, send, ca, Account.of(ca))


async def block_numbers_delete(args: argparse.Namespace, ctx: Context) -> int:
    settings = config.cloudagent_settings(ctx.env)
    redis = config.redis_settings(ctx.env)
    group = args.group
    job = Job("block-numbers delete", f"group={group}", validation.phone_number)
    command = BulkCommand(job, CHUNK_SIZE, args.rate_limit, DeleteBlockNumbers(group_id=group))
    if args.dry_run:
        return dry(ctx, args, command)

    async with clients.cloudagent(settings, redis, tuning(args, BLOCK_NUMBERS)) as ca:
        send = block_numbers_sender(ca, group)
        return await bulk(ctx, args, command, send, ca, Account.of(ca))


def row_ids_of(args: argparse.Namespace, ctx: Context) -> str:
    """The row ids of the arguments and of --file, in the vendor's compact form."""
    parts = list(args.row_ids)
    if args.file is not None:
        parts += inputs.read(inputs.Source(args.file), ctx.stdin.buffer)
    if not parts:
        raise UsageError("give ROW_IDS (e.g. 7 2,3,5 3-10) or --file")
    return compact_row_ids(",".join(parts))


async def scheduled_data_delete(args: argparse.Namespace, ctx: Context) -> int:
    settings = config.cloudagent_settings(ctx.env)
    redis = config.redis_settings(ctx.env)
    row_ids = row_ids_of(args, ctx)
    if args.dry_run:
        ctx.out.print(f"dry run: would delete scheduled rows {row_ids} in 1 request")
        return EXIT_OK
    async with clients.cloudagent(settings, redis, tuning(args)) as ca:
        try:
            result = await ca.scheduled_data.delete(row_ids)
        except NotFoundError:
            ctx.out.print(
                f"no scheduled rows matched {row_ids}: the server answered 'No data found' "
                "(which it also answers for a wrong API key)"
            )
            return EXIT_OK
    ctx.out.print(f"deleted scheduled rows {result.row_ids}: {one_line(result.message)}")
    return EXIT_OK


async def phones_edit(args: argparse.Namespace, ctx: Context) -> int:
    settings = config.cloudagent_settings(ctx.env)
    redis = config.redis_settings(ctx.env)
    number = validation.phone_number(args.number, "--number")
    new_number = validation.phone_number(args.new_number, "--new-number")
    validation.non_empty_text(args.name, "--name")
    validation.skill_names(args.assign_skill, "--assign-skill")
    validation.skill_names(args.unassign_skill, "--unassign-skill")
    change = f"phone {number} ({args.name}) -> {new_number}"
    if args.new_name:
        change += f" ({args.new_name})"
    if args.dry_run:
        ctx.out.print(f"dry run: would edit {change} in 1 request")
        return EXIT_OK
    async with clients.cloudagent(settings, redis, tuning(args)) as ca:
        result = await ca.phones.edit(
            number,
            args.name,
            new_phone_number=new_number,
            new_phone_name=args.new_name,
            assign_skills=args.assign_skill,
            unassign_skills=args.unassign_skill,
        )
    ctx.out.print(f"edited {change}: {one_line(result.message)}")
    if not result.skills_applied:
        ctx.out.print("the server accepted the edit but rejected the skills", style="bold red")
        return EXIT_FAILED
    return EXIT_OK
