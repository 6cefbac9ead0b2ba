"""seal_issued_invoice on real PostgreSQL with a fake sealer: archived once, results in the outbox, failures named."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import date
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlmodel import select

import signing
from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import InvoiceDocument, InvoiceIssued, InvoiceSealed, SealingFailed
from servicekit.db import make_engine, make_session_factory
from servicekit.messaging_tables import OutboxMessage
from servicekit.migrations import upgrade_to_head
from signing.adapters import archive
from signing.adapters.tables import ArchivedDocument
from signing.documents.samples import standard_invoice
from signing.service import handlers
from signing.service.handlers import DocumentRejected, SealedInvoice

pytestmark = pytest.mark.integration

MIGRATIONS = Path(signing.__file__).parent / "migrations"


@pytest.fixture(scope="module")
async def signing_sessions(fresh_database):
    url = await fresh_database("signing_seal")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    engine = make_engine(url, pool_size=4)
    yield make_session_factory(engine)
    await engine.dispose()


class FakeSealer:
    """Returns a recognisable 'sealed' PDF per invoice, or raises what it was told to."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, str]] = []

    async def seal_invoice(self, document: InvoiceDocument, locale: str) -> SealedInvoice:
        self.calls.append((document.invoice_id, locale))
        if self.error is not None:
            raise self.error
        pdf = b"%PDF-1.7 sealed " + document.invoice_id.encode() + b"\n%%EOF\n"
        return SealedInvoice(pdf=pdf, xml=b"<rsm:CrossIndustryInvoice/>", level="B-B")


def issued_event(buyer_locale: str = "en") -> InvoiceIssued:
    document = standard_invoice()
    document = document.model_copy(
        update={
            "invoice_id": str(uuid.uuid4()),
            "number": f"F2025-{uuid.uuid4().hex[:6]}",
            "buyer": document.buyer.model_copy(update={"locale": buyer_locale}),
        }
    )
    return InvoiceIssued(invoice=document)


async def seal(sessions, sealer: FakeSealer, event: InvoiceIssued) -> list[OutboxMessage]:
    """Handle one delivery of the event (new ce_id each time); the outbox rows it wrote."""
    async with sessions() as session:
        before = set((await session.exec(select(OutboxMessage.id))).all())
    ctx = handlers.Context(source="/factora/signing", sealer=sealer)
    envelope = Envelope.new(source="/factora/invoicing", type=catalogue.INVOICE_ISSUED.schema_name)
    async with sessions() as session, session.begin():
        await handlers.seal_issued_invoice(ctx, event, envelope, session)
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.created_at))).all()
    return [row for row in rows if row.id not in before]


async def entries_for(sessions, invoice_id: str) -> list[ArchivedDocument]:
    async with sessions() as session:
        return list(
            (await session.exec(select(ArchivedDocument).where(ArchivedDocument.invoice_id == invoice_id))).all()
        )


def sealed_total() -> float:
    return REGISTRY.get_sample_value("factora_invoices_sealed_total") or 0.0


async def test_an_issued_invoice_is_sealed_archived_and_announced(signing_sessions):
    sealer = FakeSealer()
    event = issued_event(buyer_locale="en")
    document = event.invoice
    counted = sealed_total()

    rows = await seal(signing_sessions, sealer, event)

    assert sealed_total() == counted + 1, "counted once, after the commit"

    assert sealer.calls == [(document.invoice_id, "en")]
    (entry,) = await entries_for(signing_sessions, document.invoice_id)
    assert entry.invoice_number == document.number
    assert (entry.seller_company_id, entry.buyer_company_id) == (document.seller.company_id, document.buyer.company_id)
    assert entry.seller_country == "FR"
    assert entry.sha256 == hashlib.sha256(entry.pdf).hexdigest()
    assert entry.sequence >= 1 and len(entry.chain_hash) == 64

    (row,) = rows
    assert row.topic == catalogue.INVOICE_SEALED.name
    assert row.key == document.invoice_id
    assert row.headers["factora_tenant"] == document.seller.company_id
    notice = InvoiceSealed.model_validate_json(row.payload)
    assert notice.invoice_id == document.invoice_id
    assert notice.archive_id == str(entry.id)
    assert notice.document_ref == f"/archive/documents/{entry.id}"
    assert (notice.sha256, notice.size_bytes, notice.signature_level) == (entry.sha256, len(entry.pdf), "B-B")
    assert notice.xml_sha256 == hashlib.sha256(entry.xml).hexdigest()
    assert notice.xml_size_bytes == len(entry.xml)
    assert (notice.archive_sequence, notice.chain_hash) == (entry.sequence, entry.chain_hash)
    # A French seller (10 years) and a Belgian buyer (7): the longer period, from the end of 2025, plus a year.
    assert entry.buyer_country == "BE"
    assert entry.retain_until == notice.retain_until == date(2036, 12, 31)


async def test_a_second_delivery_of_the_same_invoice_does_nothing(signing_sessions):
    sealer = FakeSealer()
    event = issued_event()
    await seal(signing_sessions, sealer, event)

    rows = await seal(signing_sessions, sealer, event)

    assert rows == []
    assert len(sealer.calls) == 1, "the invoice must not be sealed twice"
    assert len(await entries_for(signing_sessions, event.invoice.invoice_id)) == 1


async def test_a_document_the_sealer_rejects_produces_a_sealing_failed_event(signing_sessions):
    event = issued_event()
    sealer = FakeSealer(DocumentRejected("invoice F2025-x cannot be rendered: unknown glyph"))

    rows = await seal(signing_sessions, sealer, event)

    assert await entries_for(signing_sessions, event.invoice.invoice_id) == []
    (row,) = rows
    assert row.topic == catalogue.SEALING_FAILED.name
    assert row.key == event.invoice.invoice_id
    failure = SealingFailed.model_validate_json(row.payload)
    assert failure.invoice_id == event.invoice.invoice_id
    assert failure.retryable is False
    assert "unknown glyph" in failure.reason


async def test_a_sealer_outage_propagates_so_the_message_is_retried_and_nothing_is_kept(signing_sessions):
    event = issued_event()
    sealer = FakeSealer(RuntimeError("sealing pool is down"))

    with pytest.raises(RuntimeError, match="pool is down"):
        await seal(signing_sessions, sealer, event)

    assert await entries_for(signing_sessions, event.invoice.invoice_id) == []
    # Once the outage is over, the redelivered event seals normally.
    sealer.error = None
    rows = await seal(signing_sessions, sealer, event)
    assert [row.topic for row in rows] == [catalogue.INVOICE_SEALED.name]


async def test_sealed_invoices_extend_one_verifiable_chain(signing_sessions):
    sealer = FakeSealer()
    for _ in range(3):
        await seal(signing_sessions, sealer, issued_event())

    async with signing_sessions() as session:
        assert await archive.verify_chain(session) == []
