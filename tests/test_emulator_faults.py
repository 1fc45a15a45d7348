"""The emulator's fault injection and strict rate limits, seen from a raw HTTP client, and
aiohttp's hidden re-send of idempotent requests, which the SDK turns off."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest

from ozoasync import CloudAgentClient, InProcessCoordination, RetryPolicy, TransportError
from ozoasync.testing import TRANSPORT_FAULTS, FakeCloudAgent, Fault, FaultPlan
from ozoasync.testing.readings import max_in_window
from ozoasync.transport.http import _disable_hidden_resend

CAMPAIGN = "spring"
NUMBERS = [f"900000000{i}" for i in range(6)]
ENDPOINT = "deleteCampaignData"
SLOW_DELAY = 0.5


# --- the fault plan ------------------------------------------------------------------------------


def test_queued_faults_come_first_and_keep_to_their_endpoint() -> None:
    plan = FaultPlan(rate=1.0, kinds=(Fault.SERVER_ERROR,))
    plan.queue(Fault.HTML, endpoint="deleteScheduledData")
    plan.queue(Fault.DROP_AFTER, 2)
    assert plan.choose(ENDPOINT) is Fault.DROP_AFTER
    assert plan.choose("deleteScheduledData") is Fault.HTML
    assert plan.choose(ENDPOINT) is Fault.DROP_AFTER
    assert plan.choose(ENDPOINT) is Fault.SERVER_ERROR  # the queue is empty: random ones


def test_random_faults_are_repeatable_and_at_the_asked_rate() -> None:
    def draw(plan: FaultPlan) -> list[Fault | None]:
        return [plan.choose(ENDPOINT) for _ in range(4000)]

    first = draw(FaultPlan(rate=0.12, seed=3))
    assert first == draw(FaultPlan(rate=0.12, seed=3))
    assert first != draw(FaultPlan(rate=0.12, seed=4))
    share = sum(f is not None for f in first) / len(first)
    assert 0.10 <= share <= 0.14
    # A random plan draws from the transport faults unless given other kinds.
    assert set(first) == {None, *TRANSPORT_FAULTS}


def test_random_faults_keep_to_their_kinds_and_endpoints() -> None:
    plan = FaultPlan(rate=1.0, kinds=(Fault.SLOW,), endpoints=frozenset({ENDPOINT}))
    assert {plan.choose(ENDPOINT) for _ in range(50)} == {Fault.SLOW}
    assert {plan.choose("PhoneManageV2") for _ in range(50)} == {None}
    assert {FaultPlan().choose(ENDPOINT) for _ in range(50)} == {None}


@pytest.mark.parametrize(
    ("fault", "acts"),
    [
        (Fault.SERVER_ERROR, False),
        (Fault.DROP_BEFORE, False),
        (Fault.HTML, False),
        (Fault.DROP_AFTER, True),
        (Fault.SLOW, True),
        (Fault.TRUNCATED, True),
        (Fault.GATEWAY_TIMEOUT, True),
        (Fault.RATE_LIMITED, False),
    ],
)
def test_which_faults_happen_after_the_server_acted(fault: Fault, acts: bool) -> None:
    assert fault.acts is acts


# --- raw HTTP against the emulator ---------------------------------------------------------------


@pytest.fixture
async def emulator() -> AsyncIterator[FakeCloudAgent]:
    async with FakeCloudAgent(faults=FaultPlan(slow_delay=SLOW_DELAY)) as fake:
        fake.add_campaign(CAMPAIGN, NUMBERS)
        yield fake


@pytest.fixture
async def raw() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session that sends each request once (no hidden re-send)."""
    async with aiohttp.ClientSession() as session:
        _disable_hidden_resend(session)
        yield session


async def delete(
    session: aiohttp.ClientSession, fake: FakeCloudAgent, number: str, patience: float = 5.0
) -> tuple[int, str, bytes, dict[str, str]]:
    """One raw deleteCampaignData: status, content type, body and headers."""
    async with session.delete(
        f"{fake.url}/ca_apis/{ENDPOINT}",
        json={"userName": fake.username, "campaignName": CAMPAIGN, "phoneNumber": number},
        headers={"apiKey": fake.api_key},
        timeout=aiohttp.ClientTimeout(total=patience),
    ) as response:
        body = await response.read()
        return response.status, response.content_type, body, dict(response.headers)


SUCCESS = b'{"status":"Success","message":"Deleted Successfully"}'


@pytest.mark.parametrize(
    ("fault", "answer"),
    [
        (Fault.SERVER_ERROR, (503, "text/html")),
        (Fault.HTML, (200, "text/html")),
        (Fault.TRUNCATED, (200, "application/json")),
        (Fault.GATEWAY_TIMEOUT, (504, "text/html")),
        (Fault.RATE_LIMITED, (429, "application/json")),
    ],
)
async def test_faults_that_answer(
    emulator: FakeCloudAgent,
    raw: aiohttp.ClientSession,
    fault: Fault,
    answer: tuple[int, str],
) -> None:
    emulator.faults.queue(fault)
    status, content_type, body, headers = await delete(raw, emulator, NUMBERS[0])

    assert (status, content_type) == answer
    if fault is Fault.TRUNCATED:
        assert SUCCESS.startswith(body)
        assert len(body) < len(SUCCESS)
    elif fault is Fault.RATE_LIMITED:
        assert b"Max limit exceeded" in body
        assert headers["Retry-After"] == "1"
    else:
        assert body.startswith(b"<html>")
    assert (NUMBERS[0] not in emulator.campaigns[CAMPAIGN]) is fault.acts
    assert emulator.counters == Counter({"requests": 1, f"fault:{fault.value}": 1})
    assert emulator.requests[0].fault is fault


@pytest.mark.parametrize("fault", [Fault.DROP_BEFORE, Fault.DROP_AFTER, Fault.SLOW])
async def test_faults_that_never_answer_in_time(
    emulator: FakeCloudAgent, raw: aiohttp.ClientSession, fault: Fault
) -> None:
    emulator.faults.queue(fault)
    with pytest.raises((aiohttp.ServerDisconnectedError, TimeoutError)):
        await delete(raw, emulator, NUMBERS[0], patience=SLOW_DELAY / 2)

    assert (NUMBERS[0] not in emulator.campaigns[CAMPAIGN]) is fault.acts
    assert emulator.counters == Counter({"requests": 1, f"fault:{fault.value}": 1})


async def test_a_slow_answer_arrives_after_the_delay(
    emulator: FakeCloudAgent, raw: aiohttp.ClientSession
) -> None:
    emulator.faults.queue(Fault.SLOW)
    started = time.monotonic()
    status, _, body, _ = await delete(raw, emulator, NUMBERS[0])
    assert time.monotonic() - started >= SLOW_DELAY
    assert (status, body) == (200, SUCCESS)


@pytest.mark.parametrize(
    ("style", "status", "payload"),
    [
        ("429", 429, {"status": "error", "message": "Max limit exceeded"}),
        ("body", 200, {"status": "Error", "message": "Max limit exceeded"}),
    ],
)
async def test_strict_rate_limits_in_both_answer_styles(
    raw: aiohttp.ClientSession, style: Any, status: int, payload: dict[str, str]
) -> None:
    faults = FaultPlan()
    async with FakeCloudAgent(
        rate_limits={ENDPOINT: (2, 10.0)}, rate_limit_answer=style, faults=faults
    ) as fake:
        fake.add_campaign(CAMPAIGN, NUMBERS)
        faults.queue(Fault.SERVER_ERROR, endpoint=ENDPOINT)
        first = await delete(raw, fake, NUMBERS[0])  # takes the queued fault
        second = await delete(raw, fake, NUMBERS[1])
        faults.queue(Fault.HTML, endpoint=ENDPOINT)
        third = await delete(raw, fake, NUMBERS[2])

    assert (first[0], second[0]) == (503, 200)
    assert third[0] == status
    assert msgspec.json.decode(third[2]) == payload
    # The 429 says how long until the strict window lets one more in: 10 s.
    assert third[3].get("Retry-After") == ("10" if style == "429" else None)
    # A refused request does nothing: no deletion, no fault taken from the plan.
    assert NUMBERS[2] in fake.campaigns[CAMPAIGN]
    assert [r.rejected for r in fake.requests] == [False, False, True]
    assert fake.requests[2].fault is None
    assert faults.choose(ENDPOINT) is Fault.HTML
    assert fake.counters == Counter({"requests": 3, "rejected": 1, "fault:server_error": 1})


async def test_a_limit_applies_to_its_endpoint_only(raw: aiohttp.ClientSession) -> None:
    async with FakeCloudAgent(rate_limits={"deleteScheduledData": (1, 10.0)}) as fake:
        fake.add_campaign(CAMPAIGN, NUMBERS)
        statuses = [(await delete(raw, fake, n))[0] for n in NUMBERS]
    assert statuses == [200] * len(NUMBERS)
    assert fake.counters["rejected"] == 0


async def test_arrival_jitter_holds_requests_and_keeps_arrivals_in_order(
    raw: aiohttp.ClientSession,
) -> None:
    async with FakeCloudAgent(arrival_jitter=0.05) as fake:
        fake.add_campaign(CAMPAIGN, NUMBERS)
        sent = []
        for number in NUMBERS:
            sent.append(time.monotonic())
            await delete(raw, fake, number)
    delays = [r.arrived - s for r, s in zip(fake.requests, sent, strict=True)]
    # Each is held a random 0-50 ms: six all under 5 ms would be a one-in-a-million draw.
    assert max(delays) >= 0.005
    assert all(a <= b for a, b in itertools.pairwise(r.arrived for r in fake.requests))


def test_arrival_jitter_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="arrival_jitter"):
        FakeCloudAgent(arrival_jitter=-0.01)


async def test_arrivals_with_jitter_are_counted_in_time_order(
    raw: aiohttp.ClientSession,
) -> None:
    # Concurrent requests overtake each other while held: the limit still sees them in the
    # order they arrive, so it admits exactly its limit in any window.
    async with FakeCloudAgent(rate_limits={ENDPOINT: (3, 10.0)}, arrival_jitter=0.03) as fake:
        fake.add_campaign(CAMPAIGN, NUMBERS)
        for number in NUMBERS:
            await delete(raw, fake, number)
    admitted = [r.arrived for r in fake.requests if not r.rejected]
    assert len(admitted) == 3
    assert max_in_window(admitted, 10.0) == 3


# --- aiohttp's hidden re-send --------------------------------------------------------------------


@pytest.mark.parametrize(("max_attempts", "attempts"), [(1, 1), (3, 2)])
async def test_the_sdk_sends_each_attempt_exactly_once(
    emulator: FakeCloudAgent, max_attempts: int, attempts: int
) -> None:
    async with CloudAgentClient(
        emulator.username,
        emulator.api_key,
        base_url=emulator.url,
        retry=RetryPolicy(max_attempts=max_attempts, initial_delay=0.01),
        rate_limits={ENDPOINT: None},
        coordination=InProcessCoordination(),
    ) as ca:
        await ca.campaign_data.delete(CAMPAIGN, NUMBERS[0])  # a kept-alive connection
        emulator.faults.queue(Fault.DROP_BEFORE)
        if max_attempts == 1:
            with pytest.raises(TransportError) as caught:
                await ca.campaign_data.delete(CAMPAIGN, NUMBERS[1])
            assert caught.value.attempts == attempts
        else:
            result = await ca.campaign_data.delete(CAMPAIGN, NUMBERS[1])
            assert result.attempts == attempts

    # With aiohttp's re-send on, the emulator would have seen one request more.
    assert len(emulator.requests) == 1 + attempts


async def test_a_session_passed_in_sends_each_attempt_exactly_once(
    emulator: FakeCloudAgent,
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        CloudAgentClient(
            emulator.username,
            emulator.api_key,
            base_url=emulator.url,
            retry=RetryPolicy(max_attempts=1),
            rate_limits={ENDPOINT: None},
            session=session,
            coordination=InProcessCoordination(),
        ) as ca,
    ):
        await ca.campaign_data.delete(CAMPAIGN, NUMBERS[0])
        emulator.faults.queue(Fault.DROP_BEFORE)
        with pytest.raises(TransportError):
            await ca.campaign_data.delete(CAMPAIGN, NUMBERS[1])
        assert not session.closed  # the client never closes a session it was given
    assert len(emulator.requests) == 2


async def test_a_plain_aiohttp_session_silently_sends_a_dropped_delete_twice(
    emulator: FakeCloudAgent,
) -> None:
    # The trap the SDK avoids: this re-send passes no rate limiter and no retry budget.
    async with aiohttp.ClientSession() as session:
        await delete(session, emulator, NUMBERS[0])
        emulator.faults.queue(Fault.DROP_BEFORE)
        status, *_ = await delete(session, emulator, NUMBERS[1])

    assert status == 200  # the caller never learns there were two requests
    assert len(emulator.requests) == 3


async def test_a_fault_plan_sets_retry_after_in_seconds_or_as_a_date(
    emulator: FakeCloudAgent, raw: aiohttp.ClientSession
) -> None:
    emulator.faults.retry_after = "Wed, 21 Oct 2037 07:28:00 GMT"
    emulator.faults.queue(Fault.RATE_LIMITED)
    emulator.faults.queue(Fault.SERVER_ERROR)
    *_, rate_limited = await delete(raw, emulator, NUMBERS[0])
    *_, unavailable = await delete(raw, emulator, NUMBERS[0])

    assert rate_limited["Retry-After"] == "Wed, 21 Oct 2037 07:28:00 GMT"
    assert unavailable["Retry-After"] == "Wed, 21 Oct 2037 07:28:00 GMT"
