"""Tracer configuration from the standard OTEL_* variables, the sampler, and stored trace contexts."""

from __future__ import annotations

import logging

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from servicekit.telemetry import (
    build_tracer_provider,
    context_from_traceparent,
    continue_trace,
    default_sampler,
    exporters_from_env,
    records_spans,
    traceparent_of,
)

pytestmark = pytest.mark.unit

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"


@pytest.mark.parametrize("value", [None, "", "none", "NONE"])
def test_nothing_is_exported_by_default_or_with_none(value):
    environ = {} if value is None else {"OTEL_TRACES_EXPORTER": value}
    assert exporters_from_env(environ) == []


def test_console_and_otlp_exporters_are_chosen_by_name_and_otlp_reads_the_standard_endpoint():
    console, otlp = exporters_from_env(
        {
            "OTEL_TRACES_EXPORTER": "console, otlp",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector.internal:4318/v1/traces",
        }
    )
    assert isinstance(console, ConsoleSpanExporter)
    assert isinstance(otlp, OTLPSpanExporter)
    # The exporter reads OTEL_EXPORTER_OTLP_* from the process environment, not from our mapping.
    assert otlp._endpoint.startswith("http")


def test_an_unknown_exporter_is_ignored_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="servicekit.telemetry"):
        assert exporters_from_env({"OTEL_TRACES_EXPORTER": "zipkin"}) == []
    assert "zipkin" in caplog.text


def test_the_provider_names_the_service_and_uses_our_sampler_unless_otel_traces_sampler_is_set():
    provider = build_tracer_provider("signing", {"OTEL_TRACES_EXPORTER": "console"})
    assert provider.resource.attributes["service.name"] == "signing"
    assert provider.resource.attributes["service.namespace"] == "factora"
    assert "NoOrphanDatabaseSpans" in provider.sampler.get_description()
    assert (
        "NoOrphan"
        not in build_tracer_provider("signing", {"OTEL_TRACES_SAMPLER": "always_on"}).sampler.get_description()
    )


def test_without_an_exporter_spans_are_not_recorded_but_still_carry_ids_that_propagate():
    tracer = build_tracer_provider("signing", {}).get_tracer("test")
    with tracer.start_as_current_span("handler") as parent:
        child = tracer.start_span("query")
    assert not parent.is_recording() and not child.is_recording()
    assert parent.get_span_context().is_valid
    assert child.get_span_context().trace_id == parent.get_span_context().trace_id


def test_query_tracing_is_installed_only_when_spans_are_recorded():
    assert not records_spans(build_tracer_provider("invoicing", {}))
    assert records_spans(build_tracer_provider("invoicing", {"OTEL_TRACES_EXPORTER": "console"}))
    assert records_spans(build_tracer_provider("invoicing", {"OTEL_TRACES_SAMPLER": "always_on"}))


def test_database_spans_are_kept_under_a_handler_and_dropped_when_they_would_start_a_trace():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=default_sampler())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    db = {"db.system": "postgresql", "db.statement": "SELECT 1"}
    tracer.start_span("SELECT", kind=SpanKind.CLIENT, attributes=db).end()  # a relay poll
    with tracer.start_as_current_span("signing.invoice-sealed.v1 process", kind=SpanKind.CONSUMER):
        tracer.start_span("SELECT", kind=SpanKind.CLIENT, attributes=db).end()
    tracer.start_span("GET /invoices", kind=SpanKind.SERVER).end()
    assert sorted(s.name for s in exporter.get_finished_spans()) == [
        "GET /invoices",
        "SELECT",
        "signing.invoice-sealed.v1 process",
    ]
    [query] = [s for s in exporter.get_finished_spans() if s.name == "SELECT"]
    assert query.parent is not None


def test_a_stored_traceparent_becomes_the_parent_context_and_a_malformed_one_is_ignored():
    ctx = context_from_traceparent(f"00-{TRACE_ID}-{SPAN_ID}-01")
    assert ctx is not None
    parent = trace.get_current_span(ctx).get_span_context()
    assert (f"{parent.trace_id:032x}", f"{parent.span_id:016x}", parent.is_remote) == (TRACE_ID, SPAN_ID, True)
    for bad in (None, "", "garbage", f"00-{'0' * 32}-{SPAN_ID}-01"):
        assert context_from_traceparent(bad) is None


def test_continue_trace_runs_later_work_in_a_child_of_the_stored_context():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("notifications.send-requested.v1 process") as consumer:
        stored = traceparent_of(consumer)
    assert stored is not None and stored.split("-")[2] == f"{consumer.get_span_context().span_id:016x}"

    with continue_trace(stored, "smtp send", kind=SpanKind.CLIENT, tracer=tracer) as send:
        inside = trace.get_current_span()
    assert inside is send
    context = send.get_span_context()
    assert context.trace_id == consumer.get_span_context().trace_id
    assert send.parent is not None and send.parent.span_id == consumer.get_span_context().span_id  # type: ignore[attr-defined]
