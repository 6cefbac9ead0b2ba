"""Trace context through the outbox and Kafka on the real broker and database.

The relay publishes each row in a PRODUCER span whose parent is the context stored with the row
and puts that span's traceparent in the record; FastStream's telemetry middleware (in every
ServiceRuntime) turns it into the CONSUMER span of the handler, whose own outbox writes carry it on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from servicekit.db import transaction
from servicekit.errors import PermanentError
from servicekit.outbox import add_to_outbox
from servicekit.telemetry import default_sampler

pytestmark = pytest.mark.integration


def reset_global_tracer_provider() -> None:
    """Forget the process-wide tracer provider, as OpenTelemetry's own test utilities do.

    The other tests of the session run as if no provider were installed (the relay then adds no
    traceparent to rows that have none), so this module must not leave its provider behind.
    """
    from opentelemetry.util._once import Once

    trace._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    trace._TRACER_PROVIDER = None  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def exported() -> Iterator[InMemorySpanExporter]:
    """Every span this process finishes, from a process-wide provider like the one services install."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    installed_here = not isinstance(provider, TracerProvider)
    if installed_here:
        provider = TracerProvider(sampler=default_sampler())
        trace.set_tracer_provider(provider)
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    if installed_here:
        provider.shutdown()
        reset_global_tracer_provider()


def spans_of(exporter: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]


def one(spans: list[ReadableSpan], name: str, kind: SpanKind) -> ReadableSpan:
    found = [s for s in spans if s.name == name and s.kind == kind]
    assert len(found) == 1, f"{len(found)} spans named {name!r} of kind {kind}: {[s.name for s in spans]}"
    return found[0]


def traceparent_span_id(headers: dict[str, str]) -> int:
    return int(headers["traceparent"].split("-")[2], 16)


def publish_delays(topic: str) -> float:
    return REGISTRY.get_sample_value("factora_outbox_publish_delay_seconds_count", {"topic": topic}) or 0.0


async def test_an_event_relayed_from_the_outbox_and_consumed_stays_in_the_trace_that_wrote_it(
    exported, messaging_db, kafka_io, make_runtime, wait_until, record_headers
):
    first, second = await kafka_io.make_topic(), await kafka_io.make_topic()
    runtime = make_runtime(messaging_db.url)
    seen_in_handler: list[trace.SpanContext] = []

    async def handler(event, envelope, session) -> None:
        seen_in_handler.append(trace.get_current_span().get_span_context())
        add_to_outbox(session, second, second.schema(seq=event.seq), source="/factora/sktest", key="k")

    runtime.subscribe(first, handler)
    tracer = trace.get_tracer("servicekit-tests")
    with tracer.start_as_current_span("POST /invoices", kind=SpanKind.SERVER) as request:
        async with transaction(messaging_db.sessions) as session:
            add_to_outbox(session, first, first.schema(seq=1), source="/factora/sktest", key="k")
    trace_id = request.get_span_context().trace_id
    await runtime.start()

    [relayed] = await kafka_io.read(second.name, 1)
    await wait_until(lambda: any(s.name == f"{second.name} publish" for s in spans_of(exported, trace_id)), "spans")
    spans = spans_of(exported, trace_id)

    publish = one(spans, f"{first.name} publish", SpanKind.PRODUCER)
    assert publish.parent is not None and publish.parent.span_id == request.get_span_context().span_id
    assert publish.attributes["messaging.destination.name"] == first.name
    assert publish.attributes["messaging.kafka.offset"] == 0
    [record] = await kafka_io.read(first.name, 1)
    # The record carries the PRODUCER span, not the stored context it descends from.
    assert traceparent_span_id(record_headers(record)) == publish.context.span_id

    process = one(spans, f"{first.name} process", SpanKind.CONSUMER)
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert seen_in_handler == [process.context]

    # What the handler wrote to the outbox is published under the CONSUMER span: the next hop.
    onward = one(spans, f"{second.name} publish", SpanKind.PRODUCER)
    assert onward.parent is not None and onward.parent.span_id == process.context.span_id
    assert traceparent_span_id(record_headers(relayed)) == onward.context.span_id
    assert publish_delays(first.name) == 1 and publish_delays(second.name) == 1


async def test_a_dead_letter_is_published_in_a_span_under_the_consumer_that_gave_up(
    exported, messaging_db, kafka_io, make_runtime, wait_until, record_headers
):
    spec = await kafka_io.make_topic()
    runtime = make_runtime(messaging_db.url)

    async def refuse(event, envelope, session) -> None:
        raise PermanentError("seller unknown")

    runtime.subscribe(spec, refuse)
    tracer = trace.get_tracer("servicekit-tests")
    with tracer.start_as_current_span("partner submission") as origin:
        async with transaction(messaging_db.sessions) as session:
            add_to_outbox(session, spec, spec.schema(seq=7), source="/factora/sktest", key="k")
    trace_id = origin.get_span_context().trace_id
    await runtime.start()

    [dead] = await kafka_io.read(spec.dlq, 1)
    await wait_until(lambda: any(s.name == f"{spec.dlq} publish" for s in spans_of(exported, trace_id)), "spans")
    spans = spans_of(exported, trace_id)
    process = one(spans, f"{spec.name} process", SpanKind.CONSUMER)
    dead_letter = one(spans, f"{spec.dlq} publish", SpanKind.PRODUCER)
    assert dead_letter.parent is not None and dead_letter.parent.span_id == process.context.span_id
    headers = record_headers(dead)
    assert traceparent_span_id(headers) == dead_letter.context.span_id
    assert headers["dlq_reason"] == "seller unknown"
    assert [k for k, _ in dead.headers].count("traceparent") == 1


async def test_the_relay_queries_themselves_leave_no_orphan_database_spans(exported, messaging_db, kafka_io):
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    instrumentor = AsyncPGInstrumentor()
    instrumented_here = not instrumentor.is_instrumented_by_opentelemetry
    if instrumented_here:
        instrumentor.instrument()
    try:
        exported.clear()
        tracer = trace.get_tracer("servicekit-tests")
        async with messaging_db.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")  # a poll outside any request: dropped
            with tracer.start_as_current_span("handler") as handler:
                await conn.exec_driver_sql("SELECT 2")  # inside a handler: kept, as its child
    finally:
        if instrumented_here:
            instrumentor.uninstrument()
    queries = [s for s in exported.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert [s.attributes.get("db.statement") for s in queries] == ["SELECT 2"]
    assert queries[0].parent is not None and queries[0].parent.span_id == handler.get_span_context().span_id
