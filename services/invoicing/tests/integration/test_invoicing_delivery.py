"""Sealing results on real PostgreSQL: sealed then delivered, the buyer told by e-mail; failures recorded and told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import InvoiceReference, InvoiceSealed, InvoiceStatusChanged, SealingFailed, SendRequested
from invoicing.adapters.tables import InvoiceRecord
from invoicing.service import handlers

pytestmark = pytest.mark.integration

# What services/notifications/src/notifications/templates/<id>/{fr,en}.* read (including the shared layout).
# Hard-coded on purpose: invoicing must never import the notifications package.
TEMPLATE_PARAMS = {
    "invoice-delivered": {"seller_name", "invoice_number", "amount", "currency", "due_date", "document_url"},
    "credit-note-received": {
        "seller_name",
        "credit_note_number",
        "invoice_number",
        "amount",
        "currency",
        "document_url",
    },
    "invoice-status-changed": {"buyer_name", "invoice_number", "invoice_url", "reason", "status"},
}
# Parameters the templates test with {% if %}: None is an accepted value for them.
OPTIONAL_PARAMS = {"due_date", "reason"}


async def issued(world, **changes) -> tuple:
    seller, buyer = await world.trading_pair()
    key, key_id = await world.partner_key(seller)
    event = world.submission(seller, buyer, **changes)
    await world.submit(event, *world.signed(event, key, key_id))
    (record,) = await world.invoices_of(seller)
    return event, record, (key, key_id)


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


async def handle(world, handler, event):
    """Run a sealing-result handler in its own transaction; the outbox rows it wrote."""
    before = await world.outbox_ids()
    async with world.sessions() as session, session.begin():
        await handler(world.ctx, event, Envelope.new(source="/factora/signing", type="test"), session)
    return await world.outbox_since(before)


async def reload(world, record: InvoiceRecord) -> InvoiceRecord:
    async with world.sessions() as session:
        return await session.get(InvoiceRecord, record.id)


def check_params(request: SendRequested) -> None:
    expected = TEMPLATE_PARAMS[request.template]
    assert request.params.keys() >= expected
    for name in expected - OPTIONAL_PARAMS:
        assert request.params[name] not in (None, ""), name


async def test_a_sealed_invoice_becomes_sealed_then_delivered_and_the_buyer_is_told_by_email(world):
    event, record, _ = await issued(world)
    notice = sealed_notice(record)

    rows = await handle(world, handlers.mark_delivered, notice)

    delivered = await reload(world, record)
    assert (delivered.status, delivered.archive_id) == ("delivered", notice.archive_id)
    assert delivered.sealed_at is not None and delivered.delivered_at is not None
    statuses = [
        InvoiceStatusChanged.model_validate_json(r.payload).status
        for r in rows
        if r.topic == catalogue.INVOICE_STATUS_CHANGED.name
    ]
    assert statuses == ["sealed", "delivered"]
    sends = [SendRequested.model_validate_json(r.payload) for r in rows if r.topic == catalogue.SEND_REQUESTED.name]
    # The invoice's buyer contact and the buyer's registered invoice recipient.
    assert {s.recipient for s in sends} == {event.buyer.email, f"accounts-{record.buyer_company_id[:8]}@example.com"}
    by_key = {s.idempotency_key: s for s in sends}
    request = by_key[f"invoice-delivered:{record.id}:buyer"]
    assert (request.template, request.channel, request.locale) == ("invoice-delivered", "email", event.buyer.locale)
    assert request.document_ref == notice.document_ref and request.tenant == record.buyer_company_id
    check_params(request)
    assert Decimal(request.params["amount"]) == record.payable
    assert request.params["document_url"].startswith("http://127.0.0.1:8003/archive/documents/")


async def test_a_sealed_credit_note_tells_the_buyer_with_the_credit_note_template(world):
    event, invoice, (key, key_id) = await issued(world)
    credit = world.submission(
        invoice.seller_company_id,
        invoice.buyer_company_id,
        type_code="381",
        lines=[event.lines[1]],
        preceding_invoice=InvoiceReference(number=invoice.number),
    )
    await world.submit(credit, *world.signed(credit, key, key_id))
    credit_note = next(r for r in await world.invoices_of(invoice.seller_company_id) if r.type_code == "381")

    rows = await handle(world, handlers.mark_delivered, sealed_notice(credit_note))

    sends = [SendRequested.model_validate_json(r.payload) for r in rows if r.topic == catalogue.SEND_REQUESTED.name]
    assert sends and {s.template for s in sends} == {"credit-note-received"}
    check_params(sends[0])
    assert (sends[0].params["credit_note_number"], sends[0].params["invoice_number"]) == (
        credit_note.number,
        invoice.number,
    )


async def test_a_sealed_notice_for_an_unknown_invoice_changes_nothing(world):
    _, record, _ = await issued(world)
    stranger = sealed_notice(record).model_copy(update={"invoice_id": str(uuid.uuid4())})

    assert await handle(world, handlers.mark_delivered, stranger) == []
    assert (await reload(world, record)).status == "issued"


async def test_a_sealing_failure_is_recorded_announced_and_told_to_the_seller(world):
    _, record, _ = await issued(world)
    failure = SealingFailed(invoice_id=str(record.id), reason="font missing", retryable=False)

    rows = await handle(world, handlers.mark_sealing_failed, failure)

    assert (await reload(world, record)).status == "sealing_failed"
    by_topic = {row.topic: row for row in rows}
    status = InvoiceStatusChanged.model_validate_json(by_topic[catalogue.INVOICE_STATUS_CHANGED.name].payload)
    assert (status.status, status.reason, status.changed_by) == ("sealing_failed", "font missing", "network")
    request = SendRequested.model_validate_json(by_topic[catalogue.SEND_REQUESTED.name].payload)
    assert request.template == "invoice-status-changed" and request.params["status"] == "sealing_failed"
    check_params(request)
