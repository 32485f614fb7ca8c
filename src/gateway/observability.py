"""What an on-call engineer sees: Prometheus metrics, one JSON log line per request, optional traces.

Metrics cover GraphQL operations (count by name and outcome, latency), every upstream call (latency
by service and route, errors by kind, retries, breaker state), dataloader batch sizes and cache hits.
With several workers, prometheus_client's multiprocess mode aggregates them (``gateway serve`` sets
it up). Traces are OpenTelemetry spans for each operation and each upstream call, only when an
exporter is configured; when it is not, nothing is created and nothing is paid.

Logs never carry tokens or personal data: a request line holds the request id, operation name and
type, status, outcome, duration and the viewer's role, never ids, names or addresses.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from gateway.upstream.resilience import BreakerState

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BREAKER_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class Metrics:
    """Prometheus instruments, in their own registry (so tests and apps never collide)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter("gateway_graphql_requests", "GraphQL requests by operation and outcome.",
                                ["operation", "type", "outcome"], registry=r)
        self.latency = Histogram("gateway_graphql_duration_seconds", "GraphQL request latency.",
                                 ["operation", "type"], buckets=LATENCY_BUCKETS, registry=r)
        self.upstream_latency = Histogram("gateway_upstream_duration_seconds", "Upstream call latency.",
                                          ["service", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.upstream_calls = Counter("gateway_upstream_calls", "Upstream calls by outcome.",
                                      ["service", "route", "outcome"], registry=r)
        self.upstream_errors = Counter("gateway_upstream_errors", "Upstream failures by kind.",
                                       ["service", "kind"], registry=r)
        self.retries = Counter("gateway_upstream_retries", "Retries of idempotent upstream reads.",
                               ["service", "route"], registry=r)
        self.breaker_state = Gauge("gateway_upstream_breaker_state",
                                   "Circuit breaker: 0 closed, 1 half-open, 2 open.", ["service"], registry=r,
                                   multiprocess_mode="max")
        self.batch_size = Histogram("gateway_dataloader_batch_size", "Keys per batched upstream read.",
                                    ["loader"], buckets=(1, 2, 5, 10, 20, 50, 100), registry=r)
        self.cache = Counter("gateway_cache_lookups", "Cache lookups by cache and result (hit/miss).",
                             ["cache", "result"], registry=r)
        for service in ("orders", "carrier", "aftersales"):
            self.breaker_state.labels(service).set(0)
        # Label children by their label values; bounded by the bounded operation names and routes.
        self._children: dict[Any, Any] = {}

    # UpstreamObserver. Label lookups are cached: prometheus_client's labels() is not free on a hot path.
    def call(self, service: str, route: str, outcome: str, seconds: float) -> None:
        key = (service, route, outcome)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.upstream_calls.labels(service, route, outcome),
                                              self.upstream_latency.labels(service, route))
        children[0].inc()
        if outcome not in ("breaker_open", "saturated"):
            children[1].observe(seconds)
        if outcome != "ok" and not outcome.startswith("http_4"):
            self.upstream_errors.labels(service, outcome).inc()

    def retry(self, service: str, route: str) -> None:
        self.retries.labels(service, route).inc()

    def breaker(self, service: str, state: BreakerState) -> None:
        self.breaker_state.labels(service).set(BREAKER_VALUES[state])

    def batch(self, loader: str, size: int) -> None:
        child = self._children.get(loader)
        if child is None:
            child = self._children[loader] = self.batch_size.labels(loader)
        child.observe(size)

    def cache_lookup(self, cache: str, hit: bool) -> None:
        key = (cache, hit)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.cache.labels(cache, "hit" if hit else "miss")
        child.inc()

    def request(self, operation: str, kind: str, outcome: str, seconds: float) -> None:
        key = ("request", operation, kind, outcome)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(operation, kind, outcome),
                                              self.latency.labels(operation, kind))
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={"fields": {...}}`` adds structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log would repeat our request line without the GraphQL facts.
    logging.getLogger("uvicorn.access").disabled = True


class Tracing:
    """OpenTelemetry spans, or nothing at all when no exporter is configured."""

    def __init__(self, exporter: str, endpoint: str = "", service_name: str = "order-tracker-gateway",
                 span_exporter: Any = None) -> None:
        self.enabled = exporter != "none" or span_exporter is not None
        self.tracer: Any = None
        if not self.enabled:
            return
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        if span_exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        elif exporter == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint or None)))
        self.provider = provider
        self.tracer = provider.get_tracer("gateway")

    @contextmanager
    def span(self, name: str, traceparent: str | None = None, **attributes: Any) -> Iterator[Any]:
        """A span (child of ``traceparent`` when given); callers check ``enabled`` first on hot paths."""
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        context = TraceContextTextMapPropagator().extract({"traceparent": traceparent}) if traceparent else None
        with self.tracer.start_as_current_span(name, context=context, attributes=attributes) as span:
            yield span

    @staticmethod
    def current_traceparent() -> str | None:
        """The traceparent of the current span, to pass to an upstream as its parent."""
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier)
        return carrier.get("traceparent")

    def shutdown(self) -> None:
        if self.enabled:
            self.provider.shutdown()


_access = logging.getLogger("gateway.access")
_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class RequestInstruments:
    """The endpoint's hook: a metric sample and one log line per operation, and its span."""

    def __init__(self, metrics: Metrics, tracing: Tracing, max_names: int = 200) -> None:
        self.metrics, self.tracing, self.max_names = metrics, tracing, max_names
        self._names: set[str] = set()

    def _label(self, name: str) -> str:
        # Operation names come from clients: keep the label set bounded.
        if name in self._names or name in ("-", "anonymous"):
            return name
        if not _NAME_OK.match(name) or len(self._names) >= self.max_names:
            return "other"
        self._names.add(name)
        return name

    def done(self, request: Any, request_id: str, handled: Any, seconds: float, viewer: Any) -> None:
        operation = self._label(handled.operation)
        self.metrics.request(operation, handled.kind, handled.outcome, seconds)
        codes = sorted({str(e.get("extensions", {}).get("code", "")) for e in handled.body.get("errors", ())
                        if isinstance(e, dict)} - {""})
        _access.info("%s %s %s", handled.kind, operation, handled.outcome, extra={"fields": {
            "request_id": request_id, "operation": operation, "type": handled.kind, "status": handled.status,
            "outcome": handled.outcome, "duration_ms": round(seconds * 1000, 2), "error_codes": codes,
            "role": viewer.role.value if viewer is not None else "anonymous", "method": request.method,
        }})

    def operation_span(self, name: str, traceparent: str | None) -> AbstractContextManager[Any]:
        if not self.tracing.enabled:
            return nullcontext()
        return self.tracing.span(name, traceparent)
