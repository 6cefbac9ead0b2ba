"""What every identity use case needs: settings, the database, the hasher, the token signer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.keys import TokenSigner
from identity.adapters.passwords import PasswordService
from identity.settings import Settings
from servicekit.db import SessionFactory


@dataclass(frozen=True)
class Client:
    """Where a request comes from, as recorded in the audit log and used for throttling."""

    ip: str
    user_agent: str | None = None


SYSTEM = Client(ip="internal", user_agent=None)


@dataclass
class Context:
    """Built once by the composition root and shared by every request and message."""

    settings: Settings
    sessions: SessionFactory
    passwords: PasswordService
    signer: TokenSigner
    after_commit: Callable[[], None] = field(default=lambda: None)

    @property
    def source(self) -> str:
        """ce_source of the events identity publishes."""
        return self.settings.source

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        """One transaction; on commit the outbox relay is woken for the events it wrote."""
        async with self.sessions() as session, session.begin():
            yield session
        self.after_commit()

    def link(self, page: str, token: str | None = None) -> str:
        """A portal link; tokens travel in the fragment, which browsers never send to a server or a Referer."""
        base = self.settings.portal_url.rstrip("/")
        return f"{base}/{page}" + (f"#token={token}" if token else "")


def now() -> datetime:
    """The current UTC time (one place to read the clock)."""
    return datetime.now(UTC)


@asynccontextmanager
async def min_duration(seconds: float) -> AsyncIterator[None]:
    """Make the enclosed work, success or failure, take at least `seconds` (equal answer times)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        remaining = seconds - (time.perf_counter() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
