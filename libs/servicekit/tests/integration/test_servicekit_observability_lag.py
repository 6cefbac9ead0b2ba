"""Consumer lag and dead-letter topic sizes read from the real broker."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import REGISTRY

from contracts.envelope import Envelope
from servicekit.lag import ConsumerLagMonitor, broker_subscriptions
from servicekit.settings import KafkaSettings

pytestmark = pytest.mark.integration


def lag_gauge(group: str, topic: str, partition: int) -> float | None:
    return REGISTRY.get_sample_value(
        "factora_kafka_consumer_lag", {"group": group, "topic": topic, "partition": str(partition)}
    )


async def produce(bootstrap: str, topic: str, partition: int, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(topic, f"record {n}".encode(), partition=partition)
    finally:
        await producer.stop()


async def commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()})
    finally:
        await consumer.stop()


async def test_lag_is_end_offset_minus_committed_offset_per_partition_and_dlq_size_is_its_record_count(
    kafka_broker, kafka_io
):
    spec = await kafka_io.make_topic(partitions=2)
    group = f"sktest-lag-{uuid.uuid4().hex[:8]}"
    await produce(kafka_broker.bootstrap, spec.name, 0, 3)
    await produce(kafka_broker.bootstrap, spec.name, 1, 2)
    await produce(kafka_broker.bootstrap, spec.dlq, 0, 1)
    await commit(kafka_broker.bootstrap, group, {TopicPartition(spec.name, 0): 1})

    monitor = ConsumerLagMonitor(KafkaSettings(bootstrap_servers=kafka_broker.bootstrap), lambda: [(group, spec.name)])
    try:
        snapshot = await monitor.collect_once()
    finally:
        await monitor.stop()

    # Partition 0: 3 records, 1 committed. Partition 1: nothing committed, so all 2 are pending.
    assert snapshot.lag == {(group, spec.name, 0): 2, (group, spec.name, 1): 2}
    assert snapshot.group_lag(group) == 4
    assert (lag_gauge(group, spec.name, 0), lag_gauge(group, spec.name, 1)) == (2, 2)
    assert snapshot.dlq == {spec.dlq: 1}
    assert REGISTRY.get_sample_value("factora_dlq_messages", {"topic": spec.dlq}) == 1


async def test_a_service_that_handled_everything_has_no_lag_on_any_of_its_groups(
    messaging_db, kafka_io, make_runtime, wait_until
):
    spec = await kafka_io.make_topic(partitions=2)
    runtime = make_runtime(messaging_db.url)
    handled: list[int] = []

    async def handler(event, envelope, session) -> None:
        handled.append(event.seq)

    runtime.subscribe(spec, handler)
    subscriptions = broker_subscriptions(runtime.broker)
    assert subscriptions == [(f"{runtime.settings.service_name}.{spec.name}", spec.name)]
    await runtime.start()
    for seq in range(4):
        envelope = Envelope.new(source="/factora/sktest", type=spec.name)
        await kafka_io.publish(
            spec.name, spec.schema(seq=seq).model_dump_json().encode(), key=f"k{seq}", headers=envelope.to_headers()
        )
    await wait_until(lambda: len(handled) == 4, "the four events to be handled")

    monitor = ConsumerLagMonitor(runtime.settings.kafka, lambda: broker_subscriptions(runtime.broker))
    try:
        # The offset is committed right after the handler's transaction: poll until the broker has it.
        async def caught_up() -> bool:
            snapshot = await monitor.collect_once()
            return len(snapshot.lag) == 2 and snapshot.group_lag(subscriptions[0][0]) == 0

        await wait_until(caught_up, "the group's committed offsets to reach the end of the topic")
    finally:
        await monitor.stop()


async def test_the_collector_counts_its_failures_and_keeps_running_while_the_broker_is_unreachable(wait_until):
    def errors() -> float:
        return REGISTRY.get_sample_value("factora_kafka_lag_collection_errors_total") or 0.0

    before = errors()
    monitor = ConsumerLagMonitor(KafkaSettings(bootstrap_servers="127.0.0.1:1"), lambda: [("g", "t")], interval_s=0.05)
    monitor.start()
    try:
        await wait_until(lambda: errors() >= before + 2, "two failed passes")
    finally:
        await monitor.stop()
