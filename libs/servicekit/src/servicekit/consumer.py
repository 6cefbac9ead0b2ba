"""Event consumption with the network's guarantees: inbox, retry with back-off, dead letters.

Each catalogued topic is consumed by `subscribe_event`, which registers a FastStream
subscriber with an explicit group, earliest offset and NACK_ON_ERROR: the offset is committed
only after the handler's transaction committed (or the message was dead-lettered); an
exception that survives the retries leaves the offset uncommitted and the record is redelivered.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.catalogue import TopicSpec
from contracts.envelope import Envelope, EnvelopeError
from servicekit.db import SessionFactory
from servicekit.errors import PermanentError, TransientError
from servicekit.inbox import claim_message
from servicekit.metrics import DEAD_LETTERED, EVENT_AGE, HANDLER_RETRIES, MESSAGES_CONSUMED
from servicekit.producer import SafeProducer
from servicekit.settings import KafkaSettings

log = logging.getLogger(__name__)

Handler = Callable[[BaseModel, Envelope, AsyncSession], Awaitable[None]]
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


def backoff_delay(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential back-off with full jitter for the given 1-based attempt."""
    return random.uniform(0, min(max_s, base_s * 2 ** (attempt - 1)))


def is_infrastructure_error(exc: BaseException) -> bool:
    """True for database/broker connectivity problems, including wrapped driver errors."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, INFRASTRUCTURE_ERRORS)


async def raw_body(message: StreamMessage[ConsumerRecord]) -> bytes:
    """FastStream decoder that leaves the bytes alone: `consume` validates them itself.

    FastStream's default decoder json-loads an application/json body before `consume` runs, so a
    body that is not JSON failed there, was nacked and redelivered forever: the partition stalled.
    """
    return message.body


async def dead_letter(
    runtime: ConsumerRuntime,
    message: KafkaMessage,
    spec: TopicSpec,
    group_id: str,
    reason: str,
    error_type: str,
) -> None:
    """Copy the record to `<topic>.dlq` with its key, headers and why it failed."""
    raw: ConsumerRecord = message.raw_message  # type: ignore[assignment]  # never a batch here
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
) -> None:
    """Register `handler` for `spec`; it runs inside one transaction with the inbox claim.

    `on_invalid`, when given, is called (in its own idempotent transaction) for records whose
    payload is invalid, e.g. to publish a rejection to the sender; records without a readable
    envelope, or without `on_invalid`, are dead-lettered.
    """
    consumer_name = f"{group_id}:{spec.name}"

    async def reject_invalid(
        message: KafkaMessage, envelope: Envelope | None, reason: str, error: ValidationError | None = None
    ) -> None:
        if on_invalid is not None and envelope is not None and error is not None:
            async with runtime.sessions() as session, session.begin():
                if await claim_message(session, envelope.id, consumer_name, spec.name):
                    await on_invalid(message.body, envelope, error, session)
            runtime.after_commit()
            MESSAGES_CONSUMED.labels(spec.name, "rejected").inc()
            return
        await dead_letter(runtime, message, spec, group_id, reason, "invalid-message")
        MESSAGES_CONSUMED.labels(spec.name, "invalid").inc()

    @broker.subscriber(
        spec.name,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        title=f"{spec.name}:{group_id}",
        description=spec.description,
    )
    async def consume(message: KafkaMessage) -> None:
        try:
            envelope = Envelope.from_headers(message.headers)
            if envelope.type != spec.schema_name:
                raise EnvelopeError(f"ce_type {envelope.type!r} does not belong on {spec.name}")
        except EnvelopeError as exc:
            await reject_invalid(message, None, str(exc))
            return
        # Time from the producer's event to this consumer: the per-hop latency of the pipeline.
        EVENT_AGE.labels(spec.name).observe(max(0.0, (datetime.now(UTC) - envelope.time).total_seconds()))
        try:
            event = spec.schema.model_validate_json(message.body)
        except ValidationError as exc:
            await reject_invalid(message, envelope, describe_validation_error(exc), exc)
            return

        attempts = runtime.kafka.retry_attempts
        for attempt in range(1, attempts + 1):
            try:
                outcome = await handle_once(runtime, consumer_name, spec, event, envelope, handler)
                MESSAGES_CONSUMED.labels(spec.name, outcome).inc()
                return
            except PermanentError as exc:
                await dead_letter(runtime, message, spec, group_id, str(exc), "permanent")
                MESSAGES_CONSUMED.labels(spec.name, "dead-lettered").inc()
                return
            except Exception as exc:
                if attempt == attempts:
                    if is_infrastructure_error(exc):
                        raise  # not the message's fault: leave it uncommitted, redeliver later
                    await dead_letter(
                        runtime,
                        message,
                        spec,
                        group_id,
                        f"failed {attempts} times: {exc!r}",
                        type(exc).__name__,
                    )
                    MESSAGES_CONSUMED.labels(spec.name, "dead-lettered").inc()
                    return
                HANDLER_RETRIES.labels(spec.name).inc()
                delay = backoff_delay(attempt, runtime.kafka.retry_base_delay_s, runtime.kafka.retry_max_delay_s)
                log.info("retrying %s %s in %.2fs after %r", spec.name, envelope.id, delay, exc)
                await asyncio.sleep(delay)


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
