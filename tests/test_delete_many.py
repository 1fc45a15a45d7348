"""campaign_data.delete_many over real loopback HTTP against FakeCloudAgent: one result per
input under faults, lazy bounded reading, early stops, cancellation, progress, memory."""

from __future__ import annotations

import asyncio
import gc
import logging
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

import ozoasync
from ozoasync import (
    AuthenticationError,
    CampaignDataDeletion,
    CloudAgentClient,
    InProcessCoordination,
    InvalidParameterError,
    Outcome,
    Progress,
    RateLimit,
    RequestValidationError,
    RetryPolicy,
    ServerError,
)
from ozoasync.testing import FakeCloudAgent, Fault, FaultPlan

CAMPAIGN = "spring"
FAST_RETRY = RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05)
SDK_DIR = str(Path(ozoasync.__file__).parent)
EMULATOR_DIR = str(Path(ozoasync.__file__).parent / "testing")


def numbers(count: int, start: int = 9_000_000_000) -> list[str]:
    return [str(start + index) for index in range(count)]


def client_for(fake: FakeCloudAgent, **overrides: Any) -> CloudAgentClient:
    options: dict[str, Any] = {
        "base_url": fake.url,
        "retry": FAST_RETRY,
        "timeout": 2.0,
        "rate_limits": {"deleteCampaignData": None},
        "coordination": InProcessCoordination(),
    }
    options.update(overrides)
    return CloudAgentClient(fake.username, fake.api_key, **options)


async def collect(results: AsyncIterator[CampaignDataDeletion]) -> list[CampaignDataDeletion]:
    return [result async for result in results]


async def gather_into(
    results: AsyncIterator[CampaignDataDeletion], into: list[CampaignDataDeletion]
) -> None:
    """Like collect, keeping what came before an exception."""
    async for result in results:
        into.append(result)


def sdk_tasks() -> list[asyncio.Task[Any]]:
    """Tasks running ozoasync client code (the emulator's server tasks excluded)."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        filename = code.co_filename if code is not None else ""
        if filename.startswith(SDK_DIR) and not filename.startswith(EMULATOR_DIR):
            found.append(task)
    return found


async def no_sdk_task_left() -> bool:
    for _ in range(50):
        if not sdk_tasks():
            return True
        await asyncio.sleep(0)
    return False


class Source:
    """A lazy source of numbers that counts what was read and can act when an item is read."""

    def __init__(self, items: list[str], on_read: dict[int, Any] | None = None) -> None:
        self.items = items
        self.on_read = on_read or {}
        self.read = 0

    def __iter__(self) -> Iterator[str]:
        for item in self.items:
            action = self.on_read.get(self.read)
            if action is not None:
                action()
            self.read += 1
            yield item


# --- one result per input ------------------------------------------------------------------


async def test_deletes_present_numbers_and_reports_absent_ones(
    fake: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    present, absent = numbers(20), numbers(5, start=9_500_000_000)
    fake.add_campaign(CAMPAIGN, present)

    results = await collect(ca.campaign_data.delete_many(CAMPAIGN, present + absent))

    outcomes = {r.phone_number: r.outcome for r in results}
    assert outcomes == {n: Outcome.DELETED for n in present} | {
        n: Outcome.NOT_FOUND for n in absent
    }
    assert fake.campaigns[CAMPAIGN] == set()
    assert all(r.ok and r.error is None and r.attempts == 1 for r in results)
    assert len(fake.requests_to("deleteCampaignData")) == 25


async def test_accepts_an_async_iterable(fake: FakeCloudAgent, ca: CloudAgentClient) -> None:
    fake.add_campaign(CAMPAIGN, numbers(10))

    async def source() -> AsyncIterator[str]:
        for number in numbers(10):
            yield number

    results = await collect(ca.campaign_data.delete_many(CAMPAIGN, source(), concurrency=3))
    assert sorted(r.phone_number for r in results) == numbers(10)
    assert {r.outcome for r in results} == {Outcome.DELETED}


async def test_duplicates_are_sent_again_and_each_gets_a_result(
    fake: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    fake.add_campaign(CAMPAIGN, ["9000000001"])
    results = await collect(
        ca.campaign_data.delete_many(CAMPAIGN, ["9000000001", "9000000001"], concurrency=1)
    )
    assert [r.outcome for r in results] == [Outcome.DELETED, Outcome.NOT_FOUND]
    assert len(fake.requests_to("deleteCampaignData")) == 2


async def test_a_lost_answer_followed_by_no_record_found_counts_as_deleted(
    fake: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    fake.add_campaign(CAMPAIGN, ["9000000001"])
    fake.faults.queue(Fault.DROP_AFTER)
    [result] = await collect(ca.campaign_data.delete_many(CAMPAIGN, ["9000000001"]))
    assert result.outcome is Outcome.DELETED
    assert result.attempts == 2


async def test_yields_every_input_exactly_once_under_injected_faults() -> None:
    present = numbers(200)
    absent = numbers(40, start=9_500_000_000)
    inputs = [*present, *absent, *present[:20], "12ab", ""]
    faults = FaultPlan(rate=0.3, seed=7, slow_delay=0.3)
    async with FakeCloudAgent(faults=faults) as fake:
        fake.add_campaign(CAMPAIGN, present)
        async with client_for(
            fake, timeout=0.15, rate_limits={"deleteCampaignData": RateLimit(2000, 1.0)}
        ) as ca:
            results = await collect(
                ca.campaign_data.delete_many(CAMPAIGN, iter(inputs), concurrency=16)
            )
        remaining = set(fake.campaigns[CAMPAIGN])
    assert fake.counters["fault:drop_after"]
    assert fake.counters["fault:slow"]
    assert Counter(r.phone_number for r in results) == Counter(inputs)
    outcomes = {r.phone_number: r.outcome for r in results}
    # A present number sent once is deleted (a lost answer followed by "No Record Found"
    # included), or failed after every retry: never reported not found.
    assert {outcomes[n] for n in present[20:]} <= {Outcome.DELETED, Outcome.FAILED}
    by_outcome = Counter(r.outcome for r in results)
    assert by_outcome[Outcome.DELETED] >= 150
    for result in results:
        assert (result.error is not None) == (result.outcome is Outcome.FAILED)
        if result.outcome is not Outcome.FAILED:
            # Reported gone (deleted or not found) means gone.
            assert result.phone_number not in remaining
    # Whatever is still there was reported FAILED.
    failed = {r.phone_number for r in results if r.outcome is Outcome.FAILED}
    assert remaining <= failed


async def test_a_failing_number_is_reported_and_the_rest_go_on(
    fake: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    fake.add_campaign(CAMPAIGN, numbers(5))
    fake.faults.queue(Fault.SERVER_ERROR, FAST_RETRY.max_attempts)
    results = await collect(ca.campaign_data.delete_many(CAMPAIGN, numbers(5), concurrency=1))
    first, *rest = results
    assert first.outcome is Outcome.FAILED
    assert not first.ok
    assert isinstance(first.error, ServerError)
    assert first.attempts == FAST_RETRY.max_attempts
    assert [r.outcome for r in rest] == [Outcome.DELETED] * 4


# --- validation ----------------------------------------------------------------------------


async def test_a_bad_number_of_a_lazy_input_fails_alone_and_is_not_sent(
    fake: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    fake.add_campaign(CAMPAIGN, ["9000000001"])
    results = await collect(
        ca.campaign_data.delete_many(CAMPAIGN, iter(["98-76", "9000000001"]), concurrency=1)
    )
    bad, good = results
    assert bad.phone_number == "98-76"
    assert bad.outcome is Outcome.FAILED
    assert isinstance(bad.error, RequestValidationError)
    assert bad.error.field == "phone_numbers"
    assert bad.attempts == 0
    assert good.outcome is Outcome.DELETED
    assert [r.json()["phoneNumber"] for r in fake.requests] == ["9000000001"]


@pytest.mark.parametrize(
    ("campaign", "phone_numbers", "concurrency", "field"),
    [
        ("", ["9000000001"], 8, "campaign"),
        (CAMPAIGN, ["9000000001", "not a number"], 8, "phone_numbers"),
        (CAMPAIGN, [], 8, "phone_numbers"),
        (CAMPAIGN, ["9000000001"], 0, "concurrency"),
    ],
)
async def test_bad_arguments_raise_at_the_call_before_any_request(
    fake: FakeCloudAgent,
    ca: CloudAgentClient,
    campaign: str,
    phone_numbers: list[str],
    concurrency: int,
    field: str,
) -> None:
    with pytest.raises(RequestValidationError) as raised:
        ca.campaign_data.delete_many(campaign, phone_numbers, concurrency=concurrency)
    assert raised.value.field == field
    assert fake.requests == []


@pytest.mark.parametrize("phone_numbers", ["9000000001", 9000000001, iter([])])
async def test_a_bad_or_empty_source_raises_before_any_request(
    fake: FakeCloudAgent, ca: CloudAgentClient, phone_numbers: Any
) -> None:
    with pytest.raises(RequestValidationError) as raised:
        await collect(ca.campaign_data.delete_many(CAMPAIGN, phone_numbers))
    assert raised.value.field == "phone_numbers"
    assert fake.requests == []


# --- early stops ---------------------------------------------------------------------------


async def test_an_authentication_failure_mid_stream_stops_reading_and_raises(
    fake: FakeCloudAgent,
) -> None:
    fake.add_campaign(CAMPAIGN, numbers(1000))

    def rotate_key() -> None:
        fake.api_key = "rotated"

    source = Source(numbers(1000), on_read={20: rotate_key})
    results: list[CampaignDataDeletion] = []
    async with client_for(fake) as ca:
        stream = ca.campaign_data.delete_many(CAMPAIGN, source, concurrency=4)
        with pytest.raises(AuthenticationError) as raised:
            await gather_into(stream, results)

    # Whatever was read got its result, the failures included; nothing past the read-ahead
    # was read, nothing unread was sent.
    assert Counter(r.phone_number for r in results) == Counter(numbers(1000)[: source.read])
    assert source.read <= 20 + 4
    assert len(fake.requests_to("deleteCampaignData")) == source.read
    failures = [r for r in results if r.outcome is Outcome.FAILED]
    assert failures
    assert all(isinstance(r.error, AuthenticationError) for r in failures)
    # The raised error is the failure's, built whole again with the partial result.
    assert str(raised.value) == str(failures[0].error)
    assert failures[0].error.partial is None
    assert raised.value.partial == Progress(
        done=len(results),
        deleted=len(results) - len(failures),
        failed=len(failures),
        rate=raised.value.partial.rate,  # type: ignore[union-attr]
    )
    assert await no_sdk_task_left()


async def test_an_unknown_campaign_stops_after_the_requests_in_flight(
    fake: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    source = Source(numbers(1000))
    results: list[CampaignDataDeletion] = []
    stream = ca.campaign_data.delete_many("autumn", source, concurrency=4)
    with pytest.raises(InvalidParameterError, match="Passed campaign are invalid"):
        await gather_into(stream, results)
    assert 1 <= len(results) == source.read <= 4
    assert all(r.outcome is Outcome.FAILED for r in results)


# --- cancellation --------------------------------------------------------------------------


async def test_breaking_out_early_leaves_no_pending_task(
    fake: FakeCloudAgent, ca: CloudAgentClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    fake.add_campaign(CAMPAIGN, numbers(100))
    source = Source(numbers(100))
    async for _ in ca.campaign_data.delete_many(CAMPAIGN, source, concurrency=8):
        break
    read_at_break = source.read
    assert read_at_break <= 8 + 1
    assert await no_sdk_task_left()
    # Nothing more is read or sent afterwards (requests already on the wire may still land).
    await asyncio.sleep(0.05)
    assert source.read == read_at_break
    assert len(fake.requests_to("deleteCampaignData")) <= read_at_break
    gc.collect()
    assert not caplog.records  # no "Task was destroyed but it is pending!"


async def test_aclosing_cancels_the_requests_in_flight_at_once(
    fake: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    fake.add_campaign(CAMPAIGN, numbers(100))
    async with aclosing(ca.campaign_data.delete_many(CAMPAIGN, numbers(100))) as results:
        async for _ in results:
            break
    assert sdk_tasks() == []


async def test_cancelling_the_consumer_cancels_the_requests_in_flight(
    fake: FakeCloudAgent, ca: CloudAgentClient
) -> None:
    fake.add_campaign(CAMPAIGN, numbers(100))
    first = asyncio.Event()
    got: list[CampaignDataDeletion] = []

    async def consume() -> None:
        async for result in ca.campaign_data.delete_many(CAMPAIGN, numbers(100)):
            got.append(result)
            first.set()

    consumer = asyncio.create_task(consume())
    await first.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert sdk_tasks() == []
    assert len(got) < 100


# --- rate limit, progress, memory ----------------------------------------------------------


async def test_concurrent_requests_stay_under_the_rate_limit() -> None:
    async with FakeCloudAgent(rate_limits={"deleteCampaignData": (10, 0.5)}) as fake:
        fake.add_campaign(CAMPAIGN, numbers(30))
        limit = {"deleteCampaignData": RateLimit(10, 0.5)}
        async with client_for(fake, rate_limits=limit) as ca:
            results = await collect(ca.campaign_data.delete_many(CAMPAIGN, numbers(30)))
    assert {r.outcome for r in results} == {Outcome.DELETED}
    assert fake.counters["rejected"] == 0


async def test_progress_counts_add_up(fake: FakeCloudAgent, ca: CloudAgentClient) -> None:
    fake.add_campaign(CAMPAIGN, numbers(30))
    inputs = [*numbers(40), "bad"]
    reports: list[Progress] = []
    results: list[CampaignDataDeletion] = []
    async for result in ca.campaign_data.delete_many(
        CAMPAIGN, iter(inputs), on_progress=reports.append
    ):
        # Reported before the result is handed over.
        assert reports[-1].done == len(results) + 1
        results.append(result)
    assert [r.done for r in reports] == list(range(1, 42))
    last = reports[-1]
    assert (last.deleted, last.not_found, last.failed) == (30, 10, 1)
    assert last.deleted + last.not_found + last.failed == last.done
    assert last.rate > 0


async def test_memory_stays_flat_over_50_000_numbers(ca: CloudAgentClient) -> None:
    # delete_many's own layer (reading, checking, progress, the stop rule, the engine) over
    # 50,000 numbers; the single-number delete is answered at once, as 50,000 loopback
    # requests would not fit the CI budget (the HTTP path is measured below).
    async def deleted(campaign: str, phone_number: str, name: str | None) -> CampaignDataDeletion:
        return CampaignDataDeletion(phone_number=phone_number, outcome=Outcome.DELETED)

    ca.campaign_data._delete = deleted  # type: ignore[method-assign]

    def source(count: int) -> Iterator[str]:
        for index in range(count):
            yield str(9_000_000_000 + index)

    checkpoint, total = 5_000, 50_000
    progress: list[int] = []
    tracemalloc.start()
    try:
        done = 0
        async for _ in ca.campaign_data.delete_many(
            CAMPAIGN,
            source(total),
            on_progress=lambda p: progress.append(p.done) if p.done == total else None,
        ):
            done += 1
            if done == checkpoint:
                peak_at_checkpoint = tracemalloc.get_traced_memory()[1]
        peak_at_end = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert done == total
    assert progress == [total]
    # Ten times the numbers, the same peak: anything kept per number would show.
    assert peak_at_end < 2 * peak_at_checkpoint, (peak_at_checkpoint, peak_at_end)


async def test_memory_stays_flat_over_http(fake: FakeCloudAgent, ca: CloudAgentClient) -> None:
    # The HTTP path keeps nothing per number either.
    fake.add_campaign(CAMPAIGN)

    def source(count: int) -> Iterator[str]:
        for index in range(count):
            yield str(9_000_000_000 + index)

    await collect(ca.campaign_data.delete_many(CAMPAIGN, source(200)))  # warm up the pool
    checkpoint, total = 1_000, 4_000
    # Each "No Record Found" leaves a reference cycle (exception, traceback, frames) that only
    # a full collection frees, and when one runs depends on the rest of the heap: the test
    # collects every 200 numbers, so the peak shows what is kept, not when the interpreter last
    # swept. (Frozen: the collections skip the objects that were there before.)
    gc.freeze()
    tracemalloc.start()
    try:
        done = 0
        async for _ in ca.campaign_data.delete_many(CAMPAIGN, source(total)):
            done += 1
            if done % 200 == 0:
                fake.requests.clear()  # the emulator's own record is not the SDK's memory
                gc.collect()
            if done == checkpoint:
                peak_at_checkpoint = tracemalloc.get_traced_memory()[1]
        peak_at_end = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.unfreeze()
    assert done == total
    # Four times the numbers, the same peak: a few dozen bytes kept per number would show.
    assert peak_at_end < 1.2 * peak_at_checkpoint, (peak_at_checkpoint, peak_at_end)
