"""Reading the services' systems of record from tests: DSNs for asyncpg and waiting for a row to appear."""

from __future__ import annotations

import asyncio
import time

import asyncpg


def plain_dsn(url: str) -> str:
    """asyncpg wants postgresql://, the services' URLs say postgresql+asyncpg://."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def wait_for_row(network, query: str, *args, service: str = "invoicing", timeout_s: float = 120.0):  # type: ignore[no-untyped-def]
    """The first row `query` returns in the service's database, polling until `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        conn = await asyncpg.connect(plain_dsn(network.database_url(service)))
        try:
            row = await conn.fetchrow(query, *args)
        finally:
            await conn.close()
        if row is not None:
            return row
        await asyncio.sleep(0.25)
    raise TimeoutError(f"{service}: no row for {query} {args}")
