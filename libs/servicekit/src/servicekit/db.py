"""Async engine and sessions (SQLModel on asyncpg), one engine per process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]


def make_engine(database_url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An asyncpg engine whose pooled connections are not pinged before each use.

    A ping is one more round trip per transaction, about a sixth of a service's round trips under
    load. Without it a restarted database fails the first use of a stale connection; SQLAlchemy
    then drops every connection of the pool opened before, and the callers treat the error as an
    outage: consumers, the relay and the dispatcher try again, HTTP answers 503 (servicekit.http).
    """
    return create_async_engine(database_url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any exception."""
    async with sessions() as session, session.begin():
        yield session


async def database_is_ready(engine: AsyncEngine) -> bool:
    """True when a trivial query succeeds."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def wait_for_database(engine: AsyncEngine, timeout_s: float = 60.0) -> None:
    """Block until the database answers, so start-up survives a database that boots slower."""
    deadline = time.monotonic() + timeout_s
    while not await database_is_ready(engine):
        if time.monotonic() > deadline:
            raise TimeoutError(f"database not reachable after {timeout_s:.0f}s")
        await asyncio.sleep(0.5)
