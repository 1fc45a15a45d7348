"""The retry layer: the policy's decisions (pure, table-driven) and what the transport does
with them over real HTTP against the emulator's faults and strict limits."""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import logging
import math
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync import (
    APIError,
    AuthenticationError,
    CloudAgentClient,
    ConflictError,
    InProcessCoordination,
    InvalidParameterError,
    LimitExceededError,
    NotFoundError,
    Outcome,
    OzoError,
    RateLimit,
    RateLimitError,
    RequestValidationError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    TokenBudgetExhaustedError,
    TransportError,
)
from ozoasync.testing import FakeCloudAgent, Fault, FaultPlan
from ozoasync.transport.retry import parse_retry_after

# Fast retries: tests assert behaviour, not the production back-off.
FAST_RETRY = RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05)
CAMPAIGN = "spring"
NUMBER = "9876543210"
ENDPOINT = "deleteCampaignData"


def api_error(cls: type[APIError], http_status: int = 200) -> APIError:
    return cls("the server said no", endpoint=ENDPOINT, http_status=http_status)


def server_error(retry_after: float) -> ServerError:
    return ServerError(
        "server error 503", endpoint=ENDPOINT, http_status=503, retry_after=retry_after
    )


def rate_limited(retry_after: float | None, cls: type[RateLimitError] = RateLimitError) -> Any:
    return cls("Max limit exceeded", endpoint=ENDPOINT, http_status=429, retry_after=retry_after)


def undecodable() -> ResponseDecodeError:
    return ResponseDecodeError(ENDPOINT, "not JSON", b"<html>", 200)


def untrusted_certificate() -> TransportError:
    return TransportError("TLS verification failed", retryable=False)


# --- should_retry ------------------------------------------------------------------------------

POLICY = RetryPolicy(max_retry_after=10.0)


@pytest.mark.parametrize(
    ("error", "repeatable", "expected"),
    [
        pytest.param(TransportError("reset"), True, True, id="connection-error"),
        pytest.param(TransportError("timed out"), False, True, id="timeout-even-for-edits"),
        pytest.param(untrusted_certificate(), True, False, id="tls-certificate-refused"),
        pytest.param(api_error(ServerError, 503), True, True, id="http-5xx"),
        pytest.param(server_error(retry_after=10.0), True, True, id="5xx-retry-after-at-the-cap"),
        pytest.param(server_error(retry_after=11.0), True, False, id="5xx-retry-after-past-cap"),
        pytest.param(api_error(ServerError, 500), False, True, id="http-5xx-edit"),
        pytest.param(rate_limited(None), True, True, id="max-limit-exceeded"),
        pytest.param(rate_limited(10.0), True, True, id="retry-after-at-the-cap"),
        pytest.param(rate_limited(10.5), True, False, id="retry-after-past-the-cap"),
        pytest.param(rate_limited(1.0, TokenBudgetExhaustedError), True, False, id="token-budget"),
        pytest.param(undecodable(), True, True, id="undecodable-delete"),
        pytest.param(undecodable(), False, False, id="undecodable-edit"),
        pytest.param(api_error(NotFoundError), True, False, id="not-found"),
        pytest.param(api_error(AuthenticationError), True, False, id="authentication"),
        pytest.param(api_error(InvalidParameterError), True, False, id="invalid-parameter"),
        pytest.param(api_error(ConflictError), False, False, id="conflict"),
        pytest.param(api_error(LimitExceededError), False, False, id="limit-exceeded"),
        pytest.param(api_error(APIError), True, False, id="other-api-error"),
        pytest.param(RequestValidationError("f", "bad"), True, False, id="validation"),
        pytest.param(ValueError("not ours"), True, False, id="foreign-exception"),
    ],
)
def test_should_retry(error: BaseException, repeatable: bool, expected: bool) -> None:
    assert POLICY.should_retry(error, repeatable=repeatable) is expected


# --- retry_delay -------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", [None, 0.0, 1.0, 7.5, 120.0, 1e12])
def test_a_push_back_never_exceeds_max_retry_after(retry_after: float | None) -> None:
    patient = RetryPolicy(initial_delay=20.0, max_delay=60.0, max_retry_after=10.0)
    for attempt in range(1, 200):
        assert 0 <= patient.push_back_delay(rate_limited(retry_after), attempt) <= 10.0


@pytest.mark.parametrize("retry_after", [0.0, 1.0, 7.5, 120.0, 1e12])
def test_retry_delay_obeys_retry_after_up_to_max_retry_after(retry_after: float) -> None:
    expected = min(retry_after, POLICY.max_retry_after)
    assert POLICY.retry_delay(rate_limited(retry_after), attempt=3) == expected


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 16.0), (7, 30.0), (30, 30.0)],
)
def test_retry_delay_backs_off_exponentially_up_to_max_delay(
    monkeypatch: pytest.MonkeyPatch, attempt: int, ceiling: float
) -> None:
    policy = RetryPolicy()  # 0.5 s doubling, capped at 30 s
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    assert policy.retry_delay(TransportError("x"), attempt) == ceiling
    monkeypatch.setattr(random, "uniform", lambda low, high: low)
    assert policy.retry_delay(TransportError("x"), attempt) == ceiling / 2


@given(
    attempt=st.integers(1, 60),
    initial=st.floats(0.0, 5.0),
    maximum=st.floats(0.0, 60.0),
)
def test_retry_delay_stays_within_the_upper_half_of_the_back_off(
    attempt: int, initial: float, maximum: float
) -> None:
    policy = RetryPolicy(initial_delay=initial, max_delay=maximum)
    ceiling = min(maximum, initial * 2 ** (attempt - 1))
    assert ceiling / 2 <= policy.retry_delay(api_error(ServerError, 503), attempt) <= ceiling


def test_retry_delay_is_jittered() -> None:
    delays = {RetryPolicy().retry_delay(TransportError("x"), 3) for _ in range(20)}
    assert len(delays) > 1


# --- parse_retry_after -------------------------------------------------------------------------

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", None),
        ("soon", None),
        ("5 seconds", None),
        ("1e3", None),
        ("nan", None),
        ("inf", None),
        ("-inf", None),
        ("Infinity", None),
        ("9" * 400, None),  # a finite-looking number too large for a float
        ("1000000000000", 1e12),  # huge but finite: the policy caps it
        (
            "Fri, 31 Dec 9999 23:59:59 GMT",
            (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - NOW).total_seconds(),
        ),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),
        ("\x00garbage", None),
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),  # IMF-fixdate
        ("Thursday, 01-Jan-26 12:01:00 GMT", 60.0),  # RFC 850
        ("Thu Jan  1 12:00:10 2026", 10.0),  # asctime, no zone: GMT
        ("Thu, 01 Jan 2026 11:00:00 GMT", 0.0),  # already past
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@given(
    st.one_of(
        st.text(),
        st.integers(min_value=-(10**500), max_value=10**500).map(str),
        st.floats().map(str),
        st.datetimes(timezones=st.just(UTC)).map(email.utils.format_datetime),
    )
)
def test_parse_retry_after_never_raises_and_is_finite(header: str) -> None:
    seconds = parse_retry_after(header, now=NOW)
    assert seconds is None or 0 <= seconds < math.inf


# --- RetryPolicy itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": 0},
        {"max_attempts": True},
        {"initial_delay": -1.0},
        {"max_delay": -0.1},
        {"max_retry_after": -5.0},
        {"max_delay": float("nan")},
        {"max_retry_after": float("inf")},
        {"initial_delay": float("inf")},
    ],
)
def test_retry_policy_refuses_impossible_values(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**options)


# --- over HTTP ----------------------------------------------------------------------------------

# Short enough to make a slow answer time out quickly, long enough for a loaded machine.
TIMEOUT = 0.25
SLOW_DELAY = 0.5


@asynccontextmanager
async def client_for(fake: FakeCloudAgent, **overrides: Any) -> AsyncIterator[CloudAgentClient]:
    """A client of ``fake`` with fast retries, no client-side limit and its own
    coordination, unless the test says otherwise."""
    options: dict[str, Any] = {
        "base_url": fake.url,
        "retry": FAST_RETRY,
        "timeout": TIMEOUT,
        "rate_limits": {ENDPOINT: None},
        "coordination": InProcessCoordination(),
    }
    options.update(overrides)
    api_key = options.pop("api_key", fake.api_key)
    async with CloudAgentClient(fake.username, api_key, **options) as client:
        yield client


@pytest.fixture
async def emulator() -> AsyncIterator[FakeCloudAgent]:
    async with FakeCloudAgent(faults=FaultPlan(slow_delay=SLOW_DELAY)) as fake:
        fake.add_campaign(CAMPAIGN, [NUMBER])
        fake.add_phone("9876500000", "desk")
        yield fake


@pytest.mark.parametrize("fault", list(Fault))
async def test_every_fault_is_retried_for_a_delete(emulator: FakeCloudAgent, fault: Fault) -> None:
    emulator.faults.queue(fault, endpoint=ENDPOINT)
    async with client_for(emulator) as ca:
        result = await ca.campaign_data.delete(CAMPAIGN, NUMBER)

    assert result.outcome is Outcome.DELETED
    assert result.attempts == 2
    assert [r.fault for r in emulator.requests_to(ENDPOINT)] == [fault, None]
    assert NUMBER not in emulator.campaigns[CAMPAIGN]


async def test_concurrent_calls_retry_each_on_its_own_budget(emulator: FakeCloudAgent) -> None:
    # One tenacity loop serves every call of a transport: their attempts and sleeps
    # interleave, and each still counts its own attempts.
    numbers = [str(9_876_543_300 + i) for i in range(8)]
    emulator.add_campaign(CAMPAIGN, numbers)
    emulator.faults.queue(Fault.SERVER_ERROR, len(numbers), endpoint=ENDPOINT)
    async with client_for(emulator) as ca:
        results = await asyncio.gather(
            *(ca.campaign_data.delete(CAMPAIGN, number) for number in numbers)
        )

    assert [(r.outcome, r.attempts) for r in results] == [(Outcome.DELETED, 2)] * len(numbers)
    assert len(emulator.requests_to(ENDPOINT)) == 2 * len(numbers)
    assert not set(numbers) & set(emulator.campaigns[CAMPAIGN])


@pytest.mark.parametrize(("fault", "acted"), [(Fault.HTML, False), (Fault.TRUNCATED, True)])
async def test_an_undecodable_answer_to_an_edit_is_raised_at_once(
    emulator: FakeCloudAgent, fault: Fault, acted: bool
) -> None:
    emulator.faults.queue(fault, endpoint="PhoneManageV2")
    async with client_for(emulator) as ca:
        with pytest.raises(ResponseDecodeError) as caught:
            await ca.phones.edit("9876500000", "desk", new_phone_number="9876500001")

    assert caught.value.attempts == 1
    assert len(emulator.requests_to("PhoneManageV2")) == 1
    # A cut-off JSON answer means the server acted; a proxy's page says it did not.
    assert caught.value.answer_lost is acted
    assert ("9876500001" in emulator.phones) is acted


async def test_a_server_error_on_an_edit_is_retried(emulator: FakeCloudAgent) -> None:
    emulator.faults.queue(Fault.SERVER_ERROR, endpoint="PhoneManageV2")
    async with client_for(emulator) as ca:
        result = await ca.phones.edit("9876500000", "desk", new_phone_number="9876500001")

    assert result.attempts == 2
    assert "9876500001" in emulator.phones


async def test_a_retried_scheduled_deletion_reports_its_attempts(
    emulator: FakeCloudAgent,
) -> None:
    emulator.add_scheduled_rows([7])
    emulator.faults.queue(Fault.DROP_BEFORE, endpoint="deleteScheduledData")
    async with client_for(emulator) as ca:
        result = await ca.scheduled_data.delete(7)
    assert result.attempts == 2


@pytest.mark.parametrize(
    ("campaign", "api_key", "raised"),
    [
        (CAMPAIGN, None, None),  # "No Record Found": NOT_FOUND, not an error
        ("autumn", None, InvalidParameterError),  # "Passed campaign are invalid"
        (CAMPAIGN, "wrong-key", AuthenticationError),  # "Invalid User Details"
    ],
)
async def test_final_answers_are_not_retried(
    emulator: FakeCloudAgent,
    campaign: str,
    api_key: str | None,
    raised: type[OzoError] | None,
) -> None:
    async with client_for(emulator, api_key=api_key or emulator.api_key) as ca:
        if raised is None:
            result = await ca.campaign_data.delete(campaign, "9000000000")
            assert (result.outcome, result.attempts) == (Outcome.NOT_FOUND, 1)
        else:
            with pytest.raises(raised) as caught:
                await ca.campaign_data.delete(campaign, NUMBER)
            assert caught.value.attempts == 1
    assert len(emulator.requests_to(ENDPOINT)) == 1


async def test_a_retry_after_past_max_retry_after_is_raised_at_once() -> None:
    async with FakeCloudAgent(rate_limits={ENDPOINT: (1, 60.0)}) as fake:
        fake.add_campaign(CAMPAIGN, [NUMBER, "9000000001"])
        policy = RetryPolicy(initial_delay=0.01, max_delay=0.05, max_retry_after=5.0)
        async with client_for(fake, retry=policy) as ca:
            await ca.campaign_data.delete(CAMPAIGN, NUMBER)
            with pytest.raises(RateLimitError) as caught:
                await ca.campaign_data.delete(CAMPAIGN, "9000000001")

    assert caught.value.attempts == 1
    assert caught.value.http_status == 429
    assert 60.0 <= caught.value.retry_after <= 61.0  # the window's 60 s, in whole seconds
    assert caught.value.message == "Max limit exceeded"  # the vendor's words, not the status
    assert len(fake.requests_to(ENDPOINT)) == 2


async def test_a_retry_after_is_obeyed() -> None:
    async with FakeCloudAgent(rate_limits={ENDPOINT: (1, 0.5)}) as fake:
        fake.add_campaign(CAMPAIGN, [NUMBER, "9000000001"])
        async with client_for(fake) as ca:
            await ca.campaign_data.delete(CAMPAIGN, NUMBER)
            result = await ca.campaign_data.delete(CAMPAIGN, "9000000001")

    assert (result.outcome, result.attempts) == (Outcome.DELETED, 2)
    _, rejected, retried = fake.requests_to(ENDPOINT)
    assert rejected.rejected
    assert not retried.rejected
    # The emulator asked for 1 s (whole seconds, rounded up); FAST_RETRY alone waits 50 ms.
    assert retried.arrived - rejected.arrived >= 1.0


async def test_max_limit_exceeded_in_the_body_is_retried() -> None:
    async with FakeCloudAgent(rate_limits={ENDPOINT: (2, 0.3)}, rate_limit_answer="body") as fake:
        fake.add_campaign(CAMPAIGN, ["9000000001", "9000000002", "9000000003"])
        # Backs off 0.3 to 0.6 s: past the emulator's window.
        policy = RetryPolicy(max_attempts=3, initial_delay=0.6, max_delay=0.6)
        async with client_for(fake, retry=policy) as ca:
            results = [
                await ca.campaign_data.delete(CAMPAIGN, n)
                for n in ("9000000001", "9000000002", "9000000003")
            ]

    assert [r.attempts for r in results] == [1, 1, 2]
    assert all(r.outcome is Outcome.DELETED for r in results)
    assert fake.counters["rejected"] == 1


async def test_a_rejection_pushes_back_every_sender_of_the_endpoint() -> None:
    retrying = asyncio.Event()

    class Signalling(RetryPolicy):
        def retry_delay(self, error: BaseException, attempt: int) -> float:
            retrying.set()
            return super().retry_delay(error, attempt)

    async with FakeCloudAgent(rate_limits={ENDPOINT: (2, 0.5)}) as fake:
        numbers = [f"900000000{i}" for i in range(4)]
        fake.add_campaign(CAMPAIGN, numbers)
        # The client's own limit is far looser than the server's.
        loose = {ENDPOINT: RateLimit(100, 1.0)}
        async with client_for(fake, rate_limits=loose, retry=Signalling()) as ca:
            await ca.campaign_data.delete(CAMPAIGN, numbers[0])
            await ca.campaign_data.delete(CAMPAIGN, numbers[1])
            first = asyncio.create_task(ca.campaign_data.delete(CAMPAIGN, numbers[2]))
            await retrying.wait()
            # Sent after the 429: it waits out the Retry-After with everyone else.
            second = await ca.campaign_data.delete(CAMPAIGN, numbers[3])
            assert (await first).attempts == 2

    assert second.attempts == 1
    assert fake.counters["rejected"] == 1
    rejection = next(r for r in fake.requests_to(ENDPOINT) if r.rejected)
    later = [r for r in fake.requests_to(ENDPOINT) if r.arrived > rejection.arrived]
    assert len(later) == 2
    assert all(r.arrived - rejection.arrived >= 1.0 for r in later)


async def test_max_attempts_1_turns_retries_off(emulator: FakeCloudAgent) -> None:
    emulator.faults.queue(Fault.SERVER_ERROR, endpoint=ENDPOINT)
    async with client_for(emulator, retry=RetryPolicy(max_attempts=1)) as ca:
        with pytest.raises(ServerError) as caught:
            await ca.campaign_data.delete(CAMPAIGN, NUMBER)

    assert caught.value.attempts == 1
    assert len(emulator.requests_to(ENDPOINT)) == 1
    assert NUMBER in emulator.campaigns[CAMPAIGN]


THREE_ATTEMPTS = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02)


@pytest.mark.parametrize(
    ("fault", "raised"),
    [
        (Fault.SERVER_ERROR, ServerError),
        (Fault.HTML, ResponseDecodeError),
        (Fault.DROP_BEFORE, TransportError),
        (Fault.SLOW, TransportError),
    ],
)
async def test_the_last_attempts_error_is_raised_with_its_attempts(
    emulator: FakeCloudAgent, fault: Fault, raised: type[OzoError]
) -> None:
    emulator.faults.queue(fault, 3, endpoint=ENDPOINT)
    async with client_for(emulator, retry=THREE_ATTEMPTS) as ca:
        with pytest.raises(raised) as caught:
            await ca.campaign_data.delete(CAMPAIGN, NUMBER)

    assert caught.value.attempts == 3
    assert len(emulator.requests_to(ENDPOINT)) == 3


async def test_a_rate_limit_error_after_the_last_attempt() -> None:
    async with FakeCloudAgent(rate_limits={ENDPOINT: (1, 60.0)}, rate_limit_answer="body") as fake:
        fake.add_campaign(CAMPAIGN, [NUMBER, "9000000001"])
        async with client_for(fake, retry=THREE_ATTEMPTS) as ca:
            await ca.campaign_data.delete(CAMPAIGN, NUMBER)
            with pytest.raises(RateLimitError) as caught:
                await ca.campaign_data.delete(CAMPAIGN, "9000000001")

    assert caught.value.attempts == 3
    assert caught.value.message == "Max limit exceeded"
    assert fake.counters["rejected"] == 3


async def test_a_refused_connection_after_the_last_attempt() -> None:
    async with FakeCloudAgent() as gone:
        url = gone.url  # nothing listens there once it stops
    async with CloudAgentClient(
        "demo",
        "KK-demo-key",
        base_url=url,
        retry=THREE_ATTEMPTS,
        timeout=TIMEOUT,
        rate_limits={ENDPOINT: None},
    ) as ca:
        with pytest.raises(TransportError) as caught:
            await ca.campaign_data.delete(CAMPAIGN, NUMBER)
    assert caught.value.attempts == 3
    assert not caught.value.answer_lost  # a refused connection reached no server


async def test_each_retry_takes_its_own_rate_limit_slot(emulator: FakeCloudAgent) -> None:
    limit = RateLimit(2, 0.5)  # a slot every 0.255 s; FAST_RETRY backs off 50 ms at most
    emulator.faults.queue(Fault.SERVER_ERROR, 2, endpoint=ENDPOINT)
    async with client_for(emulator, rate_limits={ENDPOINT: limit}) as ca:
        result = await ca.campaign_data.delete(CAMPAIGN, NUMBER)

    assert result.attempts == 3
    arrivals = [r.arrived for r in emulator.requests_to(ENDPOINT)]
    # Arrival times trail send times by a varying few milliseconds: allow a fifth of a slot.
    assert all(b - a >= 0.8 * limit.window for a, b in itertools.pairwise(arrivals))


class NeverRetryServerErrors(RetryPolicy):
    def should_retry(self, error: BaseException, *, repeatable: bool) -> bool:
        if isinstance(error, ServerError):
            return False
        return super().should_retry(error, repeatable=repeatable)


async def test_a_subclass_decides_what_is_retried(emulator: FakeCloudAgent) -> None:
    emulator.faults.queue(Fault.SERVER_ERROR, endpoint=ENDPOINT)
    async with client_for(emulator, retry=NeverRetryServerErrors()) as ca:
        with pytest.raises(ServerError) as caught:
            await ca.campaign_data.delete(CAMPAIGN, NUMBER)
    assert caught.value.attempts == 1


async def test_a_subclass_decides_how_long_to_wait(emulator: FakeCloudAgent) -> None:
    asked: list[tuple[str, int]] = []

    class RecordingDelay(RetryPolicy):
        def retry_delay(self, error: BaseException, attempt: int) -> float:
            asked.append((type(error).__name__, attempt))
            return 0.0

    emulator.faults.queue(Fault.SERVER_ERROR, endpoint=ENDPOINT)
    emulator.faults.queue(Fault.DROP_BEFORE, endpoint=ENDPOINT)
    async with client_for(emulator, retry=RecordingDelay(initial_delay=60.0)) as ca:
        result = await ca.campaign_data.delete(CAMPAIGN, NUMBER)

    assert result.attempts == 3
    assert asked == [("ServerError", 1), ("TransportError", 2)]


async def test_retries_and_give_ups_are_logged_without_the_key(
    emulator: FakeCloudAgent, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.faults.queue(Fault.SERVER_ERROR, 3, endpoint=ENDPOINT)
    caplog.set_level(logging.DEBUG, logger="ozoasync")
    async with client_for(emulator, retry=THREE_ATTEMPTS) as ca:
        with pytest.raises(ServerError):
            await ca.campaign_data.delete(CAMPAIGN, NUMBER)

    levels = [(r.levelname, r.getMessage().split(" ")[0]) for r in caplog.records]
    assert levels.count(("DEBUG", "DELETE")) == 3  # every attempt
    assert levels.count(("INFO", "retrying")) == 2
    assert levels.count(("WARNING", "giving")) == 1
    assert emulator.api_key not in caplog.text


# --- rejections that end the request still move the shared schedule -------------------------


async def test_a_rejection_that_is_not_retried_still_pushes_the_schedule_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The server allows 1 per 60 s; the client would send 100 a second and does not retry.
    async with FakeCloudAgent(rate_limits={ENDPOINT: (1, 60.0)}) as fake:
        fake.add_campaign(CAMPAIGN, [NUMBER, "9000000001", "9000000002"])
        coordination = InProcessCoordination()
        async with client_for(
            fake,
            retry=RetryPolicy(max_attempts=1),
            rate_limits={ENDPOINT: RateLimit(100, 1.0)},
            coordination=coordination,
        ) as ca:
            await ca.campaign_data.delete(CAMPAIGN, NUMBER)
            with (
                caplog.at_level(logging.WARNING, logger="ozoasync"),
                pytest.raises(RateLimitError) as caught,
            ):
                await ca.campaign_data.delete(CAMPAIGN, "9000000001")
            # Every sender of the endpoint now waits for the server's Retry-After.
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await ca.campaign_data.delete(CAMPAIGN, "9000000002")

    assert caught.value.attempts == 1
    assert len(fake.requests_to(ENDPOINT)) == 2  # the third never went out
    # Raised at once, yet a give-up all the same: logged at WARNING.
    assert any("giving up" in r.getMessage() for r in caplog.records)


async def test_a_5xx_retry_after_past_the_cap_is_raised_at_once() -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign(CAMPAIGN, [NUMBER])
        fake.faults.queue(Fault.SERVER_ERROR, endpoint=ENDPOINT)
        fake.faults.retry_after = "600"
        async with client_for(fake) as ca:
            with pytest.raises(ServerError) as caught:
                await ca.campaign_data.delete(CAMPAIGN, NUMBER)

    assert (caught.value.attempts, caught.value.retry_after) == (1, 600.0)
    assert fake.campaigns[CAMPAIGN] == {NUMBER}


async def test_a_gateway_timeout_counts_as_a_lost_answer() -> None:
    # A 504 means the gateway gave up waiting on a backend that may have acted: a retry's
    # "No Record Found" then reports the number deleted.
    async with FakeCloudAgent() as fake:
        fake.add_campaign(CAMPAIGN, [NUMBER])
        fake.faults.queue(Fault.GATEWAY_TIMEOUT, endpoint=ENDPOINT)
        async with client_for(fake) as ca:
            result = await ca.campaign_data.delete(CAMPAIGN, NUMBER)

    assert (result.outcome, result.attempts) == (Outcome.DELETED, 2)
    assert fake.campaigns[CAMPAIGN] == set()
