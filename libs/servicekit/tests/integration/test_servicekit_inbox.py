"""Inbox claims on real PostgreSQL: one per (event id, consumer), single or batched, bound to the transaction."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from servicekit.db import transaction
from servicekit.inbox import claim_message, claim_messages

pytestmark = pytest.mark.integration

TOPIC = "notifications.send-requested.v1"


async def claim(sessions, message_id: str, consumer: str) -> bool:
    async with transaction(sessions) as session:
        return await claim_message(session, message_id, consumer, TOPIC)


async def test_claim_is_true_the_first_time_false_for_a_redelivery_and_true_for_another_consumer(messaging_db):
    sessions = messaging_db.sessions
    assert await claim(sessions, "evt-1", "notifications") is True
    assert await claim(sessions, "evt-1", "notifications") is False
    assert await claim(sessions, "evt-1", "support") is True
    assert await claim(sessions, "evt-2", "notifications") is True
    async with messaging_db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT message_id, consumer FROM inbox"))).all()
    assert sorted(rows) == [("evt-1", "notifications"), ("evt-1", "support"), ("evt-2", "notifications")]


async def test_a_batch_claim_returns_only_the_ids_not_seen_before_once_each_in_one_statement(messaging_db):
    sessions = messaging_db.sessions
    assert await claim(sessions, "evt-old", "notifications") is True
    async with transaction(sessions) as session:
        fresh = await claim_messages(session, ["evt-a", "evt-old", "evt-b", "evt-a"], "notifications", TOPIC)
        assert await claim_messages(session, [], "notifications", TOPIC) == set()
    assert fresh == {"evt-a", "evt-b"}
    async with transaction(sessions) as session:
        assert await claim_messages(session, ["evt-a", "evt-b", "evt-c"], "notifications", TOPIC) == {"evt-c"}
        assert await claim_messages(session, ["evt-a"], "support", TOPIC) == {"evt-a"}
    async with messaging_db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT consumer, count(*) FROM inbox GROUP BY consumer ORDER BY 1"))).all()
    assert rows == [("notifications", 4), ("support", 1)]


async def test_a_claim_rolled_back_with_its_transaction_leaves_the_event_unclaimed(messaging_db):
    sessions = messaging_db.sessions

    class HandlerFailed(Exception):
        pass

    with pytest.raises(HandlerFailed):
        async with transaction(sessions) as session:
            assert await claim_message(session, "evt-9", "invoicing", TOPIC) is True
            raise HandlerFailed
    async with messaging_db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM inbox")) == 0
    assert await claim(sessions, "evt-9", "invoicing") is True


async def concurrent_claim_outcome(messaging_db, wait_until, *, first_commits: bool) -> bool:
    """A second consumer instance claims the event while the first one's claim is uncommitted."""
    sessions = messaging_db.sessions
    async with sessions() as first:
        await first.begin()
        assert await claim_message(first, "evt-race", "signing", TOPIC) is True
        second = asyncio.create_task(claim(sessions, "evt-race", "signing"))

        async def second_is_blocked_on_the_first() -> bool:
            async with messaging_db.engine.connect() as conn:
                waiting = await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                return waiting.scalar_one() == 1

        try:
            await wait_until(second_is_blocked_on_the_first, "the second claim to wait for the first", timeout_s=10)
        except BaseException:
            second.cancel()
            raise
        if first_commits:
            await first.commit()
        else:
            await first.rollback()
    return await asyncio.wait_for(second, 10)


async def test_a_concurrent_claim_waits_for_the_first_and_loses_when_it_commits(messaging_db, wait_until):
    assert await concurrent_claim_outcome(messaging_db, wait_until, first_commits=True) is False


async def test_a_concurrent_claim_waits_for_the_first_and_wins_when_it_rolls_back(messaging_db, wait_until):
    assert await concurrent_claim_outcome(messaging_db, wait_until, first_commits=False) is True
