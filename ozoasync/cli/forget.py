"""``ozoasync forget --campaigns A,B,... [--scheduled] FILE``: make each number disappear
from the given campaigns and, with ``--scheduled``, from every scheduled call of the account.

Campaigns: DeleteBulkData (100 numbers x 100 campaigns per request, 2 requests a minute,
one in flight per account). An account without DeleteBulkData (the server answers it with
HTTP 404 or 405, or says the API is not enabled) costs one refused request: the run goes on
with deleteCampaignData per number and campaign (100 a minute), as ``--per-number`` asks
from the start. Scheduled data: per batch of numbers one listing, then one
deleteScheduledData of the matching rows, whatever their campaign. The report has one line
per number and place (``campaign=NAME`` or ``scheduled``).

Without ``--journal`` the numbers are held in memory (one list for every place): meant for
erasure and do-not-call lists. With ``--journal`` each place is a job of the store, so a
re-run resumes and memory stays flat for any input size: ``NAME campaigns=A,B`` (one
DeleteBulkData row per number, for every campaign at once; at most 100 campaigns), or after
a fallback or with ``--per-number`` ``NAME campaign=A``, ``NAME campaign=B``, ... (one
deleteCampaignData row per number); and ``NAME scheduled``. NAME is ``--job`` (default
``forget``). The input is submitted into the first job; the other jobs take its numbers from
the store.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass

from .. import BulkDataUnavailableError, CloudAgentClient, validation
from ..cloudagent import wire
from ..cloudagent.client import DEFAULT_RATE_LIMITS
from ..errors import OzoError
from ..jobs import (
    Account,
    DeleteBulkData,
    DeleteCampaignData,
    DeleteScheduledData,
    JobNotFoundError,
    JobStore,
    Operation,
    open_store,
)
from ..jobs.operations import SCHEDULED_BATCH, scheduled_result
from ..results import ScheduledNumberResult
from . import clients, config, inputs
from .bulk import BulkRun, Job, Outputs, Sender, Sink, close_reports, run_bulk, sendable
from .common import Context, UsageError, finish, record, source_of, tuning
from .endpoints import BULK_DATA, CAMPAIGN_DATA
from .interrupt import Interruption
from .progress import LiveProgress
from .report import JsonLinesStream, Report, open_report
from .stored import follow, row_item, submitted_lines
from .summary import print_dry_run
from .tally import EXIT_FAILED, EXIT_OK, Item, Skip, one_line

SCHEDULED = "scheduled"
DEFAULT_JOB = "forget"


def campaign_list(text: str) -> list[str]:
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise UsageError("--campaigns: give at least one campaign name (A,B,...)")
    return [validation.non_empty_text(name, "--campaigns") for name in names]


def scheduled_item(result: ScheduledNumberResult) -> Item:
    number = scheduled_result(result)
    return Item(number.number, number.outcome, one_line(number.message), place=SCHEDULED)


def fallback_note(ctx: Context, error: BulkDataUnavailableError) -> None:
    ctx.err.print(
        f"ozoasync: DeleteBulkData is not available to this account ({one_line(str(error))}): "
        "deleting per number and campaign with deleteCampaignData (--per-number skips the try)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def forget_sender(
    ctx: Context, ca: CloudAgentClient, campaigns: list[str], *, scheduled: bool, per_number: bool
) -> Sender:
    async def per_campaign(wanted: list[str], sink: Sink) -> None:
        for campaign in campaigns:
            async for result in ca.campaign_data.delete_many(campaign, wanted):
                message = result.message or (str(result.error) if result.error else "")
                item = Item(
                    result.phone_number,
                    result.outcome,
                    one_line(message),
                    result.attempts,
                    place=f"campaign={campaign}",
                )
                sink([item])

    async def across(wanted: list[str], sink: Sink) -> None:
        async for chunk in ca.campaign_data.delete_across(campaigns, wanted):
            if any(isinstance(item.error, BulkDataUnavailableError) for item in chunk.items):
                continue  # raised next; its numbers go per number instead
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

    async def send(numbers: Iterator[str], sink: Sink) -> None:
        wanted = list(numbers)
        if per_number:
            await per_campaign(wanted, sink)
        else:
            try:
                await across(wanted, sink)
            except BulkDataUnavailableError as error:
                # Refused before anything was deleted: its numbers were not reported.
                fallback_note(ctx, error)
                await per_campaign(wanted, sink)
        if scheduled:
            deletion = await ca.scheduled_data.delete_for(wanted)
            sink([scheduled_item(result) for result in deletion.items])

    return send


@dataclass(frozen=True, slots=True)
class Place:
    """One job of a journaled forget: its operation, its name, and the report's places of
    each of its rows (several for DeleteBulkData: one answer for every campaign)."""

    operation: Operation
    name: str
    places: tuple[str, ...]


def bulk_place(base: str, campaigns: list[str]) -> Place:
    return Place(
        DeleteBulkData(campaigns=tuple(campaigns)),
        f"{base} campaigns={','.join(campaigns)}",
        tuple(f"campaign={campaign}" for campaign in campaigns),
    )


def per_number_places(base: str, campaigns: list[str]) -> list[Place]:
    return [
        Place(DeleteCampaignData(campaign=c), f"{base} campaign={c}", (f"campaign={c}",))
        for c in campaigns
    ]


async def exists(store: JobStore, name: str) -> bool:
    try:
        await store.job(name)
    except JobNotFoundError:
        return False
    return True


async def numbers_of(store: JobStore, name: str) -> AsyncIterator[str]:
    """The valid numbers of a job, read from the store page by page."""
    async for row in store.results(name):
        if not row.invalid:
            yield row.number


class StoredForget:
    """A journaled forget: one job per place (see the module docstring), worked in turn."""

    def __init__(
        self,
        ctx: Context,
        store: JobStore,
        ca: CloudAgentClient,
        run: BulkRun,
        *,
        concurrency: int,
        lease: float,
    ) -> None:
        self._ctx = ctx
        self._store = store
        self._ca = ca
        self._run = run
        self._account = Account.of(ca)
        self._concurrency = concurrency
        self._lease = lease
        #: The jobs whose rows make the report, in order.
        self.places: list[Place] = []
        self._first: str | None = None

    async def add(self, place: Place, lines: Iterator[str] | None = None) -> None:
        """Submit the place's job: the input lines into the first, the first job's numbers
        into the others."""
        numbers = lines if self._first is None else numbers_of(self._store, self._first)
        assert numbers is not None
        await self._store.submit(place.operation, numbers, account=self._account, name=place.name)
        self._first = self._first or place.name
        self.places.append(place)

    def replace(self, place: Place, by: list[Place]) -> None:
        """``place``'s numbers went to the jobs ``by``: the report shows those instead."""
        kept = [each for each in self.places if each not in by]
        index = kept.index(place)
        self.places = kept[:index] + by + kept[index + 1 :]

    async def work(self, place: Place, interruption: Interruption) -> None:
        with LiveProgress(self._ctx.err, f"deleting ({place.places[0]}…)") as bar:
            following = asyncio.create_task(follow(self._store, place.name, bar))
            try:
                work = self._store.work(
                    place.name,
                    self._ca,
                    concurrency=self._concurrency,
                    lease=self._lease,
                    retry_failed=True,
                )
                await interruption.graceful(work, grace=0.0)
            finally:
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await following

    async def record(self, outputs: Outputs) -> None:
        """The report from the store: one line per number and place, every job's rows."""
        reports: list[Report] = []
        if outputs.report is not None:
            job = self._run.job
            reports.append(open_report(outputs.report, job.operation, job.scope))
        if outputs.stream is not None:
            reports.append(JsonLinesStream(outputs.stream))
        tally = self._run.tally
        try:
            for index, place in enumerate(self.places):
                if index == 0:
                    status = await self._store.status(place.name)
                    tally.counts[Skip.DUPLICATE] += status.duplicates
                    self._run.to_send = status.total - status.invalid
                async for row in self._store.results(place.name):
                    item = row_item(row)
                    # An invalid line is one line, not one per place.
                    wheres: Sequence[str] = ("",) if row.invalid else place.places
                    items = [
                        Item(item.number, item.fate, item.message, item.attempts, place=where)
                        for where in wheres
                    ]
                    for one in items:
                        tally.add(one)
                    for report in reports:
                        report.write(items)
        finally:
            close_reports(reports, tally)


async def forget_stored(
    ctx: Context,
    args: argparse.Namespace,
    ca: CloudAgentClient,
    campaigns: list[str],
    outputs: Outputs,
    run: BulkRun,
) -> None:
    assert outputs.journal is not None
    base = validation.non_empty_text(args.job, "--job") if args.job else DEFAULT_JOB
    started = time.monotonic()
    async with await open_store(outputs.journal) as store:
        flow = StoredForget(
            ctx, store, ca, run, concurrency=getattr(args, "concurrency", 1), lease=args.lease
        )
        per_number = args.per_number or await exists(store, f"{base} campaign={campaigns[0]}")
        places = per_number_places(base, campaigns) if per_number else [bulk_place(base, campaigns)]
        if args.scheduled:
            places.append(Place(DeleteScheduledData(), f"{base} {SCHEDULED}", (SCHEDULED,)))
        lines = submitted_lines(source_of(args, ctx), run.job, run)
        for place in places:
            await flow.add(place, lines)
        todo = list(places)
        try:
            while todo and ctx.interruption.signum is None:
                place = todo.pop(0)
                try:
                    await flow.work(place, ctx.interruption)
                except BulkDataUnavailableError as error:
                    # Its numbers went back to pending, unsent; the per-number jobs take them,
                    # and a re-run goes straight to those.
                    fallback_note(ctx, error)
                    fallback = per_number_places(base, campaigns)
                    for each in fallback:
                        await flow.add(each)
                    flow.replace(place, fallback)
                    todo[:0] = fallback
        except OzoError as error:
            run.error = error
        run.stopped_by = ctx.interruption.signum
        run.elapsed = time.monotonic() - started
        await flow.record(outputs)
    run.job_name = " · ".join(place.name for place in flow.places)


def forget_dry(ctx: Context, args: argparse.Namespace, job: Job, campaigns: list[str]) -> int:
    """--dry-run: the input counted as a real run reads it, and the requests it would send
    (the estimate of the time is the campaigns' part); nothing is sent or written."""
    run = BulkRun(job)
    for _ in sendable(source_of(args, ctx), job, run, record(run), ctx.interruption):
        pass
    if run.lines_read == 0:
        raise inputs.InputError("the input holds no numbers")
    if args.per_number:
        endpoint, requests = CAMPAIGN_DATA, run.to_send * len(campaigns)
    else:
        groups = math.ceil(len(campaigns) / wire.MAX_BULK_CAMPAIGNS)
        endpoint = BULK_DATA
        requests = math.ceil(run.to_send / wire.MAX_BULK_NUMBERS) * groups
    if args.scheduled and run.to_send:
        # A listing and a deletion; with --journal per batch of numbers.
        batches = math.ceil(run.to_send / SCHEDULED_BATCH) if args.journal else 1
        requests += 2 * batches
    print_dry_run(ctx.out, run, requests, args.rate_limit or DEFAULT_RATE_LIMITS[endpoint])
    return EXIT_FAILED if run.tally.failed else EXIT_OK


async def forget(args: argparse.Namespace, ctx: Context) -> int:
    settings = config.cloudagent_settings(ctx.env)
    redis = config.redis_settings(ctx.env)
    campaigns = campaign_list(args.campaigns)
    too_many = len(campaigns) > wire.MAX_BULK_CAMPAIGNS
    if args.journal is not None and not args.per_number and too_many:
        raise UsageError(
            f"forget --journal takes at most {wire.MAX_BULK_CAMPAIGNS} campaigns "
            "(or --per-number): split the list"
        )
    places = ",".join(campaigns) + (" + scheduled" if args.scheduled else "")
    job = Job("forget", f"campaigns={places}", validation.phone_number)
    if args.dry_run:
        return forget_dry(ctx, args, job, campaigns)
    endpoint = CAMPAIGN_DATA if args.per_number else BULK_DATA
    stream = ctx.out.file if args.output == "jsonl" else None
    outputs = Outputs(journal=args.journal, report=args.report, stream=stream)
    async with clients.cloudagent(settings, redis, tuning(args, endpoint)) as ca:
        if args.journal is not None:
            run = BulkRun(job)
            await forget_stored(ctx, args, ca, campaigns, outputs, run)
            return finish(ctx, args, run)
        send = forget_sender(
            ctx, ca, campaigns, scheduled=args.scheduled, per_number=args.per_number
        )
        run = await run_bulk(job, send, source_of(args, ctx), outputs, ctx.err, ctx.interruption)
    return finish(ctx, args, run)
