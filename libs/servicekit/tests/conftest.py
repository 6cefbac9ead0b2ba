"""Fixtures of the servicekit tests: a fresh database with the messaging tables, throwaway topics, a runtime."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import RecordMetadata
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from contracts.catalogue import TopicSpec
from contracts.v1.base import Event
from servicekit.db import SessionFactory, make_engine, make_session_factory
from servicekit.messaging_tables import InboxMessage, OutboxMessage
from servicekit.runtime import ServiceRuntime
from servicekit.settings import KafkaSettings, ServiceSettings

WAIT_S = 20.0  # upper bound of any wait on the real servers; a miss fails the test loudly


class Ping(Event):
    """Payload of the throwaway test topics."""

    seq: int = Field(description="Sequence number chosen by the test.")
    note: str = Field(default="", description="Free text, to tell records apart.")


async def eventually(check: Callable[[], Awaitable[bool] | bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll `check` until it is true; fail naming `what` when the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- database


@dataclass
class MessagingDb:
    """A brand-new database holding only the outbox and inbox tables."""

    url: str
    engine: AsyncEngine
    sessions: SessionFactory


@pytest.fixture
async def messaging_db(fresh_database) -> AsyncIterator[MessagingDb]:
    url = await fresh_database("servicekit")
    engine = make_engine(url, pool_size=4)
    async with engine.begin() as conn:
        await conn.run_sync(
            SQLModel.metadata.create_all,
            tables=[OutboxMessage.__table__, InboxMessage.__table__],  # type: ignore[attr-defined]
        )
    yield MessagingDb(url=url, engine=engine, sessions=make_session_factory(engine))
    await engine.dispose()


# --------------------------------------------------------------------------- Kafka


@dataclass
class KafkaIO:
    """Throwaway topics on the test broker, and raw reads and writes of them."""

    bootstrap: str
    created: list[str] = field(default_factory=list)

    async def make_topic(self, partitions: int = 1) -> TopicSpec:
        """A new topic carrying `Ping` and its .dlq twin (auto-creation is off on the test broker)."""
        spec = TopicSpec(
            name=f"servicekit-test.{uuid.uuid4().hex[:12]}.v1",
            key="test key",
            producer="servicekit tests",
            consumers=("servicekit tests",),
            schema=Ping,
            description="Throwaway topic of one servicekit test.",
            partitions=partitions,
        )
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, partitions, 1) for name in (spec.name, spec.dlq)])
            self.created += [spec.name, spec.dlq]

            async def visible() -> bool:
                return {spec.name, spec.dlq} <= set(await admin.list_topics())

            await eventually(visible, f"topic {spec.name} to become visible")
        finally:
            await admin.close()
        return spec

    async def publish(
        self, topic: str, value: bytes, *, key: str | None, headers: Mapping[str, str | bytes] | None = None
    ) -> RecordMetadata:
        """Write one raw record, as a partner system would; returns where it landed."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all")
        await producer.start()
        try:
            meta = await producer.send_and_wait(
                topic,
                value,
                key=key.encode() if key is not None else None,
                headers=[(k, v if isinstance(v, bytes) else v.encode()) for k, v in (headers or {}).items()],
            )
        finally:
            await producer.stop()
        return meta

    async def count(self, topic: str, partitions: int) -> int:
        """Records in the topic right now (end minus beginning offsets over its partitions)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in range(partitions)]
            ends = await consumer.end_offsets(tps)
            starts = await consumer.beginning_offsets(tps)
        finally:
            await consumer.stop()
        return sum(ends[tp] - starts[tp] for tp in tps)

    async def read(self, topic: str, expected: int, timeout_s: float = WAIT_S) -> list[ConsumerRecord[Any, Any]]:
        """At least `expected` records of `topic` from the beginning, in partition order; fails on timeout."""
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.bootstrap,
            group_id=f"servicekit-test-reader-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        records: list[ConsumerRecord[Any, Any]] = []
        deadline = time.monotonic() + timeout_s
        try:
            while len(records) < expected:
                if time.monotonic() > deadline:
                    pytest.fail(f"{topic}: {len(records)} of {expected} records after {timeout_s:.0f}s")
                batch = await consumer.getmany(timeout_ms=200)
                for part in batch.values():
                    records.extend(part)
        finally:
            await consumer.stop()
        return records


@pytest.fixture
async def kafka_io(kafka_broker) -> AsyncIterator[KafkaIO]:
    io = KafkaIO(kafka_broker.bootstrap)
    yield io
    if io.created:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
        await admin.start()
        try:
            await admin.delete_topics(io.created)
        finally:
            await admin.close()


def headers_of(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    """Record headers as a dict of strings (test helper)."""
    return {k: v.decode() for k, v in record.headers or ()}


@pytest.fixture
def record_headers() -> Callable[[ConsumerRecord[Any, Any]], dict[str, str]]:
    return headers_of


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[None]]:
    return eventually


# --------------------------------------------------------------------------- runtime


class SkTestSettings(ServiceSettings):
    """A service's settings as a service would declare them, with its own env prefix."""

    model_config = SettingsConfigDict(env_prefix="SKTEST_", extra="ignore")


@pytest.fixture
async def make_runtime(kafka_broker) -> AsyncIterator[Callable[..., ServiceRuntime]]:
    """`make_runtime(database_url, **kafka_overrides)`: a ServiceRuntime on the test servers, stopped at teardown."""
    built: list[ServiceRuntime] = []

    def build(database_url: str, **kafka: Any) -> ServiceRuntime:
        settings = SkTestSettings(
            service_name=f"sktest{uuid.uuid4().hex[:6]}",
            database_url=database_url,
            http_port=0,
            outbox_poll_interval_s=0.1,
            kafka=KafkaSettings(
                bootstrap_servers=kafka_broker.bootstrap,
                send_timeout_s=10.0,
                **{"retry_attempts": 3, "retry_base_delay_s": 0.01, "retry_max_delay_s": 0.05, **kafka},
            ),
        )
        runtime = ServiceRuntime(settings)
        built.append(runtime)
        return runtime

    yield build
    for runtime in built:
        await runtime.stop()
