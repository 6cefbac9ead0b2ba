"""Publishing and reading catalogue topics from end-to-end tests, the way a partner system would."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import BaseModel

from contracts.catalogue import TopicSpec
from contracts.envelope import Envelope


async def publish_raw(bootstrap: str, topic: str, value: bytes, key: str, headers: dict[str, str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, value, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
        )
    finally:
        await producer.stop()


async def publish_event(
    bootstrap: str, spec: TopicSpec, event: BaseModel, *, key: str, tenant: str, event_id: str | None = None
) -> Envelope:
    """Publish a valid event with a CloudEvents envelope; returns the envelope."""
    envelope = Envelope.new(source="/partners/e2e", type=spec.name, subject=key, tenant=tenant, id=event_id)
    await publish_raw(bootstrap, spec.name, event.model_dump_json().encode(), key, envelope.to_headers())
    return envelope


async def wait_for_record(
    bootstrap: str, topic: str, predicate: Callable[[dict, dict[str, str]], bool], timeout_s: float = 60.0
) -> tuple[dict, dict[str, str]]:
    """First record of `topic` (from the beginning) whose JSON value and headers match."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"e2e-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers or []}
                    try:
                        value = json.loads(record.value or b"null")
                    except ValueError:
                        value = {"_raw": (record.value or b"").decode(errors="replace")}
                    if predicate(value, headers):
                        return value, headers
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    raise TimeoutError(f"no matching record on {topic} within {timeout_s}s")
