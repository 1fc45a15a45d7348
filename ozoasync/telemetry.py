"""OpenTelemetry for ozoasync clients (``pip install 'ozoasync[otel]'``).

With ``opentelemetry-api`` importable, every client reports a span per SDK call, a child span
per attempt, and the metrics below, through the global tracer and meter providers: they go
nowhere until the application installs providers (the OpenTelemetry SDK and an exporter),
as the API intends. ``telemetry=False`` on a client turns it off for that client.

Attributes carry endpoint names, HTTP and vendor statuses, counts, durations and error class
names only: never a phone number, name, key, token or signature (nor a URL or an error's
text, which may hold them).

This module needs ``opentelemetry-api`` at import; ``observer_for`` imports it only when the
package is installed.
"""

from __future__ import annotations

import time
from importlib import metadata
from typing import TYPE_CHECKING

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from opentelemetry.util.types import AttributeValue

    from .transport.observe import AttemptInfo, GiveUpInfo, RateLimitWaitInfo

SCOPE = "ozoasync"

# Span and metric attributes: OpenTelemetry's names where one exists, ``ozoasync.*`` otherwise.
ENDPOINT = "ozoasync.endpoint"
OUTCOME = "ozoasync.outcome"
ATTEMPT = "ozoasync.attempt"
ATTEMPTS = "ozoasync.attempts"
VENDOR_STATUS = "ozoasync.vendor_status"
RATE_LIMIT_WAIT = "ozoasync.rate_limit_wait"
WILL_RETRY = "ozoasync.will_retry"
OPERATION = "ozoasync.operation"
HTTP_METHOD = "http.request.method"
HTTP_STATUS = "http.response.status_code"
ERROR_TYPE = "error.type"

OK = "ok"

# The endpoint whose sends are token generations (CloudAgent's CAToken/generateToken): each
# one invalidates the account's earlier tokens and counts against the vendor's 10 per hour.
TOKEN_ENDPOINTS = frozenset({"generateToken"})

# Seconds, from a millisecond to the two minutes a rate-limit queue can reach at 100/minute.
_SECONDS_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

# A hostile or broken server may put anything in its status field; keep attributes short.
_MAX_VENDOR_STATUS = 32


def _version() -> str:
    try:
        return metadata.version("ozoasync")
    except metadata.PackageNotFoundError:
        return "unknown"


class OpenTelemetryObserver:
    """The :class:`~ozoasync.transport.observe.Observer` that reports to OpenTelemetry's
    global providers (or the ones given)."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        version = _version()
        self.tracer = trace.get_tracer(SCOPE, version, tracer_provider)
        meter = metrics.get_meter(SCOPE, version, meter_provider)
        self.calls = meter.create_counter(
            "ozoasync.calls", "{call}", "SDK calls that ended, by endpoint and outcome"
        )
        self.call_duration = meter.create_histogram(
            "ozoasync.call.duration",
            "s",
            "Duration of SDK calls, rate-limit waits and retries included",
            explicit_bucket_boundaries_advisory=_SECONDS_BUCKETS,
        )
        self.requests = meter.create_counter(
            "ozoasync.requests", "{request}", "Requests sent (attempts), by endpoint and outcome"
        )
        self.retries = meter.create_counter(
            "ozoasync.retries", "{retry}", "Attempts followed by another, by endpoint and error"
        )
        self.rate_limit_wait = meter.create_histogram(
            "ozoasync.rate_limit.wait",
            "s",
            "Time an attempt waited for its rate-limit slot",
            explicit_bucket_boundaries_advisory=_SECONDS_BUCKETS,
        )
        self.token_generations = meter.create_counter(
            "ozoasync.token.generations", "{request}", "Token generation requests sent"
        )
        self.bulk_items = meter.create_counter(
            "ozoasync.bulk.items", "{item}", "Items of bulk calls finished, by outcome"
        )

    def call(self, endpoint: str, method: str) -> _CallTelemetry:
        return _CallTelemetry(self, endpoint, method)

    def progress(self, operation: str, outcome: str, count: int) -> None:
        self.bulk_items.add(count, {OPERATION: operation, OUTCOME: outcome})


class _CallTelemetry:
    """One call: its span (a child of the caller's current span) and its measurements."""

    __slots__ = (
        "_attempts",
        "_endpoint",
        "_last",
        "_method",
        "_otel",
        "_span",
        "_started",
        "_waited",
    )

    def __init__(self, otel: OpenTelemetryObserver, endpoint: str, method: str) -> None:
        self._otel = otel
        self._endpoint = endpoint
        self._method = method
        self._started = time.monotonic()
        self._attempts = 0
        self._waited = 0.0
        self._last: AttemptInfo | None = None
        self._span = otel.tracer.start_span(
            f"ozoasync {endpoint}", attributes={ENDPOINT: endpoint, HTTP_METHOD: method}
        )

    def rate_limit_wait(self, info: RateLimitWaitInfo) -> None:
        self._waited += info.waited
        self._otel.rate_limit_wait.record(info.waited, {ENDPOINT: info.endpoint})

    def attempt(self, info: AttemptInfo) -> None:
        self._attempts = info.attempt
        self._last = info
        measured: dict[str, AttributeValue] = {ENDPOINT: info.endpoint, OUTCOME: info.outcome}
        if info.http_status is not None:
            measured[HTTP_STATUS] = info.http_status
        self._otel.requests.add(1, measured)
        if info.endpoint in TOKEN_ENDPOINTS:
            self._otel.token_generations.add(1, {OUTCOME: info.outcome})
        if info.will_retry:
            self._otel.retries.add(1, {ENDPOINT: info.endpoint, ERROR_TYPE: info.outcome})
        if self._span.is_recording():
            self._attempt_span(info)

    def _attempt_span(self, info: AttemptInfo) -> None:
        # The attempt is over when it is reported: its span is made after the fact, with the
        # attempt's own start and end, as a child of the call's span.
        ended = time.time_ns()
        attributes: dict[str, AttributeValue] = {
            ENDPOINT: info.endpoint,
            HTTP_METHOD: info.method,
            ATTEMPT: info.attempt,
            OUTCOME: info.outcome,
            RATE_LIMIT_WAIT: info.rate_limit_wait,
            WILL_RETRY: info.will_retry,
        }
        attributes.update(_answer_attributes(info))
        span = self._otel.tracer.start_span(
            f"{info.method} {info.endpoint}",
            context=trace.set_span_in_context(self._span),
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=ended - int(info.duration * 1e9),
        )
        if info.outcome != OK:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=ended)

    def give_up(self, info: GiveUpInfo) -> None:
        # The error's text is left out: it may quote what the server answered.
        self._span.add_event("give_up", {ATTEMPTS: info.attempts, ERROR_TYPE: info.error_type})

    def end(self, outcome: str) -> None:
        attributes = {ENDPOINT: self._endpoint, OUTCOME: outcome}
        self._otel.calls.add(1, attributes)
        self._otel.call_duration.record(time.monotonic() - self._started, attributes)
        span = self._span
        if not span.is_recording():
            return
        span.set_attributes(
            {OUTCOME: outcome, ATTEMPTS: self._attempts, RATE_LIMIT_WAIT: self._waited}
        )
        if self._last is not None:
            span.set_attributes(_answer_attributes(self._last))
        if outcome != OK:
            span.set_attribute(ERROR_TYPE, outcome)
            span.set_status(Status(StatusCode.ERROR))
        span.end()


def _answer_attributes(info: AttemptInfo) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    if info.http_status is not None:
        attributes[HTTP_STATUS] = info.http_status
    if info.vendor_status is not None:
        attributes[VENDOR_STATUS] = info.vendor_status[:_MAX_VENDOR_STATUS]
    if info.outcome != OK:
        attributes[ERROR_TYPE] = info.outcome
    return attributes
