"""OpenTelemetry: the observer's spans and metrics, read back from the SDK's in-memory
exporter and metric reader, and nothing but statuses, counts and names in them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import aclosing

import pytest
from aiohttp import web
from hostile import HostileServer
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, StatusCode
from telemetry_helpers import Collected, everything_reported, value_of

from ozoasync import (
    AttemptInfo,
    CloudAgentClient,
    GiveUpInfo,
    Hooks,
    ISalesClient,
    RateLimit,
    RateLimitWaitInfo,
    RetryPolicy,
)
from ozoasync.telemetry import OpenTelemetryObserver
from ozoasync.testing import FakeCloudAgent, FakeISales, Fault
from ozoasync.transport.observe import Observers, observer_for

FAST_RETRY = RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05)
PHONE = "9876543210"
SECRET = "KK-secret-key"


@pytest.fixture
def collected() -> Iterator[Collected]:
    collected = Collected.new()
    yield collected
    collected.shutdown()


@pytest.fixture
def otel(collected: Collected) -> OpenTelemetryObserver:
    return OpenTelemetryObserver(
        tracer_provider=collected.tracer_provider, meter_provider=collected.meter_provider
    )


def attempt(
    number: int,
    *,
    outcome: str = "ok",
    http_status: int | None = 200,
    vendor_status: str | None = "success",
    will_retry: bool = False,
    endpoint: str = "deleteCampaignData",
    duration: float = 0.25,
    waited: float = 0.0,
) -> AttemptInfo:
    return AttemptInfo(
        endpoint=endpoint,
        method="POST",
        attempt=number,
        http_status=http_status,
        vendor_status=vendor_status,
        outcome=outcome,
        duration=duration,
        rate_limit_wait=waited,
        will_retry=will_retry,
    )


def test_a_call_is_a_span_with_a_child_span_per_attempt(
    otel: OpenTelemetryObserver, collected: Collected
) -> None:
    call = otel.call("deleteCampaignData", "POST")
    call.rate_limit_wait(RateLimitWaitInfo("deleteCampaignData", 0.5))
    call.attempt(
        attempt(
            1,
            outcome="ServerError",
            http_status=503,
            vendor_status=None,
            will_retry=True,
            waited=0.5,
        )
    )
    call.rate_limit_wait(RateLimitWaitInfo("deleteCampaignData", 0.25))
    call.attempt(attempt(2, waited=0.25))
    call.end("ok")

    assert sorted(span.name for span in collected.spans()) == [
        "POST deleteCampaignData",
        "POST deleteCampaignData",
        "ozoasync deleteCampaignData",
    ]
    (whole,) = [s for s in collected.spans() if s.name == "ozoasync deleteCampaignData"]
    first, second = sorted(
        (s for s in collected.spans() if s.name == "POST deleteCampaignData"),
        key=lambda s: s.attributes["ozoasync.attempt"] if s.attributes else 0,
    )
    assert whole.kind is SpanKind.INTERNAL
    assert dict(whole.attributes or {}) == {
        "ozoasync.endpoint": "deleteCampaignData",
        "http.request.method": "POST",
        "ozoasync.outcome": "ok",
        "ozoasync.attempts": 2,
        "ozoasync.rate_limit_wait": 0.75,
        "http.response.status_code": 200,
        "ozoasync.vendor_status": "success",
    }
    assert whole.status.status_code is StatusCode.UNSET
    for child in (first, second):
        assert child.kind is SpanKind.CLIENT
        assert child.parent is not None
        assert child.parent.span_id == whole.context.span_id
        assert child.context.trace_id == whole.context.trace_id
        # Made after the fact with the attempt's own duration.
        assert child.end_time is not None
        assert child.start_time is not None
        assert child.end_time - child.start_time == 250_000_000
    assert dict(first.attributes or {}) == {
        "ozoasync.endpoint": "deleteCampaignData",
        "http.request.method": "POST",
        "ozoasync.attempt": 1,
        "ozoasync.outcome": "ServerError",
        "ozoasync.rate_limit_wait": 0.5,
        "ozoasync.will_retry": True,
        "http.response.status_code": 503,
        "error.type": "ServerError",
    }
    assert first.status.status_code is StatusCode.ERROR
    assert second.attributes is not None
    assert (second.attributes["ozoasync.attempt"], second.attributes["ozoasync.outcome"]) == (
        2,
        "ok",
    )


def test_a_failed_call_marks_its_span_and_records_the_give_up_without_its_text(
    otel: OpenTelemetryObserver, collected: Collected
) -> None:
    call = otel.call("deleteCampaignData", "POST")
    call.attempt(attempt(1, outcome="TransportError", http_status=None, vendor_status=None))
    call.give_up(
        GiveUpInfo(
            "deleteCampaignData",
            "POST",
            1,
            "TransportError",
            f"timed out deleting {PHONE} with apiKey {SECRET}",
        )
    )
    call.end("TransportError")

    (whole,) = [s for s in collected.spans() if s.name == "ozoasync deleteCampaignData"]
    assert whole.status.status_code is StatusCode.ERROR
    assert whole.attributes is not None
    assert whole.attributes["error.type"] == "TransportError"
    assert "http.response.status_code" not in whole.attributes
    (event,) = whole.events
    assert (event.name, dict(event.attributes or {})) == (
        "give_up",
        {"ozoasync.attempts": 1, "error.type": "TransportError"},
    )
    reported = everything_reported(collected.spans(), collected.points())
    assert not [text for text in reported if PHONE in text or SECRET in text]


def test_metrics_count_calls_requests_retries_waits_tokens_and_bulk_progress(
    otel: OpenTelemetryObserver, collected: Collected
) -> None:
    for _ in range(3):
        call = otel.call("deleteCampaignData", "POST")
        call.rate_limit_wait(RateLimitWaitInfo("deleteCampaignData", 0.5))
        call.attempt(attempt(1, outcome="RateLimitError", http_status=429, will_retry=True))
        call.rate_limit_wait(RateLimitWaitInfo("deleteCampaignData", 1.5))
        call.attempt(attempt(2))
        call.end("ok")
    token = otel.call("generateToken", "POST")
    token.attempt(attempt(1, endpoint="generateToken"))
    token.end("ok")
    otel.progress("campaign_data.delete_many", "deleted", 40)
    otel.progress("campaign_data.delete_many", "not_found", 2)
    otel.progress("campaign_data.delete_many", "deleted", 8)

    points = collected.points()
    assert (
        value_of(
            points,
            "ozoasync.calls",
            ozoasync__endpoint="deleteCampaignData",
            ozoasync__outcome="ok",
        )
        == 3
    )
    assert value_of(points, "ozoasync.requests", ozoasync__endpoint="deleteCampaignData") == 6
    assert (
        value_of(
            points,
            "ozoasync.requests",
            ozoasync__outcome="RateLimitError",
            http__response__status_code=429,
        )
        == 3
    )
    assert (
        value_of(
            points,
            "ozoasync.retries",
            ozoasync__endpoint="deleteCampaignData",
            error__type="RateLimitError",
        )
        == 3
    )
    (wait,) = [p for p in points if p.metric == "ozoasync.rate_limit.wait"]
    assert (wait.count, wait.value) == (6, 6.0)
    assert wait.attributes == {"ozoasync.endpoint": "deleteCampaignData"}
    assert value_of(points, "ozoasync.token.generations", ozoasync__outcome="ok") == 1
    assert value_of(points, "ozoasync.token.generations") == 1
    (duration,) = [
        p
        for p in points
        if p.metric == "ozoasync.call.duration"
        and p.attributes["ozoasync.endpoint"] == "deleteCampaignData"
    ]
    assert duration.count == 3
    assert value_of(points, "ozoasync.bulk.items", ozoasync__outcome="deleted") == 48
    assert (
        value_of(
            points,
            "ozoasync.bulk.items",
            ozoasync__operation="campaign_data.delete_many",
            ozoasync__outcome="not_found",
        )
        == 2
    )


def test_without_an_sdk_the_observer_records_nothing_and_builds_no_attempt_span() -> None:
    otel = OpenTelemetryObserver(tracer_provider=trace.NoOpTracerProvider())
    call = otel.call("deleteCampaignData", "POST")
    call.attempt(attempt(1))
    call.end("ok")
    otel.progress("campaign_data.delete_many", "deleted", 1)


def test_observer_for_reports_to_opentelemetry_unless_turned_off_and_to_hooks() -> None:
    seen: list[AttemptInfo] = []
    hooks = Hooks(on_attempt=seen.append)
    assert observer_for(telemetry=False, hooks=None) is None
    assert observer_for(telemetry=False, hooks=Hooks()) is None  # no hook set
    assert observer_for(telemetry=False, hooks=hooks) is hooks
    assert isinstance(observer_for(telemetry=True, hooks=None), OpenTelemetryObserver)
    both = observer_for(telemetry=True, hooks=hooks)
    assert isinstance(both, Observers)
    call = both.call("deleteCampaignData", "POST")
    assert call is not None
    call.attempt(attempt(1))
    call.end("ok")
    assert [info.attempt for info in seen] == [1]


def test_without_opentelemetry_installed_nothing_is_imported_and_nothing_observes() -> None:
    script = """
import sys

class NoOpenTelemetry:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "opentelemetry":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoOpenTelemetry())
import ozoasync
from ozoasync.transport.observe import observer_for

assert observer_for(telemetry=True, hooks=None) is None
assert not [m for m in sys.modules if m.startswith(("opentelemetry", "ozoasync.telemetry"))]
print("nothing imported")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "nothing imported"


# --- end to end: real clients against the emulators, through OpenTelemetry's globals --------


@pytest.fixture(scope="module")
def global_sdk() -> Iterator[Collected]:
    """The SDK installed as an application installs it: as OpenTelemetry's global providers
    (which can be set once per process). Shut down afterwards: later tests' spans and metrics
    are then dropped, not kept."""
    collected = Collected.new()
    trace.set_tracer_provider(collected.tracer_provider)
    metrics.set_meter_provider(collected.meter_provider)
    yield collected
    collected.shutdown()


@pytest.fixture
def sdk(global_sdk: Collected) -> Collected:
    global_sdk.exporter.clear()
    global_sdk.reader.collect()  # start the counts from here (cumulative: read the change)
    return global_sdk


NUMBERS = [str(9_876_500_000 + i) for i in range(12)]
CALLER_NUMBERS = ["5245241", "5245242", "5245243"]
USERNAME = "acme-user-id"
NAME = "Asha Customer"


async def test_real_clients_report_spans_and_metrics_with_no_number_or_secret(
    sdk: Collected,
) -> None:
    before = sdk.points()
    async with (
        FakeCloudAgent(username=USERNAME, api_key=SECRET, auth_mode="token") as fake,
        FakeISales(app_key="AK-app-key-id", app_secret="SK-app-secret") as fake_isales,
    ):
        fake.add_campaign("spring", NUMBERS)
        fake.add_block_group(42, NUMBERS[:3])
        fake.add_skills("General")
        fake.add_phone(NUMBERS[0], "desk")
        fake.add_scheduled_rows([1])
        fake_isales.add_campaign(1, 42, [*CALLER_NUMBERS, "5245249"], name="spring")
        fake.faults.queue(Fault.SERVER_ERROR, endpoint="deleteCampaignData")
        async with CloudAgentClient(
            fake.username,
            fake.api_key,
            auth="token",
            base_url=fake.url,
            retry=FAST_RETRY,
            rate_limits={"deleteCampaignData": RateLimit(50, 1.0)},
        ) as ca:
            one = await ca.campaign_data.delete("spring", NUMBERS[0], name=NAME)
            async with aclosing(ca.campaign_data.delete_many("spring", NUMBERS[1:6])) as results:
                many = [result async for result in results]
            await ca.block_numbers.delete(42, NUMBERS[:3])
            await ca.phones.edit(
                NUMBERS[0],
                "desk",
                new_phone_number=NUMBERS[11],
                new_phone_name=NAME,
                assign_skills=["General"],
            )
            token = (await ca.tokens.generate()).value
        async with ISalesClient(
            fake_isales.url, fake_isales.app_key, fake_isales.app_secret, retry=FAST_RETRY
        ) as isales:
            await isales.caller_numbers.delete(1, 42, CALLER_NUMBERS)
        async with CloudAgentClient(
            fake.username, fake.api_key, auth="token", base_url=fake.url, telemetry=False
        ) as quiet:
            await quiet.scheduled_data.delete([1])
    assert (one.outcome, one.attempts) == ("deleted", 2)
    assert [r.outcome for r in many] == ["deleted"] * 5

    spans = sdk.spans()
    calls = [s for s in spans if s.name.startswith("ozoasync ")]
    by_endpoint = {}
    for span in calls:
        assert span.attributes is not None
        by_endpoint.setdefault(span.attributes["ozoasync.endpoint"], []).append(span)
    # One span per call of a client with telemetry (the last client had it turned off).
    assert len(by_endpoint["generateToken"]) == 1
    assert len(by_endpoint["deleteCampaignData"]) == 6
    assert "deleteScheduledData" not in by_endpoint
    assert {"deleteBlockNumberGroup", "PhoneManageV2", "deleteCallerNo"} <= by_endpoint.keys()
    retried = [
        s
        for s in by_endpoint["deleteCampaignData"]
        if s.attributes is not None and s.attributes["ozoasync.attempts"] == 2
    ]
    (retried_call,) = retried
    attempts = sorted(
        (
            s
            for s in spans
            if s.parent is not None and s.parent.span_id == retried_call.context.span_id
        ),
        key=lambda s: (s.attributes or {})["ozoasync.attempt"],
    )
    assert [(a.attributes or {}).get("http.response.status_code") for a in attempts] == [503, 200]
    assert [(a.attributes or {})["ozoasync.outcome"] for a in attempts] == ["ServerError", "ok"]
    assert (retried_call.attributes or {})["ozoasync.outcome"] == "ok"
    assert (retried_call.attributes or {})["ozoasync.rate_limit_wait"] > 0

    points = sdk.points()

    def grew(metric: str, **attributes: object) -> float:
        return value_of(points, metric, **attributes) - value_of(before, metric, **attributes)

    assert (
        grew("ozoasync.calls", ozoasync__endpoint="deleteCampaignData", ozoasync__outcome="ok") == 6
    )
    assert grew("ozoasync.requests", ozoasync__endpoint="deleteCampaignData") == 7
    assert grew("ozoasync.retries", ozoasync__endpoint="deleteCampaignData") == 1
    assert grew("ozoasync.token.generations", ozoasync__outcome="ok") == 1
    assert grew("ozoasync.bulk.items", ozoasync__outcome="deleted") >= 5
    waits = [p for p in points if p.metric == "ozoasync.rate_limit.wait"]
    assert sum(p.count for p in waits) > sum(
        p.count for p in before if p.metric == "ozoasync.rate_limit.wait"
    )

    secrets = [
        *NUMBERS,
        *CALLER_NUMBERS,
        NAME,
        USERNAME,
        SECRET,
        token,
        fake_isales.app_key,
        fake_isales.app_secret,
    ]
    reported = everything_reported(spans, points)
    assert not [(text, s) for text in reported for s in secrets if s in text]


async def test_a_cancelled_call_ends_its_span_and_is_counted_as_cancelled(sdk: Collected) -> None:
    before = sdk.points()
    arrived = asyncio.Event()

    async def never_answer(request: web.Request) -> web.Response:
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable: the client cancels first")

    async with (
        HostileServer(never_answer) as server,
        CloudAgentClient("acme", SECRET, base_url=server.url, timeout=30.0) as ca,
    ):
        call = asyncio.create_task(ca.campaign_data.delete("spring", PHONE))
        await arrived.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    spans = sdk.spans()
    (call_span,) = [s for s in spans if s.name == "ozoasync deleteCampaignData"]
    assert (call_span.attributes or {})["ozoasync.outcome"] == "CancelledError"
    assert call_span.status.status_code is StatusCode.ERROR
    (attempt_span,) = [
        s for s in spans if s.parent is not None and s.parent.span_id == call_span.context.span_id
    ]
    assert (attempt_span.attributes or {})["ozoasync.outcome"] == "CancelledError"
    points = sdk.points()
    cancelled = {"ozoasync__endpoint": "deleteCampaignData", "ozoasync__outcome": "CancelledError"}
    assert (
        value_of(points, "ozoasync.calls", **cancelled)
        - value_of(before, "ozoasync.calls", **cancelled)
        == 1
    )
