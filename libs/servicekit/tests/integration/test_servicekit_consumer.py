"""subscribe_event through a real ServiceRuntime on real Kafka and PostgreSQL: inbox, retries, dead letters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from prometheus_client import REGISTRY
from pydantic import ValidationError
from sqlalchemy import text

from contracts.catalogue import TopicSpec
from contracts.envelope import Envelope
from servicekit.errors import PermanentError, TransientError
from servicekit.runtime import ServiceRuntime

pytestmark = pytest.mark.integration


def consumed(spec: TopicSpec, outcome: str) -> float:
    """factora_messages_consumed_total for this test's own topic (so other tests cannot interfere)."""
    return REGISTRY.get_sample_value("factora_messages_consumed_total", {"topic": spec.name, "outcome": outcome}) or 0.0


def retries(spec: TopicSpec) -> float:
    return REGISTRY.get_sample_value("factora_handler_retries_total", {"topic": spec.name}) or 0.0


async def send(kafka_io, spec: TopicSpec, seq: int, *, key: str = "k", event_id: str | None = None):
    """Publish a valid event the way a producing service would; returns (envelope, record metadata)."""
    envelope = Envelope.new(source="/factora/sktest", type=spec.name, subject=key, tenant="c-test", id=event_id)
    body = spec.schema(seq=seq).model_dump_json().encode()
    return envelope, await kafka_io.publish(spec.name, body, key=key, headers=envelope.to_headers())


@pytest.fixture
def consume(messaging_db, kafka_io, make_runtime) -> Callable[..., Awaitable[tuple[TopicSpec, ServiceRuntime]]]:
    """`await consume(handler, ...)`: a fresh topic and a started runtime whose subscriber runs `handler`."""

    async def start(
        handler, *, on_invalid=None, partitions: int = 1, group_id: str | None = None, **kafka: Any
    ) -> tuple[TopicSpec, ServiceRuntime]:
        spec = await kafka_io.make_topic(partitions)
        runtime = make_runtime(messaging_db.url, **kafka)
        runtime.subscribe(spec, handler, on_invalid=on_invalid, group_id=group_id)
        await runtime.start()
        return spec, runtime

    return start


class Recorder:
    """A handler that records (ce_id, seq) of what it handled, after an optional behaviour."""

    def __init__(self, behaviour: Callable[[Any, Envelope, int], None] | None = None) -> None:
        self.calls = 0
        self.handled: list[tuple[str, int]] = []
        self._behaviour = behaviour

    async def __call__(self, event, envelope: Envelope, session) -> None:
        self.calls += 1
        if self._behaviour is not None:
            self._behaviour(event, envelope, self.calls)
        self.handled.append((envelope.id, event.seq))

    def seqs(self) -> list[int]:
        return [seq for _, seq in self.handled]


async def inbox_rows(messaging_db) -> int:
    async with messaging_db.engine.connect() as conn:
        return await conn.scalar(text("SELECT count(*) FROM inbox"))


async def test_a_valid_event_is_handled_once_even_when_its_record_is_published_twice(
    consume, kafka_io, messaging_db, wait_until
):
    handler = Recorder()
    spec, _ = await consume(handler)
    first, _ = await send(kafka_io, spec, 1)
    await send(kafka_io, spec, 1, event_id=first.id)  # a producer retry: same ce_id, new record
    fence, _ = await send(kafka_io, spec, 2)  # same partition: handled only after the copy was consumed

    await wait_until(lambda: 2 in handler.seqs(), "the event behind the duplicate")
    assert handler.handled == [(first.id, 1), (fence.id, 2)]
    assert consumed(spec, "duplicate") == 1
    assert await inbox_rows(messaging_db) == 2


async def test_a_record_without_cloudevents_headers_is_dead_lettered_with_the_reason_and_its_offset(
    consume, kafka_io, wait_until, record_headers
):
    handler = Recorder()
    spec, runtime = await consume(handler)
    poison = await kafka_io.publish(spec.name, b'{"seq": 1}', key="order-7", headers={"x-origin": "legacy"})
    await send(kafka_io, spec, 2)

    await wait_until(lambda: 2 in handler.seqs(), "the event behind the poison record")
    [dead] = await kafka_io.read(spec.dlq, 1)
    headers = record_headers(dead)
    assert headers["dlq_reason"].startswith("missing CloudEvents header(s): ce_specversion, ce_id")
    assert headers["dlq_error_type"] == "invalid-message"
    assert headers["dlq_original_topic"] == spec.name
    assert headers["dlq_original_partition"] == str(poison.partition)
    assert headers["dlq_original_offset"] == str(poison.offset)
    assert headers["dlq_consumer_group"] == f"{runtime.settings.service_name}.{spec.name}"
    assert headers["x-origin"] == "legacy"  # the original headers travel with it
    assert (dead.key, dead.value) == (b"order-7", b'{"seq": 1}')
    assert handler.seqs() == [2]


async def test_an_event_of_another_type_on_the_topic_is_dead_lettered(consume, kafka_io, wait_until, record_headers):
    handler = Recorder()
    spec, _ = await consume(handler)
    stray = Envelope.new(source="/factora/sktest", type="invoicing.invoice-issued.v1")
    await kafka_io.publish(spec.name, b'{"seq": 1}', key="k", headers=stray.to_headers())
    await send(kafka_io, spec, 2)

    await wait_until(lambda: 2 in handler.seqs(), "the event behind the stray one")
    [dead] = await kafka_io.read(spec.dlq, 1)
    assert "ce_type 'invoicing.invoice-issued.v1' does not belong on" in record_headers(dead)["dlq_reason"]
    assert handler.seqs() == [2]


async def test_a_handler_raising_permanent_error_dead_letters_the_record_with_the_reason_without_retrying(
    consume, kafka_io, messaging_db, wait_until, record_headers
):
    def refuse_seq_1(event, envelope, call):
        if event.seq == 1:
            raise PermanentError("buyer c-unknown is not registered")

    handler = Recorder(refuse_seq_1)
    spec, _ = await consume(handler)
    refused, _ = await send(kafka_io, spec, 1)
    await send(kafka_io, spec, 2)

    await wait_until(lambda: 2 in handler.seqs(), "the event behind the refused one")
    [dead] = await kafka_io.read(spec.dlq, 1)
    headers = record_headers(dead)
    assert headers["dlq_reason"] == "buyer c-unknown is not registered"
    assert headers["dlq_error_type"] == "permanent"
    assert headers["ce_id"] == refused.id
    assert handler.calls == 2  # one call per event: no retry of a permanent error
    assert retries(spec) == 0
    assert await inbox_rows(messaging_db) == 1  # the refused event's claim was rolled back with its effect


async def test_a_handler_failing_twice_with_a_transient_error_is_retried_and_succeeds(
    consume, kafka_io, messaging_db, wait_until
):
    def flaky(event, envelope, call):
        if call <= 2:
            raise TransientError("SMTP server busy")

    handler = Recorder(flaky)
    spec, _ = await consume(handler, retry_attempts=5)
    event, _ = await send(kafka_io, spec, 1)

    await wait_until(lambda: consumed(spec, "handled") == 1, "the event to be handled after two failures")
    assert handler.calls == 3
    assert handler.handled == [(event.id, 1)]
    assert retries(spec) == 2
    assert await inbox_rows(messaging_db) == 1
    assert await kafka_io.count(spec.dlq, 1) == 0


async def test_a_transient_error_outlasting_the_retries_leaves_the_record_to_be_redelivered_not_dead_lettered(
    consume, kafka_io, wait_until
):
    def down_for_a_while(event, envelope, call):
        if call <= 3:
            raise TransientError("dependency still down")

    handler = Recorder(down_for_a_while)
    spec, _ = await consume(handler, retry_attempts=2)
    event, _ = await send(kafka_io, spec, 1)

    await wait_until(lambda: consumed(spec, "handled") == 1, "the redelivered event to be handled")
    assert handler.calls == 4  # 2 attempts, redelivery, 1 failure more, then success
    assert handler.handled == [(event.id, 1)]
    assert await kafka_io.count(spec.dlq, 1) == 0


async def test_a_handler_bug_outlasting_the_retries_is_dead_lettered_with_its_error_type(
    consume, kafka_io, wait_until, record_headers
):
    def broken(event, envelope, call):
        if event.seq == 1:
            raise KeyError("vat_rate")

    handler = Recorder(broken)
    spec, _ = await consume(handler, retry_attempts=3)
    await send(kafka_io, spec, 1)
    await send(kafka_io, spec, 2)

    await wait_until(lambda: 2 in handler.seqs(), "the event behind the failing one")
    [dead] = await kafka_io.read(spec.dlq, 1)
    headers = record_headers(dead)
    assert headers["dlq_error_type"] == "KeyError"
    assert headers["dlq_reason"] == "failed 3 times: KeyError('vat_rate')"
    assert handler.calls == 4
    assert retries(spec) == 2


async def test_on_invalid_gets_the_validation_error_of_a_schema_invalid_payload_once(
    consume, kafka_io, messaging_db, wait_until
):
    rejections: list[tuple[bytes, str, ValidationError]] = []

    async def on_invalid(body: bytes, envelope: Envelope, error: ValidationError, session) -> None:
        rejections.append((body, envelope.id, error))

    handler = Recorder()
    spec, _ = await consume(handler, on_invalid=on_invalid)
    bad = Envelope.new(source="/partners/erp", type=spec.name)
    for _ in range(2):  # the same invalid event delivered twice
        await kafka_io.publish(spec.name, b'{"seq": "twelve"}', key="k", headers=bad.to_headers())
    await send(kafka_io, spec, 2)

    await wait_until(lambda: 2 in handler.seqs(), "the event behind the invalid ones")
    [(body, event_id, error)] = rejections
    assert (body, event_id) == (b'{"seq": "twelve"}', bad.id)
    assert [e["loc"] for e in error.errors()] == [("seq",)]
    assert await kafka_io.count(spec.dlq, 1) == 0
    assert await inbox_rows(messaging_db) == 2  # the rejection's claim and the good event's


async def test_a_schema_invalid_payload_without_on_invalid_is_dead_lettered_naming_the_field(
    consume, kafka_io, wait_until, record_headers
):
    handler = Recorder()
    spec, _ = await consume(handler)
    bad = Envelope.new(source="/partners/erp", type=spec.name)
    await kafka_io.publish(spec.name, b'{"seq": "twelve"}', key="k", headers=bad.to_headers())
    await send(kafka_io, spec, 2)

    await wait_until(lambda: 2 in handler.seqs(), "the event behind the invalid one")
    [dead] = await kafka_io.read(spec.dlq, 1)
    assert record_headers(dead)["dlq_reason"].startswith("seq: Input should be a valid integer")


async def test_good_records_behind_poison_ones_on_the_same_partition_are_still_processed(
    consume, kafka_io, wait_until, record_headers
):
    handler = Recorder()
    spec, _ = await consume(handler, partitions=3)
    envelope = Envelope.new(source="/factora/sktest", type=spec.name)
    poisons = [
        await kafka_io.publish(spec.name, b"", key="same-key"),  # no headers, empty body
        # A JSON content type over bytes that are not JSON: FastStream must not choke before we see it.
        await kafka_io.publish(spec.name, b"{not json", key="same-key", headers=envelope.to_headers()),
        await kafka_io.publish(spec.name, b"null", key="same-key", headers=envelope.to_headers()),
    ]
    _, good = await send(kafka_io, spec, 7, key="same-key")
    assert {p.partition for p in poisons} == {good.partition}

    await wait_until(lambda: handler.seqs() == [7], "the good record behind three poison ones")
    dead = await kafka_io.read(spec.dlq, 3)
    assert sorted(int(record_headers(d)["dlq_original_offset"]) for d in dead) == [p.offset for p in poisons]


async def test_a_record_with_a_header_that_is_not_utf8_is_handled_or_dead_lettered_not_dropped(
    consume, kafka_io, wait_until
):
    handler = Recorder()
    spec, _ = await consume(handler)
    envelope = Envelope.new(source="/partners/erp", type=spec.name)
    body = spec.schema(seq=1).model_dump_json().encode()
    await kafka_io.publish(spec.name, body, key="k", headers={**envelope.to_headers(), "x-erp-batch": b"\xff\xfe"})
    await send(kafka_io, spec, 2)

    await wait_until(lambda: 2 in handler.seqs(), "the event behind the one with an odd header")
    assert handler.seqs() == [1, 2] or await kafka_io.count(spec.dlq, 1) == 1


async def test_a_handled_record_is_committed_so_a_restarted_consumer_does_not_see_it_again(
    consume, kafka_io, make_runtime, messaging_db, wait_until
):
    group = "sktest-restart-group-" + messaging_db.url.rsplit("/", 1)[-1]
    before = Recorder()
    spec, first_runtime = await consume(before, group_id=group)
    await send(kafka_io, spec, 1)
    await wait_until(lambda: consumed(spec, "handled") == 1, "the first event to be handled")
    await first_runtime.stop()

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_io.bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    assert offsets[TopicPartition(spec.name, 0)].offset == 1

    after = Recorder()
    second_runtime = make_runtime(messaging_db.url)
    second_runtime.subscribe(spec, after, group_id=group)
    await second_runtime.start()
    await send(kafka_io, spec, 2)
    await wait_until(lambda: after.seqs() == [2], "the second event, on the restarted consumer")
    assert before.seqs() == [1]
    assert consumed(spec, "duplicate") == 0  # not redelivered at all, not merely absorbed by the inbox


async def test_a_backlog_on_several_partitions_is_consumed_in_turns_not_one_partition_after_the_other(
    kafka_io, make_runtime, messaging_db, wait_until
):
    # 150 records of ~3 KB waiting on each of 3 partitions before the consumer starts. With a
    # 1 MB fetch buffer per partition the consumer drained all of partition 0 before touching
    # the others, and their committed offsets stood still meanwhile.
    per_partition, padding = 150, "x" * 3000
    spec = await kafka_io.make_topic(3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_io.bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        sends = []
        for seq in range(per_partition):
            for partition in range(3):
                envelope = Envelope.new(source="/factora/sktest", type=spec.name, subject="k", tenant="c-test")
                body = spec.schema(seq=seq, note=f"{partition}:{padding}").model_dump_json().encode()
                headers = [(k, v.encode()) for k, v in envelope.to_headers().items()]
                sends.append(await producer.send(spec.name, body, partition=partition, headers=headers))
        for sent in sends:
            await sent
    finally:
        await producer.stop()
    partitions: list[int] = []

    async def note_partition(event, envelope, session) -> None:
        partitions.append(int(event.note.split(":", 1)[0]))

    runtime = make_runtime(messaging_db.url)
    runtime.subscribe(spec, note_partition)
    await runtime.start()
    await wait_until(lambda: len(partitions) == 3 * per_partition, "the whole backlog", timeout_s=120)
    first_third = partitions[:per_partition]
    assert set(first_third) == {0, 1, 2}, f"the first {per_partition} records came from partitions {set(first_third)}"
    assert sorted(partitions) == sorted([0, 1, 2] * per_partition)
