"""Event consumption with the network's guarantees: inbox, retry with back-off, dead letters.

Each catalogued topic is consumed by `subscribe_event`, which registers a FastStream
subscriber with an explicit group, earliest offset and NACK_ON_ERROR: the offset is committed
only after the handler's transaction committed (or the message was dead-lettered); an
exception that survives the retries leaves the offset uncommitted and the record is redelivered.

Records come in batches (up to `KAFKA_BATCH_MAX_RECORDS`, whatever has arrived): the valid events
of a batch are claimed and handled in ONE transaction and their offsets committed once, after it.
When any handler of the batch fails, that transaction is rolled back as a whole and the batch's
records are handled again one by one, each in its own transaction with the retries and dead
letters of a single record, so a failure never costs more than the batching saved.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.catalogue import TopicSpec
from contracts.envelope import Envelope, EnvelopeError
from servicekit.db import SessionFactory
from servicekit.errors import PermanentError, TransientError
from servicekit.inbox import claim_message, claim_messages
from servicekit.metrics import DEAD_LETTERED, EVENT_AGE, HANDLER_RETRIES, MESSAGES_CONSUMED
from servicekit.producer import SafeProducer
from servicekit.settings import KafkaSettings
from servicekit.telemetry import TRACEPARENT, context_from_traceparent

log = logging.getLogger(__name__)

# The record whose handler is running (e.g. for a signature over its exact bytes and headers).
_CURRENT_RECORD: contextvars.ContextVar[ConsumerRecord | None] = contextvars.ContextVar(
    "servicekit_current_record", default=None
)

# The outcome of a record's `prepare` (see subscribe_event) while its handler runs.
_PREPARED: contextvars.ContextVar[asyncio.Future[Any] | None] = contextvars.ContextVar(
    "servicekit_prepared", default=None
)

Handler = Callable[[BaseModel, Envelope, AsyncSession], Awaitable[None]]
Prepare = Callable[[BaseModel, Envelope], Awaitable[Any]]
InvalidHandler = Callable[[bytes, Envelope, ValidationError, AsyncSession], Awaitable[None]]

# Infrastructure failures: retrying the whole record later is right, dead-lettering is not.
# TransientError is the handlers' own way to say so ("redeliver if it persists").
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    OperationalError,
    InterfaceError,
    ConnectionError,
    OSError,
    TimeoutError,
)


@dataclass
class ConsumerRuntime:
    """What every subscriber needs: the database, the producer and the retry policy."""

    service: str
    sessions: SessionFactory
    producer: SafeProducer
    kafka: KafkaSettings
    after_commit: Callable[[], None] = lambda: None


def current_record() -> ConsumerRecord | None:
    """The Kafka record being handled, as received (None outside a handler)."""
    return _CURRENT_RECORD.get()


def prepared() -> asyncio.Future[Any] | None:
    """The running or finished `prepare` of the record being handled; await it for its result (or error)."""
    return _PREPARED.get()


def backoff_delay(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential back-off with full jitter for the given 1-based attempt."""
    return random.uniform(0, min(max_s, base_s * 2 ** (attempt - 1)))


# SQLSTATEs of a server that cannot serve anyone right now: class 08 (connection exceptions),
# 57P01-57P03 (admin shutdown, crash shutdown, "the database system is starting up") and 53300
# (too many connections). The fault suite (issue #10) saw a message dead-lettered, and its invoice
# never delivered, because PostgreSQL answered 57P03 for a moment after a restart.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_infrastructure_error(exc: BaseException) -> bool:
    """True for database/broker connectivity problems, including wrapped driver errors."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES):
            return True
    return isinstance(exc, INFRASTRUCTURE_ERRORS)


async def raw_body(message: StreamMessage[ConsumerRecord]) -> bytes:
    """FastStream decoder that leaves the bytes alone: `consume` validates them itself.

    FastStream's default decoder json-loads an application/json body before `consume` runs, so a
    body that is not JSON failed there, was nacked and redelivered forever: the partition stalled.
    """
    return message.body


def _utf8_headers(record: ConsumerRecord) -> ConsumerRecord:
    try:
        for _, value in record.headers or ():
            value.decode()
    except UnicodeDecodeError:
        headers = tuple((k, v.decode(errors="replace").encode()) for k, v in record.headers)
        return dataclasses.replace(record, headers=headers)
    return record


async def tolerant_batch_parser(records: tuple[ConsumerRecord, ...], original) -> StreamMessage:  # type: ignore[no-untyped-def]
    """FastStream's batch parser, over records whose header values are made UTF-8 first.

    FastStream decodes every header value as UTF-8 and drops what fails: one partner header in
    another encoding would drop the whole batch. Undecodable bytes become U+FFFD instead; the
    envelope's own headers are ASCII, and a signature covers the payload, not these headers.
    """
    return await original(tuple(_utf8_headers(r) for r in records))


def _headers_of(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in record.headers or ()}


@dataclass
class _Parsed:
    """A record of the batch with its envelope and event, once both read."""

    record: ConsumerRecord
    headers: dict[str, str]
    envelope: Envelope
    event: BaseModel
    prepared: asyncio.Future[Any] | None = None

    def enter(self) -> tuple[contextvars.Token, contextvars.Token]:
        return _CURRENT_RECORD.set(self.record), _PREPARED.set(self.prepared)

    @staticmethod
    def leave(tokens: tuple[contextvars.Token, contextvars.Token]) -> None:
        _CURRENT_RECORD.reset(tokens[0])
        _PREPARED.reset(tokens[1])


def _process_span(record: ConsumerRecord, headers: dict[str, str], group_id: str) -> trace.Span:
    """The CONSUMER span of one record: the child of the PRODUCER span that sent it (one trace per invoice)."""
    tracer = trace.get_tracer(__name__)
    return tracer.start_span(
        f"{record.topic} process",
        context=context_from_traceparent(headers.get(TRACEPARENT)),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation": "process",
            "messaging.operation.type": "process",
            "messaging.destination_publish.name": record.topic,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
            "messaging.consumer.group.name": group_id,
            "messaging.message.id": headers.get("ce_id", ""),
        },
    )


async def dead_letter(
    runtime: ConsumerRuntime,
    raw: ConsumerRecord,
    spec: TopicSpec,
    group_id: str,
    reason: str,
    error_type: str,
) -> None:
    """Copy the record to `<topic>.dlq` with its key, headers and why it failed."""
    headers = [
        *list(raw.headers or []),
        ("dlq_reason", reason[:2000].encode()),
        ("dlq_error_type", error_type.encode()),
        ("dlq_consumer_group", group_id.encode()),
        ("dlq_original_topic", raw.topic.encode()),
        ("dlq_original_partition", str(raw.partition).encode()),
        ("dlq_original_offset", str(raw.offset).encode()),
        ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    await runtime.producer.send(spec.dlq, raw.key, headers, raw.value or b"")
    DEAD_LETTERED.labels(spec.name).inc()
    log.warning("dead-lettered %s[%s]@%s: %s: %s", raw.topic, raw.partition, raw.offset, error_type, reason)


def subscribe_event(
    broker: KafkaBroker | KafkaRouter,
    spec: TopicSpec,
    handler: Handler,
    *,
    runtime: ConsumerRuntime,
    group_id: str,
    on_invalid: InvalidHandler | None = None,
    prepare: Prepare | None = None,
) -> None:
    """Register `handler` for `spec`; it runs inside one transaction with the inbox claim.

    `on_invalid`, when given, is called (in its own idempotent transaction) for records whose
    payload is invalid, e.g. to publish a rejection to the sender; records without a readable
    envelope, or without `on_invalid`, are dead-lettered.

    `prepare`, when given, is started for every valid event of a batch at once, before the
    transaction, for slow work without side effects that can run side by side (e.g. sealing in a
    process pool); the handler awaits `prepared()` for its record's outcome. A redelivered event is
    prepared again, so `prepare` must not change anything.
    """
    consumer_name = f"{group_id}:{spec.name}"

    async def reject_invalid(
        raw: ConsumerRecord, envelope: Envelope | None, reason: str, error: ValidationError | None = None
    ) -> None:
        if on_invalid is not None and envelope is not None and error is not None:
            async with runtime.sessions() as session, session.begin():
                if await claim_message(session, envelope.id, consumer_name, spec.name):
                    await on_invalid(raw.value or b"", envelope, error, session)
            runtime.after_commit()
            MESSAGES_CONSUMED.labels(spec.name, "rejected").inc()
            return
        await dead_letter(runtime, raw, spec, group_id, reason, "invalid-message")
        MESSAGES_CONSUMED.labels(spec.name, "invalid").inc()

    async def parse(raw: ConsumerRecord) -> _Parsed | None:
        """The record's envelope and event; None when it was rejected or dead-lettered instead."""
        headers = _headers_of(raw)
        try:
            envelope = Envelope.from_headers(headers)
            if envelope.type != spec.schema_name:
                raise EnvelopeError(f"ce_type {envelope.type!r} does not belong on {spec.name}")
        except EnvelopeError as exc:
            with trace.use_span(_process_span(raw, headers, group_id), end_on_exit=True):
                await reject_invalid(raw, None, str(exc))
            return None
        # Time from the producer's event to this consumer: the per-hop latency of the pipeline.
        EVENT_AGE.labels(spec.name).observe(max(0.0, (datetime.now(UTC) - envelope.time).total_seconds()))
        try:
            event = spec.schema.model_validate_json(raw.value or b"")
        except ValidationError as exc:
            with trace.use_span(_process_span(raw, headers, group_id), end_on_exit=True):
                await reject_invalid(raw, envelope, describe_validation_error(exc), exc)
            return None
        return _Parsed(raw, headers, envelope, event)

    async def handle_alone(item: _Parsed) -> None:
        """One record in its own transaction: retries with back-off, then a dead letter or a redelivery."""
        attempts = runtime.kafka.retry_attempts
        for attempt in range(1, attempts + 1):
            try:
                outcome = await handle_once(runtime, consumer_name, spec, item.event, item.envelope, handler)
                MESSAGES_CONSUMED.labels(spec.name, outcome).inc()
                return
            except PermanentError as exc:
                await dead_letter(runtime, item.record, spec, group_id, str(exc), "permanent")
                MESSAGES_CONSUMED.labels(spec.name, "dead-lettered").inc()
                return
            except Exception as exc:
                if attempt == attempts:
                    if is_infrastructure_error(exc):
                        raise  # not the message's fault: leave it uncommitted, redeliver later
                    await dead_letter(
                        runtime,
                        item.record,
                        spec,
                        group_id,
                        f"failed {attempts} times: {exc!r}",
                        type(exc).__name__,
                    )
                    MESSAGES_CONSUMED.labels(spec.name, "dead-lettered").inc()
                    return
                HANDLER_RETRIES.labels(spec.name).inc()
                delay = backoff_delay(attempt, runtime.kafka.retry_base_delay_s, runtime.kafka.retry_max_delay_s)
                log.info("retrying %s %s in %.2fs after %r", spec.name, item.envelope.id, delay, exc)
                await asyncio.sleep(delay)

    async def handle_one_by_one(items: Sequence[_Parsed]) -> None:
        for item in items:
            tokens = item.enter()
            try:
                with trace.use_span(_process_span(item.record, item.headers, group_id), end_on_exit=True):
                    await handle_alone(item)
            finally:
                _Parsed.leave(tokens)

    async def handle_together(items: Sequence[_Parsed]) -> None:
        """Valid events of one batch: one transaction, one commit; one by one if any of them fails."""
        if len(items) == 1:
            await handle_one_by_one(items)
            return
        try:
            outcomes = await handle_batch_once(runtime, consumer_name, spec, items, handler, group_id)
        except Exception as exc:
            # Nothing of the batch was committed: each record now gets the single-record treatment.
            log.info("batch of %d %s records failed (%r); handling them one by one", len(items), spec.name, exc)
            await handle_one_by_one(items)
            return
        for outcome in outcomes:
            MESSAGES_CONSUMED.labels(spec.name, outcome).inc()

    @broker.subscriber(
        spec.name,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=True,
        max_records=runtime.kafka.batch_max_records,
        batch_timeout_ms=runtime.kafka.batch_timeout_ms,
        max_partition_fetch_bytes=runtime.kafka.max_partition_fetch_bytes,
        parser=tolerant_batch_parser,
        decoder=raw_body,
        title=f"{spec.name}:{group_id}",
        description=spec.description,
    )
    async def consume(message: KafkaMessage) -> None:
        records = message.raw_message
        if not isinstance(records, tuple):
            records = (records,)
        valid: list[_Parsed] = []
        for raw in records:
            parsed = await parse(raw)
            if parsed is not None:
                valid.append(parsed)
        if prepare is not None:
            for item in valid:
                item.prepared = asyncio.ensure_future(prepare(item.event, item.envelope))
        try:
            # Offsets are committed by FastStream once this returns (NACK_ON_ERROR): after every
            # transaction of the batch committed, or its records were rejected or dead-lettered.
            await handle_together(valid)
        finally:
            for item in valid:
                if item.prepared is not None:
                    discard(item.prepared)


def discard(future: asyncio.Future[Any]) -> None:
    """Cancel a preparation nobody awaited (a duplicate), and never leave its error unretrieved."""
    if not future.done():
        future.cancel()
    elif not future.cancelled():
        future.exception()


async def handle_batch_once(
    runtime: ConsumerRuntime,
    consumer_name: str,
    spec: TopicSpec,
    items: Sequence[_Parsed],
    handler: Handler,
    group_id: str,
) -> list[str]:
    """Claim and handle every event of a batch in one transaction; an outcome per event."""
    outcomes: list[str] = []
    async with runtime.sessions() as session, session.begin():
        unclaimed = await claim_messages(session, [item.envelope.id for item in items], consumer_name, spec.name)
        for item in items:
            tokens = item.enter()
            try:
                with trace.use_span(_process_span(item.record, item.headers, group_id), end_on_exit=True):
                    if item.envelope.id not in unclaimed:
                        outcomes.append("duplicate")
                        continue
                    unclaimed.discard(item.envelope.id)  # the same id twice in one batch is handled once
                    await handler(item.event, item.envelope, session)
                    outcomes.append("handled")
            finally:
                _Parsed.leave(tokens)
    runtime.after_commit()
    return outcomes


async def handle_once(
    runtime: ConsumerRuntime,
    consumer_name: str,
    spec: TopicSpec,
    event: BaseModel,
    envelope: Envelope,
    handler: Handler,
) -> str:
    """Claim the event id and run the handler in one transaction; 'duplicate' if seen before."""
    async with runtime.sessions() as session, session.begin():
        if not await claim_message(session, envelope.id, consumer_name, spec.name):
            return "duplicate"
        await handler(event, envelope, session)
    runtime.after_commit()
    return "handled"


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem: the field path and what is wrong with it."""
    parts = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(payload)"
        parts.append(f"{path}: {err['msg']}")
    return "; ".join(parts)
