"""Partner intake on real PostgreSQL: an invoice and its events commit together, exactly once, or not at all."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.examples import sample_partner_invoice
from contracts.v1 import InvoiceIssued, InvoiceStatusChanged, PartnerInvoiceRejected, PartnerInvoiceSubmitted
from invoicing.adapters.tables import InvoiceRecord, NumberSeries
from invoicing.service import handlers
from servicekit.messaging_tables import OutboxMessage

pytestmark = pytest.mark.integration

CTX = handlers.Context(source="/factora/invoicing", signing_base_url="http://127.0.0.1:8003")


def partner_invoice(**changes: Any) -> PartnerInvoiceSubmitted:
    """The sample submission for a seller of its own, so tests sharing the database never meet."""
    event = sample_partner_invoice()
    seller = event.seller.model_copy(update={"company_id": f"c-{uuid.uuid4().hex[:12]}"})
    return event.model_copy(update={"seller": seller, **changes})


def submitted_envelope(event: PartnerInvoiceSubmitted) -> Envelope:
    return Envelope.new(
        source="/partners/sample-erp",
        type=catalogue.PARTNER_INVOICE_SUBMITTED.schema_name,
        subject=f"{event.seller.company_id}:{event.external_id}",
        tenant=event.seller.company_id,
    )


async def submit(sessions, event: PartnerInvoiceSubmitted, envelope: Envelope | None = None) -> Envelope:
    envelope = envelope or submitted_envelope(event)
    async with sessions() as session, session.begin():
        await handlers.accept_partner_invoice(CTX, event, envelope, session)
    return envelope


async def outbox_ids(sessions) -> set[uuid.UUID]:
    async with sessions() as session:
        return set((await session.exec(select(OutboxMessage.id))).all())


async def outbox_rows_since(sessions, before: set[uuid.UUID]) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.created_at))).all()
    return [row for row in rows if row.id not in before]


async def invoices_of(sessions, seller: str) -> list[InvoiceRecord]:
    async with sessions() as session:
        return list((await session.exec(select(InvoiceRecord).where(InvoiceRecord.seller_company_id == seller))).all())


async def test_an_accepted_invoice_is_stored_numbered_and_announced_in_the_outbox(invoicing_sessions):
    event = partner_invoice()
    before = await outbox_ids(invoicing_sessions)

    await submit(invoicing_sessions, event)

    (record,) = await invoices_of(invoicing_sessions, event.seller.company_id)
    assert record.number == f"F{event.issue_date.year}-000001"
    assert record.status == "issued"
    assert record.payable == Decimal("1145.52")
    assert (record.partner_id, record.external_id) == (event.partner_id, event.external_id)
    assert record.buyer_company_id == event.buyer.company_id

    rows = await outbox_rows_since(invoicing_sessions, before)
    by_topic = {row.topic: row for row in rows}
    assert sorted(by_topic) == [catalogue.INVOICE_ISSUED.name, catalogue.INVOICE_STATUS_CHANGED.name]
    assert len(rows) == 2

    issued_row = by_topic[catalogue.INVOICE_ISSUED.name]
    issued = InvoiceIssued.model_validate_json(issued_row.payload)
    assert issued.invoice.invoice_id == str(record.id)
    assert issued.invoice.number == record.number
    assert issued.invoice.totals.payable == record.payable
    assert issued_row.key == str(record.id)
    assert issued_row.headers["ce_type"] == catalogue.INVOICE_ISSUED.schema_name
    assert issued_row.headers["factora_tenant"] == event.seller.company_id
    assert issued_row.published_at is None

    status = InvoiceStatusChanged.model_validate_json(by_topic[catalogue.INVOICE_STATUS_CHANGED.name].payload)
    assert (status.invoice_id, status.status, status.external_id) == (str(record.id), "issued", event.external_id)


async def test_the_invoice_and_its_events_roll_back_together(invoicing_sessions):
    event = partner_invoice()
    before = await outbox_ids(invoicing_sessions)

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with invoicing_sessions() as session, session.begin():
            await handlers.accept_partner_invoice(CTX, event, submitted_envelope(event), session)
            await session.flush()  # the rows reached the database inside the transaction...
            raise Crash  # ...which then fails before commit

    assert await invoices_of(invoicing_sessions, event.seller.company_id) == []
    assert await outbox_rows_since(invoicing_sessions, before) == []
    # Nor was a number spent: the next issue of this seller still gets 000001.
    await submit(invoicing_sessions, event)
    (record,) = await invoices_of(invoicing_sessions, event.seller.company_id)
    assert record.number.endswith("-000001")


async def test_a_resubmitted_partner_reference_issues_nothing_new(invoicing_sessions):
    event = partner_invoice()
    first = await submit(invoicing_sessions, event)
    before = await outbox_ids(invoicing_sessions)

    # The partner sends the same invoice again as a new event (new ce_id), e.g. after a timeout on its side.
    second = await submit(invoicing_sessions, event)

    assert second.id != first.id
    assert len(await invoices_of(invoicing_sessions, event.seller.company_id)) == 1
    assert await outbox_rows_since(invoicing_sessions, before) == []
    async with invoicing_sessions() as session:
        series = (
            await session.exec(select(NumberSeries).where(NumberSeries.seller_company_id == event.seller.company_id))
        ).one()
    assert series.next_value == 2


async def test_the_same_reference_from_another_seller_is_a_different_invoice(invoicing_sessions):
    event = partner_invoice(external_id="SHARED-REF-1")
    other = partner_invoice(external_id="SHARED-REF-1")

    await submit(invoicing_sessions, event)
    await submit(invoicing_sessions, other)

    assert len(await invoices_of(invoicing_sessions, event.seller.company_id)) == 1
    assert len(await invoices_of(invoicing_sessions, other.seller.company_id)) == 1


async def test_an_invalid_submission_writes_only_a_rejection(invoicing_sessions):
    event = partner_invoice(currency="eur", due_date=sample_partner_invoice().issue_date.replace(year=2000))
    before = await outbox_ids(invoicing_sessions)

    envelope = await submit(invoicing_sessions, event)

    assert await invoices_of(invoicing_sessions, event.seller.company_id) == []
    (row,) = await outbox_rows_since(invoicing_sessions, before)
    assert row.topic == catalogue.PARTNER_INVOICE_REJECTED.name
    rejected = PartnerInvoiceRejected.model_validate_json(row.payload)
    assert rejected.submission_event_id == envelope.id
    assert rejected.external_id == event.external_id
    assert {(r.rule, r.field) for r in rejected.reasons} == {("BR-5", "currency"), ("FX-DUE-1", "due_date")}
    async with invoicing_sessions() as session:
        assert (
            await session.exec(select(NumberSeries).where(NumberSeries.seller_company_id == event.seller.company_id))
        ).first() is None, "a rejected submission must not touch the number series"
