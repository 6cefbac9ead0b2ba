"""The one Kafka producer of a service: idempotent, acks=all, every send bounded in time and traced.

Each record gets a PRODUCER span ("<topic> publish") and carries that span's W3C traceparent, so
the consumer's span (FastStream's telemetry middleware reads the header) is its child and one
trace follows an invoice from service to service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import InvalidProducerEpoch, OutOfOrderSequenceNumber, ProducerFenced, UnknownProducerId
from aiokafka.structs import RecordMetadata
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode

from servicekit.settings import KafkaSettings
from servicekit.telemetry import TRACEPARENT, context_from_traceparent, traceparent_of

Record = tuple[str, str | None, Mapping[str, str], bytes]

_TRACE_HEADERS = (TRACEPARENT, "tracestate")

log = logging.getLogger(__name__)

# The idempotent producer's sequence state no longer matches the broker's (seen after a broker
# restart in the fault suite): aiokafka's sender stops for good and every later send fails, so the
# relay stalled until the service restarted. A new producer gets a new producer id; the outbox
# re-sends what was not acknowledged and the consumers' inboxes drop any copy.
FATAL_PRODUCER_ERRORS: tuple[type[BaseException], ...] = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
)


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode(errors="replace")
    return None


class SafeProducer:
    """Wraps AIOKafkaProducer with the delivery guarantees ARCHITECTURE.md requires."""

    def __init__(self, settings: KafkaSettings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._timeout = settings.send_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._renewing = asyncio.Lock()
        self.renewals = 0

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("SafeProducer used before start()")
        return self._producer

    def _build(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._settings.bootstrap_servers,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            request_timeout_ms=int(self._timeout * 1000),
        )

    async def start(self) -> None:
        # aiokafka binds to the running loop, so the client is built here, not in __init__.
        self._producer = self._build()
        await self._producer.start()

    async def _renew(self, broken: AIOKafkaProducer, error: BaseException) -> None:
        """Replace a producer that can no longer send (see FATAL_PRODUCER_ERRORS)."""
        stop_broken = broken.stop
        async with self._renewing:
            if self._producer is not broken:
                return  # another sender renewed it already
            log.warning("Kafka producer unusable (%s); starting a new one", type(error).__name__)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stop_broken(), timeout=self._timeout)
            fresh = self._build()
            await fresh.start()
            self._producer = fresh
            self.renewals += 1

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def _start_span(
        self, topic: str, key: bytes | None, headers: Sequence[tuple[str, bytes]], parent: Context | None
    ) -> tuple[trace.Span, list[tuple[str, bytes]]]:
        """A PRODUCER span for one record and the record's headers carrying its traceparent."""
        attributes: dict[str, str] = {
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "messaging.operation": "publish",
            "messaging.operation.type": "send",
            "messaging.client.id": self._client_id,
        }
        if key is not None:
            attributes["messaging.kafka.message.key"] = key.decode(errors="replace")
        if event_id := _header(headers, "ce_id"):
            attributes["messaging.message.id"] = event_id
        # Looked up per record, not cached at import: a tracer provider installed later must be used.
        tracer = trace.get_tracer(__name__)
        span = tracer.start_span(f"{topic} publish", context=parent, kind=SpanKind.PRODUCER, attributes=attributes)
        sent = [(k, v) for k, v in headers if k not in _TRACE_HEADERS]
        if traceparent := traceparent_of(span):
            sent.append((TRACEPARENT, traceparent.encode()))
        return span, sent

    @staticmethod
    def _end_span(span: trace.Span, meta: RecordMetadata | None, error: BaseException | None) -> None:
        if meta is not None:
            span.set_attribute("messaging.destination.partition.id", str(meta.partition))
            span.set_attribute("messaging.kafka.offset", meta.offset)
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()

    async def _send_traced(
        self, records: Sequence[tuple[str, bytes | None, list[tuple[str, bytes]], bytes, Context | None]]
    ) -> list[RecordMetadata]:
        spans: list[trace.Span] = []
        producer = self.producer
        try:
            futures = []
            for topic, key, headers, value, parent in records:
                span, sent = self._start_span(topic, key, headers, parent)
                spans.append(span)
                futures.append(await producer.send(topic, value=value, key=key, headers=sent))
            metas = list(await asyncio.wait_for(asyncio.gather(*futures), timeout=self._timeout))
        except BaseException as exc:
            for span in spans:
                self._end_span(span, None, exc)
            if isinstance(exc, FATAL_PRODUCER_ERRORS):
                await self._renew(producer, exc)
            raise
        for span, meta in zip(spans, metas, strict=True):
            self._end_span(span, meta, None)
        return metas

    async def send_batch(self, records: Sequence[Record]) -> list[RecordMetadata]:
        """Send all records and wait until every one is acknowledged by the broker.

        Each record's PRODUCER span is the child of the traceparent in its own headers (the outbox
        stored the context of the transaction that wrote the row), else of the current span.
        """
        return await self._send_traced(
            [
                (
                    topic,
                    key.encode() if key else None,
                    [(k, v.encode()) for k, v in headers.items()],
                    payload,
                    context_from_traceparent(headers.get(TRACEPARENT)),
                )
                for topic, key, headers, payload in records
            ]
        )

    async def send(
        self, topic: str, key: bytes | None, headers: Sequence[tuple[str, bytes]], value: bytes
    ) -> RecordMetadata:
        """Send one raw record (used for dead letters, which keep the original bytes).

        Its PRODUCER span is the child of the current span (the consumer that gave up on the
        record), else of the traceparent among its headers.
        """
        current = trace.get_current_span().get_span_context()
        parent = None if current.is_valid else context_from_traceparent(_header(headers, TRACEPARENT))
        (meta,) = await self._send_traced([(topic, key, list(headers), value, parent)])
        return meta

    async def is_connected(self) -> bool:
        """True when the producer can fetch cluster metadata."""
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=3)
            return True
        except Exception:
            return False
