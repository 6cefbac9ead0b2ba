"""OpenTelemetry wiring: a tracer provider configured by the standard OTEL_* variables."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter


def setup_tracing(service_name: str) -> TracerProvider:
    """Install a tracer provider; exporters follow OTEL_TRACES_EXPORTER (none by default)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "none").lower()
    if exporter_name == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter_name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider
