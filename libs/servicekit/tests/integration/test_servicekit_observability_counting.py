"""Business counters count committed work only: `after_commit` on a real PostgreSQL transaction."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import text

from servicekit.db import transaction
from servicekit.metrics import after_commit

pytestmark = pytest.mark.integration


async def test_a_counter_moves_when_the_transaction_commits_and_not_when_it_rolls_back(messaging_db):
    issued = Counter("sktest_issued_total", "Test counter.", registry=CollectorRegistry())

    async with transaction(messaging_db.sessions) as session:
        await session.execute(text("SELECT 1"))
        after_commit(session, issued.inc)
        assert issued._value.get() == 0  # not before the commit
    assert issued._value.get() == 1

    with pytest.raises(RuntimeError):
        async with transaction(messaging_db.sessions) as session:
            await session.execute(text("SELECT 1"))
            after_commit(session, issued.inc)
            raise RuntimeError("the handler failed: the transaction rolls back")
    async with transaction(messaging_db.sessions) as session:
        await session.execute(text("SELECT 1"))  # a later commit on a new session does not run the old action
    assert issued._value.get() == 1
