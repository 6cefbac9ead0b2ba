"""The hash-chained archive on real PostgreSQL: links, tamper detection, concurrent appends and party-only reads."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel import select

import signing
from servicekit.auth import Principal, current_principal
from servicekit.db import make_engine, make_session_factory
from servicekit.http import db_session
from servicekit.migrations import upgrade_to_head
from signing.adapters import archive
from signing.adapters.tables import GENESIS_HASH, ArchiveChainHead, ArchivedDocument
from signing.entrypoints import http

pytestmark = pytest.mark.integration

MIGRATIONS = Path(signing.__file__).parent / "migrations"
SELLER, BUYER, OUTSIDER = "c-seller", "c-buyer", "c-outsider"


@pytest.fixture(scope="module")
async def signing_database(fresh_database):
    url = await fresh_database("signing")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    engine = make_engine(url, pool_size=10)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def signing_sessions(signing_database):
    """The module's migrated database, emptied: the chain is global to a database, so each test starts it anew."""
    async with signing_database() as session, session.begin():
        await session.exec(text("TRUNCATE archived_document, archive_chain_head, outbox, inbox"))
    return signing_database


def new_entry(seller: str = SELLER, buyer: str = BUYER) -> ArchivedDocument:
    pdf = b"%PDF-1.7\n" + os.urandom(64) + b"\n%%EOF\n"
    return ArchivedDocument(
        invoice_id=str(uuid.uuid4()),
        invoice_number=f"F2025-{uuid.uuid4().hex[:6]}",
        seller_company_id=seller,
        buyer_company_id=buyer,
        seller_country="FR",
        pdf=pdf,
        xml=b"<rsm:CrossIndustryInvoice/>",
        sha256=hashlib.sha256(pdf).hexdigest(),
        previous_chain_hash="",
        chain_hash="",
        sequence=0,
        signature_level="B-B",
        retain_until=date(2036, 12, 31),
    )


async def append_one(sessions, *, hold_s: float = 0.0) -> ArchivedDocument:
    async with sessions() as session, session.begin():
        entry = await archive.append(session, new_entry())
        await asyncio.sleep(hold_s)  # keep the head locked a moment, as sealing transactions do
    return entry


async def stored_chain(sessions) -> list[ArchivedDocument]:
    async with sessions() as session:
        return list((await session.exec(select(ArchivedDocument).order_by(ArchivedDocument.sequence))).all())


def assert_linked(entries: list[ArchivedDocument]) -> None:
    previous = GENESIS_HASH
    for expected_sequence, entry in enumerate(entries, start=1):
        assert entry.sequence == expected_sequence
        assert entry.previous_chain_hash == previous
        assert entry.chain_hash == archive.chain_link(previous, entry.sha256, entry.id, entry.sequence)
        previous = entry.chain_hash


async def test_appended_entries_form_a_chain_from_the_genesis_hash(signing_sessions):
    for _ in range(4):
        await append_one(signing_sessions)

    entries = await stored_chain(signing_sessions)

    assert [e.sequence for e in entries] == [1, 2, 3, 4]
    assert_linked(entries)
    async with signing_sessions() as session:
        head = await session.get(ArchiveChainHead, 1)
    assert head is not None and (head.sequence, head.chain_hash) == (4, entries[-1].chain_hash)


async def test_an_intact_archive_verifies_clean(signing_sessions):
    for _ in range(3):
        await append_one(signing_sessions)

    async with signing_sessions() as session:
        assert await archive.verify_chain(session) == []


async def test_an_empty_archive_verifies_clean(signing_sessions):
    async with signing_sessions() as session:
        assert await archive.verify_chain(session) == []


async def test_changing_one_byte_of_a_stored_pdf_is_flagged_at_its_sequence(signing_sessions):
    for _ in range(4):
        await append_one(signing_sessions)
    second = (await stored_chain(signing_sessions))[1]
    tampered = bytearray(second.pdf)
    tampered[20] ^= 0x01

    async with signing_sessions() as session, session.begin():
        await session.exec(
            text("UPDATE archived_document SET pdf = :pdf WHERE sequence = 2"), params={"pdf": bytes(tampered)}
        )

    async with signing_sessions() as session:
        assert await archive.verify_chain(session) == [2]


async def test_a_rewritten_entry_with_a_matching_hash_still_breaks_the_chain(signing_sessions):
    for _ in range(3):
        await append_one(signing_sessions)
    # A forger swaps the PDF and updates its sha256 column too; the chain hash gives it away.
    forged = b"%PDF-1.7 forged\n%%EOF\n"

    async with signing_sessions() as session, session.begin():
        await session.exec(
            text("UPDATE archived_document SET pdf = :pdf, sha256 = :sha WHERE sequence = 1"),
            params={"pdf": forged, "sha": hashlib.sha256(forged).hexdigest()},
        )

    async with signing_sessions() as session:
        assert await archive.verify_chain(session) == [1]


async def test_concurrent_appends_from_many_sessions_never_fork_the_chain(signing_sessions):
    # The head row does not exist yet, so the first-insert race is part of the test.
    appended = await asyncio.gather(*(append_one(signing_sessions, hold_s=0.005) for _ in range(12)))

    entries = await stored_chain(signing_sessions)
    assert len(entries) == 12
    assert sorted(e.sequence for e in appended) == list(range(1, 13))
    assert_linked(entries)
    assert len({e.previous_chain_hash for e in entries}) == 12, "two entries claim the same predecessor"
    async with signing_sessions() as session:
        assert await archive.verify_chain(session) == []


async def test_a_document_is_served_to_its_seller_and_buyer_only(signing_sessions):
    entry = await append_one(signing_sessions)

    async with signing_sessions() as session:
        for company in (SELLER, BUYER):
            found = await archive.document_for_party(session, entry.id, company)
            assert found is not None and found.pdf == entry.pdf, company
        assert await archive.document_for_party(session, entry.id, OUTSIDER) is None
        assert await archive.document_for_party(session, uuid.uuid4(), SELLER) is None


def api(sessions, company_id: str) -> httpx.AsyncClient:
    """The archive router with the caller's verified company fixed and our database behind it."""
    app = FastAPI()
    app.include_router(http.router)

    async def session_override():
        async with sessions() as session:
            yield session

    app.dependency_overrides[db_session] = session_override
    app.dependency_overrides[current_principal] = lambda: Principal("u-1", company_id, frozenset())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://signing.test")


async def test_the_archive_api_gives_the_pdf_and_xml_to_parties_and_404_to_others(signing_sessions):
    entry = await append_one(signing_sessions)

    async with api(signing_sessions, BUYER) as client:
        pdf = await client.get(f"/archive/documents/{entry.id}")
        xml = await client.get(f"/archive/documents/{entry.id}/xml")
    async with api(signing_sessions, OUTSIDER) as client:
        denied_pdf = await client.get(f"/archive/documents/{entry.id}")
        denied_xml = await client.get(f"/archive/documents/{entry.id}/xml")

    assert pdf.status_code == 200
    assert pdf.content == entry.pdf
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["digest"] == f"sha-256={entry.sha256}"
    assert xml.status_code == 200 and xml.content == entry.xml
    assert (denied_pdf.status_code, denied_xml.status_code) == (404, 404)
    assert entry.pdf not in denied_pdf.content


async def test_an_entry_under_retention_cannot_be_deleted_even_with_sql(signing_sessions):
    entry = await append_one(signing_sessions)

    with pytest.raises(Exception, match="retained until 2036-12-31"):
        async with signing_sessions() as session, session.begin():
            await session.exec(text("DELETE FROM archived_document WHERE id = :id"), params={"id": entry.id})

    assert [e.id for e in await stored_chain(signing_sessions)] == [entry.id]


async def test_an_entry_past_its_retention_date_may_be_deleted(signing_sessions):
    entry = await append_one(signing_sessions)
    async with signing_sessions() as session, session.begin():
        await session.exec(
            text("UPDATE archived_document SET retain_until = current_date - 1 WHERE id = :id"), params={"id": entry.id}
        )

    async with signing_sessions() as session, session.begin():
        await session.exec(text("DELETE FROM archived_document WHERE id = :id"), params={"id": entry.id})

    assert await stored_chain(signing_sessions) == []
