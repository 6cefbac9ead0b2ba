"""The outbox relay on real PostgreSQL and Kafka: order, exactly-once claiming, at-least-once on failure."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from contracts.envelope import Envelope
from servicekit.db import make_engine, make_session_factory, transaction
from servicekit.inbox import claim_message
from servicekit.outbox import OutboxRelay, add_to_outbox
from servicekit.producer import SafeProducer
from servicekit.settings import KafkaSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def producers(kafka_broker):
    """`await producers(name)`: a started SafeProducer, stopped at teardown."""
    started: list[SafeProducer] = []

    async def make(client_id: str = "servicekit-test-relay") -> SafeProducer:
        producer = SafeProducer(KafkaSettings(bootstrap_servers=kafka_broker.bootstrap), client_id=client_id)
        await producer.start()
        started.append(producer)
        return producer

    yield make
    for producer in started:
        await producer.stop()


async def stage(sessions, spec, seqs, *, key_of=lambda seq: f"key-{seq % 3}") -> list[Envelope]:
    """Write one event per seq in one transaction, as a use case would."""
    async with transaction(sessions) as session:
        return [
            add_to_outbox(session, spec, spec.schema(seq=seq), source="/factora/sktest", key=key_of(seq))
            for seq in seqs
        ]


async def unpublished(engine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def drain(relay: OutboxRelay) -> tuple[int, int]:
    """Run passes until one publishes nothing; (rows published, passes that published)."""
    total = passes = 0
    while published := await relay.publish_pending():
        total += published
        passes += 1
    return total, passes


async def refuse_marking_published(engine, reason: str) -> None:
    """Make the database refuse the relay's UPDATE, as if it died between send and commit."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{reason}'; END $$"
            )
        )
        await conn.execute(
            text("CREATE TRIGGER refuse_update BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_update()")
        )


async def allow_marking_published(engine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER refuse_update ON outbox"))


def count_passes(relay: OutboxRelay, during_first_pass=None) -> list[int]:
    """Wrap the relay's pass: returns the list of rows published per pass (run() looks it up per call)."""
    passes: list[int] = []
    original = relay.publish_pending

    async def publish_pending() -> int:
        published = await original()
        if not passes and during_first_pass is not None:
            await during_first_pass()
        passes.append(published)
        return published

    relay.publish_pending = publish_pending  # type: ignore[method-assign]
    return passes


async def test_relay_publishes_rows_in_creation_order_with_key_and_headers_then_marks_them_published(
    messaging_db, kafka_io, producers, record_headers
):
    spec = await kafka_io.make_topic(partitions=1)
    envelopes = []
    for first in (0, 4, 8):  # three use cases, three transactions
        envelopes += await stage(messaging_db.sessions, spec, range(first, first + 4))
    relay = OutboxRelay(messaging_db.sessions, await producers(), batch_size=5)

    assert await drain(relay) == (12, 3)  # batches of 5, 5 and 2

    records = await kafka_io.read(spec.name, 12)
    assert [spec.schema.model_validate_json(r.value).seq for r in records] == list(range(12))
    assert [r.key.decode() for r in records] == [f"key-{seq % 3}" for seq in range(12)]
    assert [record_headers(r) for r in records] == [e.to_headers() for e in envelopes]
    async with messaging_db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT published_at, attempts FROM outbox"))).all()
    assert len(rows) == 12
    assert all(row.published_at is not None and row.attempts == 1 for row in rows)

    assert await relay.publish_pending() == 0
    assert await kafka_io.count(spec.name, 1) == 12


async def test_two_relays_on_one_table_publish_each_of_300_rows_exactly_once(
    messaging_db, kafka_io, producers, record_headers
):
    spec = await kafka_io.make_topic(partitions=3)
    staged = []
    for first in range(0, 300, 100):
        staged += await stage(messaging_db.sessions, spec, range(first, first + 100), key_of=lambda seq: f"row-{seq}")
    # Two replicas: each its own engine (connection pool) and its own producer.
    other_engine = make_engine(messaging_db.url, pool_size=2)
    try:
        relay_a = OutboxRelay(messaging_db.sessions, await producers("replica-a"), batch_size=20)
        relay_b = OutboxRelay(make_session_factory(other_engine), await producers("replica-b"), batch_size=20)
        (total_a, _), (total_b, _) = await asyncio.wait_for(asyncio.gather(drain(relay_a), drain(relay_b)), 60)
    finally:
        await other_engine.dispose()

    assert total_a + total_b == 300
    assert total_a > 0 and total_b > 0, "both relays should have taken part"
    assert await unpublished(messaging_db.engine) == 0
    assert await kafka_io.count(spec.name, 3) == 300
    records = await kafka_io.read(spec.name, 300)
    ids = Counter(record_headers(r)["ce_id"] for r in records)
    assert set(ids) == {e.id for e in staged}
    assert set(ids.values()) == {1}


async def test_a_pass_whose_commit_fails_after_publishing_leaves_the_rows_to_be_published_again(
    messaging_db, kafka_io, producers, record_headers
):
    spec = await kafka_io.make_topic(partitions=1)
    staged = await stage(messaging_db.sessions, spec, range(4))
    await refuse_marking_published(messaging_db.engine, "simulated crash before commit")
    relay = OutboxRelay(messaging_db.sessions, await producers(), batch_size=10)

    with pytest.raises(DBAPIError, match="simulated crash before commit"):
        await relay.publish_pending()

    assert await kafka_io.count(spec.name, 1) == 4  # sent before the failed commit ...
    assert await unpublished(messaging_db.engine) == 4  # ... yet still owed
    await allow_marking_published(messaging_db.engine)
    assert await drain(relay) == (4, 1)
    assert await unpublished(messaging_db.engine) == 0

    # At least once: every event is on the topic twice, and a consumer's inbox absorbs the copies.
    records = await kafka_io.read(spec.name, 8)
    ids = [record_headers(r)["ce_id"] for r in records]
    assert Counter(ids) == {e.id: 2 for e in staged}
    firsts = []
    for event_id in ids:
        async with transaction(messaging_db.sessions) as session:
            firsts.append(await claim_message(session, event_id, "sktest-consumer", spec.name))
    assert firsts == [True] * 4 + [False] * 4


async def test_the_relay_loop_survives_failing_passes_and_publishes_once_the_database_recovers(
    messaging_db, kafka_io, producers, wait_until
):
    spec = await kafka_io.make_topic(partitions=1)
    await stage(messaging_db.sessions, spec, range(3))
    await refuse_marking_published(messaging_db.engine, "database hiccup")
    relay = OutboxRelay(messaging_db.sessions, await producers(), batch_size=10, poll_interval_s=0.05)
    relay.start()
    try:

        async def a_pass_failed() -> bool:
            return await kafka_io.count(spec.name, 1) >= 3

        await wait_until(a_pass_failed, "a first relay pass that publishes and then fails to commit")
        assert await unpublished(messaging_db.engine) == 3
        await allow_marking_published(messaging_db.engine)
        relay.wake()

        async def all_published() -> bool:
            return await unpublished(messaging_db.engine) == 0

        await wait_until(all_published, "the relay to publish after the database recovered")
    finally:
        await relay.stop()


async def test_a_wake_during_a_pass_triggers_another_pass_instead_of_being_lost(
    messaging_db, kafka_io, producers, wait_until
):
    spec = await kafka_io.make_topic(partitions=1)
    # A poll interval far beyond the test's deadline: only wake() can explain a second pass.
    relay = OutboxRelay(messaging_db.sessions, await producers(), batch_size=10, poll_interval_s=600)

    async def a_use_case_commits_and_wakes_the_relay() -> None:
        # The pass's SELECT has run already, so it cannot see these rows.
        await stage(messaging_db.sessions, spec, range(2))
        relay.wake()

    passes = count_passes(relay, during_first_pass=a_use_case_commits_and_wakes_the_relay)
    relay.start()
    try:
        await wait_until(lambda: len(passes) >= 2, "a second pass triggered by the wake", timeout_s=10)
        assert passes[:2] == [0, 2]
        assert await unpublished(messaging_db.engine) == 0
    finally:
        await relay.stop()


async def test_stop_flushes_rows_written_while_the_relay_was_idle(messaging_db, kafka_io, producers, wait_until):
    spec = await kafka_io.make_topic(partitions=1)
    relay = OutboxRelay(messaging_db.sessions, await producers(), batch_size=2, poll_interval_s=600)
    passes = count_passes(relay)
    relay.start()
    stopped = False
    try:
        await wait_until(lambda: passes == [0], "the relay's first pass")
        await stage(messaging_db.sessions, spec, range(5))  # no wake: the loop sleeps on
        assert await unpublished(messaging_db.engine) == 5
        await relay.stop()
        stopped = True
    finally:
        if not stopped:
            await relay.stop()
    assert await unpublished(messaging_db.engine) == 0
    assert await kafka_io.count(spec.name, 1) == 5


async def test_backlog_counts_unpublished_rows_and_the_age_of_the_oldest(messaging_db, kafka_io, producers):
    spec = await kafka_io.make_topic(partitions=1)
    relay = OutboxRelay(messaging_db.sessions, await producers(), batch_size=10)
    assert await relay.backlog() == (0, 0.0)
    await stage(messaging_db.sessions, spec, range(3))
    async with messaging_db.engine.begin() as conn:
        await conn.execute(text("UPDATE outbox SET created_at = now() - interval '90 seconds'"))
    count, age = await relay.backlog()
    assert count == 3
    assert 89 <= age < 150
    await drain(relay)
    assert await relay.backlog() == (0, 0.0)
