"""Reading what the OpenTelemetry SDK's in-memory exporter and metric reader received."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    MetricsData,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass
class Collected:
    """An SDK tracer and meter provider, each recording in memory."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    @classmethod
    def new(cls) -> Collected:
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        reader = InMemoryMetricReader()
        return cls(tracer_provider, MeterProvider(metric_readers=[reader]), exporter, reader)

    def spans(self) -> tuple[ReadableSpan, ...]:
        return tuple(self.exporter.get_finished_spans())

    def points(self) -> list[Point]:
        return list(points_of(self.reader.get_metrics_data()))

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


@dataclass(frozen=True)
class Point:
    """One data point of a metric: a counter's value, or a histogram's count and sum."""

    metric: str
    attributes: dict[str, Any]
    value: float
    count: int = 0


def points_of(data: MetricsData | None) -> Iterator[Point]:
    if data is None:
        return
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    attributes = dict(point.attributes or {})
                    if isinstance(point, HistogramDataPoint):
                        yield Point(metric.name, attributes, point.sum, point.count)
                    elif isinstance(point, NumberDataPoint):
                        yield Point(metric.name, attributes, point.value)


def value_of(points: Sequence[Point], metric: str, **attributes: Any) -> float:
    """The sum of ``metric``'s points whose attributes include ``attributes`` (names with
    ``__`` for ``.``: ``ozoasync__endpoint``)."""
    wanted = {name.replace("__", "."): value for name, value in attributes.items()}
    return sum(
        p.value for p in points if p.metric == metric and wanted.items() <= p.attributes.items()
    )


def everything_reported(spans: Sequence[ReadableSpan], points: Sequence[Point]) -> list[str]:
    """Every name, attribute key and value, event and status text the SDK received, as text:
    what must never hold a phone number or a secret."""
    texts: list[str] = []

    def add(attributes: Any) -> None:
        for key, value in dict(attributes or {}).items():
            texts.extend([str(key), str(value)])

    for span in spans:
        texts.append(span.name)
        texts.append(str(span.status.description))
        add(span.attributes)
        add(span.resource.attributes)
        for event in span.events:
            texts.append(event.name)
            add(event.attributes)
        for link in span.links:
            add(link.attributes)
    for point in points:
        texts.append(point.metric)
        add(point.attributes)
    return texts
