"""Sealing results on real PostgreSQL: delivered invoices ask notifications to tell the buyer, failures are recorded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.examples import sample_partner_invoice
from contracts.v1 import InvoiceSealed, InvoiceStatusChanged, PartnerInvoiceSubmitted, SealingFailed, SendRequested
from invoicing.adapters.tables import InvoiceRecord
from invoicing.service import handlers
from servicekit.messaging_tables import OutboxMessage

pytestmark = pytest.mark.integration

CTX = handlers.Context(source="/factora/invoicing", signing_base_url="http://127.0.0.1:8003")

# What services/notifications/src/notifications/templates/invoice-delivered/{fr,en}.* read (including the
# shared layout). Hard-coded on purpose: invoicing must never import the notifications package.
INVOICE_DELIVERED_PARAMS = {"seller_name", "invoice_number", "amount", "currency", "due_date", "document_url"}
# Parameters the templates test with {% if %}: None is an accepted value for them.
OPTIONAL_PARAMS = {"due_date"}


async def issued_invoice(sessions, **changes: Any) -> tuple[PartnerInvoiceSubmitted, InvoiceRecord]:
    event = sample_partner_invoice()
    seller = event.seller.model_copy(update={"company_id": f"c-{uuid.uuid4().hex[:12]}"})
    event = event.model_copy(update={"seller": seller, **changes})
    envelope = Envelope.new(source="/partners/sample-erp", type=catalogue.PARTNER_INVOICE_SUBMITTED.schema_name)
    async with sessions() as session, session.begin():
        await handlers.accept_partner_invoice(CTX, event, envelope, session)
    async with sessions() as session:
        record = (
            await session.exec(select(InvoiceRecord).where(InvoiceRecord.seller_company_id == seller.company_id))
        ).one()
    return event, record


def sealed_notice(record: InvoiceRecord) -> InvoiceSealed:
    archive_id = str(uuid.uuid4())
    return InvoiceSealed(
        invoice_id=str(record.id),
        archive_id=archive_id,
        seller_company_id=record.seller_company_id,
        buyer_company_id=record.buyer_company_id,
        sha256="ab" * 32,
        size_bytes=12345,
        sealed_at=datetime.now(UTC),
        signature_level="B-B",
        document_ref=f"/archive/documents/{archive_id}",
    )


async def handle(sessions, handler, event) -> list[OutboxMessage]:
    """Run a sealing-result handler in its own transaction; the outbox rows it wrote."""
    async with sessions() as session:
        before = set((await session.exec(select(OutboxMessage.id))).all())
    envelope = Envelope.new(source="/factora/signing", type="test")
    async with sessions() as session, session.begin():
        await handler(CTX, event, envelope, session)
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.created_at))).all()
    return [row for row in rows if row.id not in before]


async def reload(sessions, record: InvoiceRecord) -> InvoiceRecord:
    async with sessions() as session:
        fresh = await session.get(InvoiceRecord, record.id)
    assert fresh is not None
    return fresh


async def test_a_sealed_invoice_becomes_delivered_and_the_buyer_is_told_by_email(invoicing_sessions):
    event, record = await issued_invoice(invoicing_sessions)
    notice = sealed_notice(record)

    rows = await handle(invoicing_sessions, handlers.mark_delivered, notice)

    delivered = await reload(invoicing_sessions, record)
    assert delivered.status == "delivered"
    assert delivered.archive_id == notice.archive_id
    assert delivered.updated_at > record.updated_at

    by_topic = {row.topic: row for row in rows}
    assert len(rows) == 2
    status = InvoiceStatusChanged.model_validate_json(by_topic[catalogue.INVOICE_STATUS_CHANGED.name].payload)
    assert (status.invoice_id, status.status) == (str(record.id), "delivered")

    send_row = by_topic[catalogue.SEND_REQUESTED.name]
    request = SendRequested.model_validate_json(send_row.payload)
    assert request.template == "invoice-delivered"
    assert request.channel == "email"
    assert request.recipient == event.buyer.email
    assert request.locale == event.buyer.locale
    assert request.idempotency_key == f"invoice-delivered:{record.id}:buyer"
    assert request.document_ref == notice.document_ref
    assert request.tenant == event.buyer.company_id
    assert send_row.key == request.idempotency_key
    assert send_row.headers["factora_tenant"] == event.buyer.company_id


async def test_the_delivery_request_carries_every_parameter_the_notifications_template_reads(invoicing_sessions):
    _, record = await issued_invoice(invoicing_sessions)

    rows = await handle(invoicing_sessions, handlers.mark_delivered, sealed_notice(record))

    (send_row,) = [row for row in rows if row.topic == catalogue.SEND_REQUESTED.name]
    params = SendRequested.model_validate_json(send_row.payload).params
    assert params.keys() >= INVOICE_DELIVERED_PARAMS
    for name in INVOICE_DELIVERED_PARAMS - OPTIONAL_PARAMS:
        assert params[name] not in (None, ""), name
    # Values in the shapes the template's filters accept: a decimal amount, an ISO currency, an http(s) link.
    assert Decimal(params["amount"]) == record.payable
    assert params["currency"] == "EUR"
    assert params["document_url"].startswith("http://127.0.0.1:8003/archive/documents/")
    assert params["invoice_number"] == record.number


async def test_without_a_buyer_email_the_invoice_is_delivered_but_nobody_is_emailed(invoicing_sessions):
    event = sample_partner_invoice()
    _, record = await issued_invoice(invoicing_sessions, buyer=event.buyer.model_copy(update={"email": None}))

    rows = await handle(invoicing_sessions, handlers.mark_delivered, sealed_notice(record))

    assert [row.topic for row in rows] == [catalogue.INVOICE_STATUS_CHANGED.name]
    assert (await reload(invoicing_sessions, record)).status == "delivered"


async def test_a_sealed_notice_for_an_unknown_invoice_changes_nothing(invoicing_sessions):
    _, record = await issued_invoice(invoicing_sessions)
    stranger = sealed_notice(record).model_copy(update={"invoice_id": str(uuid.uuid4())})

    assert await handle(invoicing_sessions, handlers.mark_delivered, stranger) == []
    assert (await reload(invoicing_sessions, record)).status == "issued"


async def test_a_sealing_failure_is_recorded_and_announced(invoicing_sessions):
    _, record = await issued_invoice(invoicing_sessions)
    failure = SealingFailed(invoice_id=str(record.id), reason="font missing", retryable=False)

    rows = await handle(invoicing_sessions, handlers.mark_sealing_failed, failure)

    assert (await reload(invoicing_sessions, record)).status == "sealing_failed"
    (row,) = rows
    status = InvoiceStatusChanged.model_validate_json(row.payload)
    assert (status.invoice_id, status.status) == (str(record.id), "sealing_failed")
