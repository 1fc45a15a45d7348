"""OpenTelemetry: the observer's spans and metrics, read back from the SDK's in-memory
exporter and metric reader, and nothing but statuses, counts and names in them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from telemetry_helpers import Collected, everything_reported, value_of

from ozoasync import AttemptInfo, GiveUpInfo, Hooks, RateLimitWaitInfo
from ozoasync.telemetry import OpenTelemetryObserver
from ozoasync.transport.observe import Observers, observer_for

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
