"""OpenTelemetry wiring: a tracer provider configured by the standard OTEL_* variables.

`OTEL_TRACES_EXPORTER` (a comma-separated list of `none`, `console`, `otlp`; `none` by default)
chooses where spans go; the OTLP exporter speaks OTLP/HTTP protobuf and reads the standard
`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `_HEADERS`, `_TIMEOUT`, `_COMPRESSION`; the batch
processor reads `OTEL_BSP_*`; `OTEL_TRACES_SAMPLER` replaces our default sampler. Spans are
made (and trace context propagated through HTTP, Kafka and the outbox) even when nothing is
exported, so the trace ids in the logs always join up across services.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()
# Database client spans carry one of these attributes (old and new semantic conventions).
_DB_SYSTEM_ATTRIBUTES = ("db.system", "db.system.name")


class NoOrphanDatabaseSpans(Sampler):
    """Root sampler that drops database spans which start a trace of their own.

    The outbox relay, the delivery dispatcher and the health checks poll their tables a few times
    a second outside any request or message; each poll would otherwise be a one-span trace that
    buries the traces operators look for. Queries made while handling a request or a message have
    a parent and are kept by `ParentBased`.
    """

    def __init__(self, root: Sampler = ALWAYS_ON) -> None:
        self._root = root

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if kind == SpanKind.CLIENT and attributes and any(a in attributes for a in _DB_SYSTEM_ATTRIBUTES):
            return SamplingResult(Decision.DROP)
        return self._root.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"NoOrphanDatabaseSpans{{{self._root.get_description()}}}"


def default_sampler() -> Sampler:
    """Every trace that starts from a request or a message; no orphan database spans."""
    return ParentBased(root=NoOrphanDatabaseSpans())


def exporters_from_env(environ: Mapping[str, str]) -> list[SpanExporter]:
    """The span exporters named by OTEL_TRACES_EXPORTER (unknown names are logged and skipped)."""
    exporters: list[SpanExporter] = []
    for name in (n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "none").split(",")):
        if name in ("", "none"):
            continue
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            protocol = environ.get(
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            )
            if protocol != "http/protobuf":
                log.warning("OTLP protocol %r is not installed; exporting with http/protobuf", protocol)
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        else:
            log.warning("OTEL_TRACES_EXPORTER names an unknown exporter %r; ignored", name)
    return exporters


def build_tracer_provider(service_name: str, environ: Mapping[str, str] | None = None) -> TracerProvider:
    """A tracer provider for `service_name` with the exporters and sampler the environment asks for.

    With no exporter (and no OTEL_TRACES_SAMPLER) spans are not recorded: nothing would read them,
    and recording a span per query was a fifth of a service's CPU under load. They still get ids
    and propagate, so the trace ids in the logs join up across services all the same.
    """
    environ = os.environ if environ is None else environ
    resource = Resource.create({"service.name": service_name, "service.namespace": "factora"})
    exporters = exporters_from_env(environ)
    # TracerProvider reads OTEL_TRACES_SAMPLER itself when given no sampler.
    sampler: Sampler | None = None
    if not environ.get("OTEL_TRACES_SAMPLER"):
        sampler = default_sampler() if exporters else ALWAYS_OFF
    provider = TracerProvider(resource=resource, sampler=sampler)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def records_spans(provider: TracerProvider) -> bool:
    """False when the provider drops every span (no exporter, no OTEL_TRACES_SAMPLER)."""
    return provider.sampler is not ALWAYS_OFF


def setup_tracing(service_name: str) -> TracerProvider:
    """Install the process-wide tracer provider and, when spans are recorded, trace asyncpg queries.

    Query spans leave out their parameters. Without a recording sampler the instrumentation is not
    installed at all: its wrapper still cost a few percent of a service's CPU per query for spans
    that are dropped.
    """
    provider = build_tracer_provider(service_name)
    trace.set_tracer_provider(provider)
    if not records_spans(provider):
        return provider
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    instrumentor = AsyncPGInstrumentor(capture_parameters=False)
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=provider)
    return provider


def context_from_traceparent(traceparent: str | None) -> Context | None:
    """The remote parent a stored W3C traceparent names; None when it is missing or malformed."""
    if not traceparent:
        return None
    ctx = _PROPAGATOR.extract({TRACEPARENT: traceparent})
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


def traceparent_of(span: trace.Span) -> str | None:
    """The W3C traceparent header value that makes `span` the parent of the receiver's spans."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get(TRACEPARENT)


@contextmanager
def continue_trace(
    traceparent: str | None,
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Attributes = None,
    tracer: trace.Tracer | None = None,
) -> Iterator[trace.Span]:
    """Run the block in a span whose parent is a stored traceparent (the current context without one).

    For work done later, outside the request or message that caused it: e.g. the notifications
    dispatcher sending an e-mail recorded by a consumer (store `servicekit.outbox.current_traceparent()`
    with the row, then `with continue_trace(row.traceparent, "smtp send", kind=SpanKind.CLIENT): ...`).
    """
    tracer = tracer or trace.get_tracer("factora")
    parent = context_from_traceparent(traceparent)
    with tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attributes) as span:
        yield span
