"""Publish signed partner submissions to Kafka with safe producer settings (async, plus a sync facade)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from contracts.v1 import PartnerInvoiceSubmitted
from factora_partner.errors import InvoiceDataError, PartnerSdkError, PublishError
from factora_partner.events import build_submission
from factora_partner.signing import PartnerCredential, SignedRecord, sign_submission

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"
BOOTSTRAP_ENV = "FACTORA_KAFKA_BOOTSTRAP"


def default_bootstrap() -> str:
    """FACTORA_KAFKA_BOOTSTRAP, else the broker of `make up` (127.0.0.1:19092)."""
    return os.environ.get(BOOTSTRAP_ENV, "").strip() or DEFAULT_BOOTSTRAP


@dataclass(frozen=True)
class ProducerSettings:
    """Producer tuning. Durability is not negotiable (acks=all, idempotence on); batching is bounded."""

    linger_ms: int = 10  # a short wait lets send_many fill batches without delaying a single send noticeably
    max_batch_size: int = 64 * 1024
    request_timeout_ms: int = 30_000
    send_timeout_s: float = 60.0  # how long one record may wait for the broker's acknowledgement
    max_in_flight: int = 200  # send_many keeps at most this many records unacknowledged
    client_id: str = "factora-partner-sdk"


@dataclass(frozen=True)
class SendResult:
    """What happened to one invoice: sent (with its partition and offset) or failed (with the reason)."""

    external_id: str | None
    event_id: str | None = None
    key: str | None = None
    partition: int | None = None
    offset: int | None = None
    error: str | None = None
    label: str | None = None  # the caller's name for the item, e.g. the file it came from

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.label,
            "status": "sent" if self.ok else "failed",
            "external_id": self.external_id,
            "event_id": self.event_id,
            "key": self.key,
            "partition": self.partition,
            "offset": self.offset,
            "error": self.error,
        }


InvoiceInput: TypeAlias = PartnerInvoiceSubmitted | Mapping[str, Any]
Progress: TypeAlias = Callable[[int, int, SendResult], None]


class PartnerPublisher:
    """Signs and publishes partner invoices. Use as `async with PartnerPublisher(credential) as pub:`."""

    def __init__(
        self,
        credential: PartnerCredential,
        *,
        bootstrap_servers: str | None = None,
        settings: ProducerSettings | None = None,
    ) -> None:
        self.credential = credential
        self.bootstrap_servers = bootstrap_servers or default_bootstrap()
        self.settings = settings or ProducerSettings()
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        s = self.settings
        # aiokafka binds to the running loop, so the client is built here rather than in __init__.
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            client_id=s.client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=s.linger_ms,
            max_batch_size=s.max_batch_size,
            request_timeout_ms=s.request_timeout_ms,
        )
        try:
            await producer.start()
        except KafkaConnectionError as exc:
            await producer.stop()
            raise PublishError(
                f"cannot reach Kafka at {self.bootstrap_servers}: {exc}; check --bootstrap / {BOOTSTRAP_ENV}"
            ) from exc
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()  # flushes what is still batched
            self._producer = None

    async def __aenter__(self) -> PartnerPublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise PartnerSdkError("the publisher is not started: use `async with PartnerPublisher(...)`")
        return self._producer

    def sign(self, invoice: InvoiceInput) -> SignedRecord:
        """Validate (a dict is checked against the contract) and sign one invoice."""
        if isinstance(invoice, PartnerInvoiceSubmitted):
            event = invoice
        else:
            # A dict without partner_id is sent as the credential's partner system.
            event = build_submission(invoice, partner_id=invoice.get("partner_id") or self.credential.partner_id)
        return sign_submission(event, self.credential)

    async def _enqueue(self, record: SignedRecord) -> asyncio.Future[Any]:
        return await self.producer.send(
            record.topic, record.value, key=record.key.encode(), headers=record.kafka_headers()
        )

    async def send(self, invoice: InvoiceInput) -> SendResult:
        """Publish one invoice and wait for the broker's acknowledgement; PublishError if none comes."""
        record = self.sign(invoice)
        try:
            metadata = await asyncio.wait_for(await self._enqueue(record), self.settings.send_timeout_s)
        except (KafkaError, TimeoutError) as exc:
            raise PublishError(f"{record.event.external_id}: not acknowledged by Kafka ({exc!r})") from exc
        return _sent(record, metadata)

    async def send_many(
        self,
        invoices: Iterable[InvoiceInput | tuple[str, InvoiceInput]],
        *,
        progress: Progress | None = None,
    ) -> list[SendResult]:
        """Publish a batch; one result per invoice, in order. Never raises for a single bad invoice.

        Items may be `(label, invoice)` pairs; the label (e.g. a file name) is kept in the result.
        `progress(done, total, result)` is called as each invoice is acknowledged or fails.
        """
        items = [item if isinstance(item, tuple) else (None, item) for item in invoices]
        total, done = len(items), 0
        results: list[SendResult | None] = [None] * total
        window = asyncio.Semaphore(self.settings.max_in_flight)

        def finish(index: int, result: SendResult) -> None:
            nonlocal done
            results[index] = result
            done += 1
            if progress is not None:
                progress(done, total, result)

        async def deliver(index: int, label: str | None, record: SignedRecord, ack: asyncio.Future[Any]) -> None:
            try:
                metadata = await asyncio.wait_for(ack, self.settings.send_timeout_s)
                finish(index, _sent(record, metadata, label))
            except (KafkaError, TimeoutError) as exc:
                finish(index, _failed(record.event.external_id, f"not acknowledged by Kafka ({exc!r})", label))
            finally:
                window.release()

        waiting = []
        for index, (label, invoice) in enumerate(items):
            try:
                record = self.sign(invoice)
            except (InvoiceDataError, PartnerSdkError, ValueError) as exc:  # ValueError: a header with a line break
                external_id = invoice.get("external_id") if isinstance(invoice, Mapping) else invoice.external_id
                finish(index, _failed(external_id, str(exc), label))
                continue
            await window.acquire()
            try:
                ack = await self._enqueue(record)
            except KafkaError as exc:
                window.release()
                finish(index, _failed(record.event.external_id, f"not accepted by the producer ({exc!r})", label))
                continue
            waiting.append(asyncio.ensure_future(deliver(index, label, record, ack)))
        await asyncio.gather(*waiting)
        return [r for r in results if r is not None]


def _sent(record: SignedRecord, metadata: Any, label: str | None = None) -> SendResult:
    return SendResult(
        external_id=record.event.external_id,
        event_id=record.event_id,
        key=record.key,
        partition=metadata.partition,
        offset=metadata.offset,
        label=label,
    )


def _failed(external_id: str | None, reason: str, label: str | None) -> SendResult:
    return SendResult(external_id=external_id, error=reason, label=label)


class SyncPartnerPublisher:
    """The same publisher for scripts without asyncio: `with SyncPartnerPublisher(credential) as pub:`."""

    def __init__(self, credential: PartnerCredential, **kwargs: Any) -> None:
        self._async = PartnerPublisher(credential, **kwargs)
        self._runner: asyncio.Runner | None = None

    def __enter__(self) -> SyncPartnerPublisher:
        self._runner = asyncio.Runner()
        try:
            self._runner.run(self._async.start())
        except BaseException:
            self._runner.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            try:
                self._runner.run(self._async.stop())
            finally:
                self._runner.close()
                self._runner = None

    def _run(self, coro: Any) -> Any:
        if self._runner is None:
            coro.close()
            raise PartnerSdkError("use the publisher inside `with SyncPartnerPublisher(...) as pub:`")
        return self._runner.run(coro)

    def send(self, invoice: InvoiceInput) -> SendResult:
        return self._run(self._async.send(invoice))

    def send_many(
        self, invoices: Iterable[InvoiceInput | tuple[str, InvoiceInput]], *, progress: Progress | None = None
    ) -> list[SendResult]:
        return self._run(self._async.send_many(invoices, progress=progress))
