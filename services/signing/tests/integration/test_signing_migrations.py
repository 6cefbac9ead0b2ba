"""Migration 0002 on an archive sealed under 0001: every entry gets a retention date, and the way back works."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from pathlib import Path

import asyncpg
import pytest
from alembic import command

import signing
from servicekit.migrations import alembic_config

pytestmark = pytest.mark.integration

MIGRATIONS = Path(signing.__file__).parent / "migrations"


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_entries_archived_before_0002_get_the_retention_of_their_seller_country(fresh_database):
    url = await fresh_database("signing_migrations")
    config = alembic_config(MIGRATIONS, url)
    await asyncio.to_thread(command.upgrade, config, "0001")
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        for number, (country, sealed_at) in enumerate(
            [("AU", date(2024, 5, 1)), ("FR", date(2023, 12, 31)), ("BR", date(2025, 1, 10))]
        ):
            await conn.execute(
                "INSERT INTO archived_document (id, invoice_id, invoice_number, seller_company_id, buyer_company_id,"
                " seller_country, pdf, xml, sha256, previous_chain_hash, chain_hash, sequence, signature_level,"
                " sealed_at) VALUES (gen_random_uuid(), $1, $1, 's', 'b', $2, '\\x00', '\\x00', $3, '', '', $4, 'B-B',"
                " $5)",
                f"inv-{number}", country, f"{number:064d}", number + 1, datetime.combine(sealed_at, time(12), UTC),
            )  # fmt: skip

        await asyncio.to_thread(command.upgrade, config, "head")
        kept = dict(await conn.fetch("SELECT seller_country, retain_until::text FROM archived_document"))

        # AU 5 years, FR 10, BR unknown: the default 10; from the end of the sealing year, plus one.
        assert kept == {"AU": "2030-12-31", "FR": "2034-12-31", "BR": "2036-12-31"}
        with pytest.raises(asyncpg.PostgresError, match="retained until"):
            await conn.execute("DELETE FROM archived_document WHERE seller_country = 'AU'")

        await asyncio.to_thread(command.downgrade, config, "0001")
        columns = {r["column_name"] for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'archived_document'"
        )}  # fmt: skip
        assert "retain_until" not in columns
        await conn.execute("DELETE FROM archived_document WHERE seller_country = 'AU'")  # no guard under 0001
    finally:
        await conn.close()
