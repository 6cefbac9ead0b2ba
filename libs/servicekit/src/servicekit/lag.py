"""Consumer lag per group and partition, and dead-letter topic sizes, read from the broker.

Lag is what the broker knows, not what a consumer believes: end offset minus the group's
committed offset (our consumers commit only after their transaction, so this is the work not
yet done). A group that has not committed yet on a partition reads from the beginning
(`auto_offset_reset="earliest"`), so its lag there is everything retained.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from servicekit.metrics import CONSUMER_LAG, DLQ_MESSAGES, LAG_COLLECTION_ERRORS
from servicekit.settings import KafkaSettings

log = logging.getLogger(__name__)

Subscription = tuple[str, str]  # (consumer group, topic)
DLQ_SUFFIX = ".dlq"


def broker_subscriptions(broker: KafkaBroker) -> list[Subscription]:
    """(group, topic) of every subscriber of a FastStream broker that has a group."""
    found: set[Subscription] = set()
    for subscriber in broker.subscribers:
        group = getattr(subscriber, "group_id", None)
        if not group:
            continue
        for topic in getattr(subscriber, "topic_names", None) or ():
            found.add((group, topic))
    return sorted(found)


@dataclass
class LagSnapshot:
    """One pass of the collector: lag per (group, topic, partition), records per dead-letter topic."""

    lag: dict[tuple[str, str, int], int] = field(default_factory=dict)
    dlq: dict[str, int] = field(default_factory=dict)

    def group_lag(self, group: str) -> int:
        """Total lag of one group over all its partitions."""
        return sum(n for (g, _, _), n in self.lag.items() if g == group)


class ConsumerLagMonitor:
    """Refreshes `factora_kafka_consumer_lag` and `factora_dlq_messages` every `interval_s`.

    `subscriptions` is called on every pass (e.g. `lambda: broker_subscriptions(runtime.broker)`);
    the dead-letter twin `<topic>.dlq` of each consumed topic is measured when it exists, since
    that is where this service's consumers dead-letter.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        subscriptions: Callable[[], Iterable[Subscription]],
        *,
        interval_s: float = 15.0,
        client_id: str = "factora-lag",
    ) -> None:
        self._kafka = kafka
        self._subscriptions = subscriptions
        self._interval_s = interval_s
        self._client_id = client_id
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._failing = False

    async def _connect(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self._kafka.bootstrap_servers, client_id=self._client_id)
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._kafka.bootstrap_servers,
                client_id=self._client_id,
                enable_auto_commit=False,
            )
            try:
                await admin.start()
                await consumer.start()
            except BaseException:
                await self._close(admin, consumer)
                raise
            self._admin, self._consumer = admin, consumer
        return self._admin, self._consumer

    @staticmethod
    async def _close(admin: AIOKafkaAdminClient | None, consumer: AIOKafkaConsumer | None) -> None:
        with contextlib.suppress(Exception):
            if consumer is not None:
                await consumer.stop()
        with contextlib.suppress(Exception):
            if admin is not None:
                await admin.close()

    async def collect_once(self) -> LagSnapshot:
        """Read the offsets once and set the gauges; raises on broker errors."""
        admin, consumer = await self._connect()
        subscriptions = sorted(set(self._subscriptions()))
        # All topics (no names in the request, so a broker with auto-creation on creates nothing).
        described = await admin.describe_topics()
        known = {
            t["topic"]: sorted(p["partition"] for p in t["partitions"])
            for t in described
            if t.get("error_code", 0) == 0 and t.get("partitions")
        }
        topics = {topic for _, topic in subscriptions if topic in known}
        dlqs = {topic + DLQ_SUFFIX for topic in topics if topic + DLQ_SUFFIX in known}
        partitions = {topic: [TopicPartition(topic, p) for p in known[topic]] for topic in topics | dlqs}
        every = [tp for tps in partitions.values() for tp in tps]
        ends = await consumer.end_offsets(every) if every else {}
        starts = await consumer.beginning_offsets(every) if every else {}

        snapshot = LagSnapshot()
        for group, topic in subscriptions:
            if topic not in topics:
                continue
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions[topic])
            for tp in partitions[topic]:
                position = committed.get(tp)
                done = position.offset if position is not None and position.offset >= 0 else starts[tp]
                lag = max(0, ends[tp] - done)
                snapshot.lag[(group, topic, tp.partition)] = lag
                CONSUMER_LAG.labels(group, topic, str(tp.partition)).set(lag)
        for dlq in sorted(dlqs):
            size = sum(ends[tp] - starts[tp] for tp in partitions[dlq])
            snapshot.dlq[dlq] = size
            DLQ_MESSAGES.labels(dlq).set(size)
        return snapshot

    async def run(self) -> None:
        """Collect until stopped; a failed pass is counted, logged once, and retried next interval."""
        while not self._stopping.is_set():
            try:
                await self.collect_once()
                if self._failing:
                    log.info("consumer lag collection works again")
                self._failing = False
            except Exception as exc:
                LAG_COLLECTION_ERRORS.inc()
                if not self._failing:
                    log.warning("consumer lag collection failed (retrying every %.0fs): %r", self._interval_s, exc)
                self._failing = True
                # Reconnect from scratch next time: the clients may be wedged.
                admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
                await self._close(admin, consumer)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval_s)

    def start(self) -> None:
        """Run in the background (call from within the service's event loop)."""
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(), name="consumer-lag")

    async def stop(self) -> None:
        """Stop the loop and close the Kafka clients."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        await self._close(admin, consumer)
