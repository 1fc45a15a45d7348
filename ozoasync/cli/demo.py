"""``ozoasync demo``: a whole bulk cleanup against the emulators, in-process, with no account
and no network. Time runs 60x faster than at the vendor: the emulator enforces 100
deleteCampaignData requests per second (the vendor's 100 per minute), and the client keeps
to that limit, so thousands of numbers take well under a minute."""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from rich.table import Table

from .. import (
    CloudAgentClient,
    InProcessCoordination,
    ISalesClient,
    Outcome,
    RateLimit,
    RetryPolicy,
    validation,
)
from ..testing import FakeCloudAgent, FakeISales, FaultPlan
from . import endpoints
from . import scenario as data
from .bulk import BulkRun, Job, Outputs, Sender, run_bulk
from .cloudagent import block_numbers_sender, campaign_data_sender
from .common import Context
from .isales import caller_numbers_job, caller_numbers_sender
from .summary import duration_text
from .tally import EXIT_FAILED, EXIT_OK, LABELS

DEMO_LIMIT = RateLimit(100, 1.0)  # the vendor's 100 per minute, 60x faster
FAULT_RATE = 0.03
# Quick retries: the emulator's faults are brief, and the demo's clock runs fast.
DEMO_RETRY = RetryPolicy(max_attempts=5, initial_delay=0.05, max_delay=0.5)
DEMO_TIMEOUT = 1.0  # the emulator's slow answers (1.5 s) time out, as a stuck server would


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the final table."""

    name: str
    requests: int
    result: str
    elapsed: float
    failed: int


def run_result(run: BulkRun) -> str:
    shown = (Outcome.DELETED, Outcome.ADDED, Outcome.NOT_FOUND, Outcome.PARTLY_CONFIRMED)
    parts = [f"{run.tally.counts[s]:,} {LABELS[s]}" for s in shown if run.tally.counts[s]]
    parts.append(f"{run.tally.failed:,} failed")
    if run.error is not None:
        parts.append(f"stopped: {run.error}")
    return " · ".join(parts)


class Demo:
    def __init__(self, ctx: Context, scenario: data.Scenario) -> None:
        self.ctx = ctx
        self.scenario = scenario
        self.steps: list[Step] = []
        self.faults = FaultPlan(
            rate=FAULT_RATE, endpoints=frozenset({endpoints.CAMPAIGN_DATA}), seed=7, slow_delay=1.5
        )
        self.cloud = FakeCloudAgent(
            rate_limits={endpoints.CAMPAIGN_DATA: (DEMO_LIMIT.max_requests, DEMO_LIMIT.period)},
            faults=self.faults,
        )
        self.isales = FakeISales()

    def requests(self, *endpoints: str) -> int:
        return sum(
            1
            for server in (self.cloud, self.isales)
            for request in server.requests
            if request.endpoint in endpoints
        )

    async def bulk_step(
        self, name: str, job: Job, send: Sender, numbers: list[str], endpoint: str
    ) -> None:
        before = self.requests(endpoint)
        run = await run_bulk(
            replace(job, verb=name), send, numbers, Outputs(), self.ctx.err, self.ctx.interruption
        )
        failed = run.tally.failed + (run.error is not None)
        sent = self.requests(endpoint) - before
        self.steps.append(Step(name, sent, run_result(run), run.elapsed, failed))

    async def single_step(
        self, name: str, endpoint: str, action: Callable[[], Awaitable[str]]
    ) -> None:
        before = self.requests(endpoint)
        started = time.monotonic()
        result = await action()
        elapsed = time.monotonic() - started
        self.steps.append(Step(name, self.requests(endpoint) - before, result, elapsed, 0))

    def introduce(self) -> None:
        s = self.scenario
        self.ctx.out.print(
            f"[bold]ozoasync demo[/] · no account, no network: the CloudAgent and CC-iSales "
            f"emulators run in this process ({self.cloud.url}, {self.isales.url}).\n"
            f"Campaign '{data.CAMPAIGN}' holds {s.campaign_size:,} numbers; the cleanup list "
            f"has {s.campaign_size + s.gone:,} ({s.gone:,} are already gone).\n"
            f"The vendor allows 100 deleteCampaignData requests per minute; here time runs "
            f"60x faster (100 per second, enforced strictly by the emulator), and "
            f"{FAULT_RATE:.0%} of those requests meet a fault (5xx page, dropped connection, "
            f"stuck or broken answer).\n"
        )

    async def run(self, ca: CloudAgentClient, isales: ISalesClient) -> None:
        s = self.scenario
        await self.bulk_step(
            "campaign data",
            Job("campaign-data delete", f"campaign={data.CAMPAIGN}", validation.phone_number),
            campaign_data_sender(ca, data.CAMPAIGN, concurrency=8),
            s.cleanup_list,
            endpoints.CAMPAIGN_DATA,
        )
        await self.bulk_step(
            "block numbers",
            Job("block-numbers delete", f"group={data.BLOCK_GROUP}", validation.phone_number),
            block_numbers_sender(ca, data.BLOCK_GROUP),
            s.block_numbers,
            endpoints.BLOCK_NUMBERS,
        )

        async def delete_rows() -> str:
            before = len(self.cloud.scheduled_rows)
            result = await ca.scheduled_data.delete(data.SCHEDULED_DELETE)
            deleted = before - len(self.cloud.scheduled_rows)
            return f"{deleted} rows deleted ({result.row_ids})"

        await self.single_step("scheduled data", endpoints.SCHEDULED_DATA, delete_rows)

        async def edit_phone() -> str:
            (number, name), (new_number, new_name) = data.PHONE, data.PHONE_NEW
            result = await ca.phones.edit(
                number,
                name,
                new_phone_number=new_number,
                new_phone_name=new_name,
                assign_skills=[data.SKILLS[1]],
            )
            skills = "skills applied" if result.skills_applied else "skills REJECTED"
            return f"{number} ({name}) -> {new_number} ({new_name}), {skills}"

        await self.single_step("phone edit", endpoints.PHONES, edit_phone)
        vdn, campaign = data.ISALES_VDN, data.ISALES_CAMPAIGN
        await self.bulk_step(
            "iSales caller numbers",
            caller_numbers_job("delete", vdn, campaign),
            caller_numbers_sender(isales, vdn, campaign, None),
            s.isales_numbers[: s.isales_delete],
            endpoints.DELETE_CALLER_NO,
        )
        await self.bulk_step(
            "iSales caller numbers",
            caller_numbers_job("add", vdn, campaign),
            caller_numbers_sender(isales, vdn, campaign, 2),
            s.isales_additions,
            endpoints.ADD_CALLER_NO,
        )

    def summarise(self, elapsed: float) -> None:
        out = self.ctx.out
        table = Table(title="ozoasync demo: summary", title_justify="left")
        table.add_column("step")
        table.add_column("requests", justify="right")
        table.add_column("result")
        table.add_column("time", justify="right")
        for step in self.steps:
            table.add_row(step.name, f"{step.requests:,}", step.result, duration_text(step.elapsed))
        out.print(table)
        counters = self.cloud.counters
        faulty = [r.fault for r in self.cloud.requests if r.fault is not None]
        acted = sum(fault.acts for fault in faulty)
        left = len(self.cloud.campaigns[data.CAMPAIGN])
        out.print(
            f"The CloudAgent emulator saw {counters['requests']:,} requests: {len(faulty)} met "
            f"an injected fault and were retried ({acted} after the server had acted: the "
            f"retry's 'No Record Found' then counts as deleted, the record being gone either "
            f"way); {counters['rejected']} were refused by its rate limit. Campaign "
            f"'{data.CAMPAIGN}' now holds {left} of its {self.scenario.campaign_size:,} "
            f"numbers. Total time {duration_text(elapsed)}."
        )
        out.print(
            "Next: run the same operations on your account with "
            "`ozoasync campaign-data delete --campaign NAME numbers.txt` (see `ozoasync -h`), "
            "or serve these emulators with `ozoasync emulator`."
        )


async def demo(args: argparse.Namespace, ctx: Context) -> int:
    scenario = data.FAST if args.fast else data.FULL
    show = Demo(ctx, scenario)
    scenario.seed_cloudagent(show.cloud)
    scenario.seed_isales(show.isales)
    started = time.monotonic()
    async with (
        show.cloud,
        show.isales,
        CloudAgentClient(
            show.cloud.username,
            show.cloud.api_key,
            base_url=show.cloud.url,
            rate_limits={endpoints.CAMPAIGN_DATA: DEMO_LIMIT},
            coordination=InProcessCoordination(),
            retry=DEMO_RETRY,
            timeout=DEMO_TIMEOUT,
        ) as ca,
        ISalesClient(
            show.isales.url,
            show.isales.app_key,
            show.isales.app_secret,
            retry=DEMO_RETRY,
            timeout=DEMO_TIMEOUT,
        ) as isales,
    ):
        show.introduce()
        await show.run(ca, isales)
    show.summarise(time.monotonic() - started)
    return EXIT_FAILED if any(step.failed for step in show.steps) else EXIT_OK
