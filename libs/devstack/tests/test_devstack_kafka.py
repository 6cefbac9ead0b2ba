"""The test broker: catalogue topics with DLQ twins, a real round trip, no auto-created topics."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError

from contracts.catalogue import SEND_REQUESTED, TOPICS, all_topic_names
from devstack.topics import ensure_topics

pytestmark = pytest.mark.integration


async def test_every_catalogue_topic_and_its_dlq_twin_exist_with_their_partitions(kafka_broker):
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics(all_topic_names())}
        configs = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, SEND_REQUESTED.dlq, {"retention.ms": None})]
        )
    finally:
        await admin.close()
    for spec in TOPICS:
        for name in (spec.name, spec.dlq):
            assert described[name]["error_code"] == 0, name
            assert len(described[name]["partitions"]) == spec.partitions, name
    entries = {c[0]: c[1] for c in configs[0].resources[0][4]}
    assert entries["retention.ms"] == str(SEND_REQUESTED.dlq_retention_ms)


async def test_creating_topics_again_is_a_no_op(kafka_broker):
    assert await ensure_topics(kafka_broker.bootstrap) == []


async def test_a_message_produced_on_a_catalogue_topic_is_consumed_back(kafka_broker):
    key = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            SEND_REQUESTED.name, b'{"hello": "factora"}', key=key, headers=[("ce_id", key)]
        )
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_broker.bootstrap,
        group_id=f"devstack-test-{key.decode()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    consumer.assign([TopicPartition(SEND_REQUESTED.name, sent.partition)])
    await consumer.start()
    try:
        consumer.seek(TopicPartition(SEND_REQUESTED.name, sent.partition), sent.offset)
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (key, b'{"hello": "factora"}')
    assert dict(record.headers)["ce_id"] == key


async def test_a_typo_in_a_topic_name_never_creates_a_topic(kafka_broker):
    if kafka_broker.external:
        pytest.skip("auto.create.topics.enable is the external broker's business")
    typo = "invoicing.invoice-isued.v1"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap, request_timeout_ms=1500)
    await producer.start()
    try:
        with pytest.raises((KafkaTimeoutError, UnknownTopicOrPartitionError)):
            await producer.send_and_wait(typo, b"x")
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    await admin.start()
    try:
        assert typo not in await admin.list_topics()
    finally:
        await admin.close()
