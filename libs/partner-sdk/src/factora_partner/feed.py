"""Read what Factora says back to a partner: rejections and invoice status changes, as an async iterator."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from pydantic import ValidationError

from contracts.envelope import Envelope, EnvelopeError
from contracts.topics.invoicing import INVOICE_STATUS_CHANGED, PARTNER_INVOICE_REJECTED
from contracts.v1 import InvoiceStatusChanged, PartnerInvoiceRejected
from factora_partner.errors import PartnerSdkError
from factora_partner.publisher import BOOTSTRAP_ENV, default_bootstrap

log = logging.getLogger(__name__)

Kind = Literal["rejection", "status"]
TOPIC_KINDS: dict[str, Kind] = {PARTNER_INVOICE_REJECTED.name: "rejection", INVOICE_STATUS_CHANGED.name: "status"}
KIND_TOPICS = {kind: topic for topic, kind in TOPIC_KINDS.items()}


@dataclass(frozen=True)
class FeedItem:
    """One event for this partner, with where it sits in Kafka (to resume from later)."""

    kind: Kind
    topic: str
    partition: int
    offset: int
    timestamp: datetime
    envelope: Envelope
    event: PartnerInvoiceRejected | InvoiceStatusChanged

    @property
    def rejection(self) -> PartnerInvoiceRejected | None:
        return self.event if isinstance(self.event, PartnerInvoiceRejected) else None

    @property
    def status(self) -> InvoiceStatusChanged | None:
        return self.event if isinstance(self.event, InvoiceStatusChanged) else None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form: position, envelope id and time, and the payload."""
        return {
            "kind": self.kind,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "event_id": self.envelope.id,
            "time": self.envelope.time.isoformat(),
            "event": self.event.model_dump(mode="json"),
        }


def matches(
    kind: Kind,
    event: PartnerInvoiceRejected | InvoiceStatusChanged,
    envelope: Envelope,
    *,
    partner_id: str | None,
    company_id: str | None,
) -> bool:
    """Is this event about this partner (and, when given, this supplier company)?"""
    if isinstance(event, PartnerInvoiceRejected):
        if company_id and envelope.tenant and envelope.tenant != company_id:
            return False
        if event.partner_id is not None:
            return partner_id is None or event.partner_id == partner_id
        # An unreadable submission has no partner_id; it is still the supplier's when the tenant says so.
        return company_id is not None and envelope.tenant == company_id
    if company_id and event.seller_company_id != company_id:
        return False
    return partner_id is None or event.partner_id == partner_id


class PartnerFeed:
    """Rejections and status changes for one partner system, oldest first.

        async with PartnerFeed(partner_id="...", company_id="...") as feed:
            async for item in feed:
                ...

    Start: `from_offsets` ({(topic, partition): offset}), else the offsets committed for
    `group_id` (when given), else the first record at or after `since`, else `start`
    ("beginning" or "end"). With `follow=False` the iteration ends at the records that existed
    when it started; with `follow=True` it waits for new ones until the loop is left or cancelled.
    With a `group_id`, each item's offset is committed once the next one is asked for.
    """

    def __init__(
        self,
        *,
        partner_id: str | None = None,
        company_id: str | None = None,
        bootstrap_servers: str | None = None,
        kinds: Sequence[Kind] = ("rejection", "status"),
        since: datetime | None = None,
        start: Literal["beginning", "end"] = "beginning",
        from_offsets: Mapping[tuple[str, int], int] | None = None,
        group_id: str | None = None,
        follow: bool = False,
        poll_timeout_ms: int = 500,
    ) -> None:
        if not partner_id and not company_id:
            raise PartnerSdkError("give partner_id, company_id or both: the feed only shows your own events")
        self.partner_id = partner_id
        self.company_id = company_id
        self.bootstrap_servers = bootstrap_servers or default_bootstrap()
        self.topics = [KIND_TOPICS[kind] for kind in kinds]
        self.since = since
        self.start_at = start
        self.from_offsets = dict(from_offsets or {})
        self.group_id = group_id
        self.follow = follow
        self.poll_timeout_ms = poll_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._end: dict[TopicPartition, int] = {}

    async def __aenter__(self) -> PartnerFeed:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="factora-partner-feed",
        )
        try:
            await consumer.start()
            available = await consumer.topics()
        except KafkaConnectionError as exc:
            await consumer.stop()
            raise PartnerSdkError(
                f"cannot reach Kafka at {self.bootstrap_servers}: {exc}; check the address or {BOOTSTRAP_ENV}"
            ) from exc
        missing = [t for t in self.topics if t not in available]
        if missing:
            await consumer.stop()
            raise PartnerSdkError(
                f"topic(s) {', '.join(missing)} not found at {self.bootstrap_servers}: is it Factora's?"
            )
        # topics() does not keep what it fetched; a full metadata refresh fills the client's view of partitions
        # (aiokafka has no public call for a consumer that assigns partitions itself).
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            await consumer.stop()
            raise PartnerSdkError(f"no partition metadata for {', '.join(self.topics)} at {self.bootstrap_servers}")
        # Manual assignment: no rebalancing, and a group (when given) only stores our offsets.
        consumer.assign(partitions)
        await self._seek(consumer, partitions)
        self._end = await consumer.end_offsets(partitions)
        self._consumer = consumer

    async def _seek(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        by_time: dict[TopicPartition, int] = {}
        for tp in partitions:
            if (tp.topic, tp.partition) in self.from_offsets:
                consumer.seek(tp, self.from_offsets[(tp.topic, tp.partition)])
                continue
            committed = await consumer.committed(tp) if self.group_id else None
            if committed is not None:
                consumer.seek(tp, committed)
            elif self.since is not None:
                by_time[tp] = int(self.since.timestamp() * 1000)
            elif self.start_at == "end":
                await consumer.seek_to_end(tp)
            else:
                await consumer.seek_to_beginning(tp)
        if by_time:
            found = await consumer.offsets_for_times(by_time)
            for tp, at in found.items():
                if at is None:
                    await consumer.seek_to_end(tp)  # nothing that recent yet
                else:
                    consumer.seek(tp, at.offset)

    async def close(self, timeout_s: float = 10.0) -> None:
        """Stop the consumer; a stop that hangs (an unreachable broker) is given up after `timeout_s`."""
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                await asyncio.wait_for(consumer.stop(), timeout_s)
            except TimeoutError:
                log.warning("the Kafka consumer did not stop within %.0f s; leaving it", timeout_s)

    async def _caught_up(self, consumer: AIOKafkaConsumer) -> bool:
        for tp, end in self._end.items():
            if await consumer.position(tp) < end:
                return False
        return True

    def __aiter__(self) -> AsyncIterator[FeedItem]:
        return self._items()

    async def _items(self) -> AsyncIterator[FeedItem]:
        consumer = self._consumer
        if consumer is None:
            raise PartnerSdkError("open the feed first: `async with PartnerFeed(...) as feed:`")
        while self.follow or not await self._caught_up(consumer):
            batches = await consumer.getmany(timeout_ms=self.poll_timeout_ms)
            for tp, records in batches.items():
                for record in records:
                    item = self._item(record)
                    if item is None:
                        continue
                    yield item
                    if self.group_id:
                        await consumer.commit({tp: record.offset + 1})

    def _item(self, record) -> FeedItem | None:  # type: ignore[no-untyped-def]
        kind = TOPIC_KINDS[record.topic]
        try:
            envelope = Envelope.from_headers(record.headers or [])
            payload = json.loads(record.value or b"null")
            model = PartnerInvoiceRejected if kind == "rejection" else InvoiceStatusChanged
            event = model.model_validate(payload)
        except (EnvelopeError, ValueError, ValidationError) as exc:
            log.warning("skipping unreadable record %s/%s@%s: %s", record.topic, record.partition, record.offset, exc)
            return None
        if not matches(kind, event, envelope, partner_id=self.partner_id, company_id=self.company_id):
            return None
        return FeedItem(
            kind=kind,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            timestamp=datetime.fromtimestamp(record.timestamp / 1000, UTC),
            envelope=envelope,
            event=event,
        )


async def read_rejections(
    *,
    partner_id: str | None = None,
    company_id: str | None = None,
    bootstrap_servers: str | None = None,
    since: datetime | None = None,
) -> list[PartnerInvoiceRejected]:
    """Every rejection for this partner still on the topic (or since `since`), then return."""
    async with PartnerFeed(
        partner_id=partner_id,
        company_id=company_id,
        bootstrap_servers=bootstrap_servers,
        kinds=("rejection",),
        since=since,
    ) as feed:
        return [item.event async for item in feed if isinstance(item.event, PartnerInvoiceRejected)]
