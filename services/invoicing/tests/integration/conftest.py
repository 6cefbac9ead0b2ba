"""A migrated invoicing database on the test PostgreSQL, one per test module."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import invoicing
from servicekit.db import make_engine, make_session_factory
from servicekit.migrations import upgrade_to_head

MIGRATIONS = Path(invoicing.__file__).parent / "migrations"


@pytest.fixture(scope="module")
async def invoicing_sessions(fresh_database):
    """Session factory on a brand-new database brought to the newest migration."""
    url = await fresh_database("invoicing")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    # Room for the 20 concurrent transactions of the numbering test.
    engine = make_engine(url, pool_size=12)
    yield make_session_factory(engine)
    await engine.dispose()
