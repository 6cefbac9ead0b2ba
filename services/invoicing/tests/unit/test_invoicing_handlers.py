"""Invoicing handlers that need no database: rejections, unreadable payloads and the delivery e-mail's facts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.examples import sample_partner_invoice
from contracts.v1 import (
    InvoiceDocument,
    InvoiceReference,
    InvoiceSealed,
    PartnerInvoiceRejected,
    PartnerInvoiceSubmitted,
)
from invoicing.domain.delivery import DeliveredDocument
from invoicing.domain.model import build_invoice
from invoicing.service import handlers
from invoicing.service.lifecycle import credit_note_params, recipients_of_buyer
from servicekit.messaging_tables import OutboxMessage

pytestmark = pytest.mark.unit

CTX = handlers.Context(source="/factora/invoicing", signing_base_url="https://signing.example")


class RecordingSession:
    """Stands in for the session where a handler only stages rows (no query is made)."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, obj: Any) -> None:
        self.added.append(obj)


def envelope(subject: str | None = "c-sample-seller:ERP-1") -> Envelope:
    return Envelope.new(
        source="/partners/erp", type=catalogue.PARTNER_INVOICE_SUBMITTED.schema_name, subject=subject, tenant="c-s"
    )


def only_outbox_rows(session: RecordingSession) -> list[OutboxMessage]:
    assert all(isinstance(obj, OutboxMessage) for obj in session.added), session.added
    return session.added


async def test_an_unsigned_submission_stages_only_a_rejection_and_is_never_read_further():
    event = sample_partner_invoice().model_copy(update={"currency": "eur"})
    env = envelope()
    session = RecordingSession()  # has no query methods: any lookup would fail the test

    await handlers.accept_partner_invoice(CTX, event, env, session)  # type: ignore[arg-type]

    (row,) = only_outbox_rows(session)
    assert row.topic == catalogue.PARTNER_INVOICE_REJECTED.name
    assert row.key == env.subject
    rejected = PartnerInvoiceRejected.model_validate_json(row.payload)
    assert rejected.submission_event_id == env.id
    assert (rejected.partner_id, rejected.external_id) == (event.partner_id, event.external_id)
    # Authentication comes first: the content (here an invalid currency) is not even validated.
    assert [(r.rule, r.field) for r in rejected.reasons] == [("FX-AUTH-1", "headers.factora_signature")]
    assert set(rejected.reasons[0].messages or {}) == {"fr", "en"}
    assert row.headers["factora_tenant"] == "c-s"


async def test_an_unreadable_submission_is_rejected_field_by_field_with_fx_schema():
    body = json.dumps({"partner_id": "erp-9", "external_id": "X-1", "currency": "EURO", "lines": "none"}).encode()
    with pytest.raises(ValidationError) as caught:
        PartnerInvoiceSubmitted.model_validate_json(body)
    session = RecordingSession()

    await handlers.reject_unreadable_submission(CTX, body, envelope(), caught.value, session)  # type: ignore[arg-type]

    (row,) = only_outbox_rows(session)
    rejected = PartnerInvoiceRejected.model_validate_json(row.payload)
    assert (rejected.partner_id, rejected.external_id) == ("erp-9", "X-1")
    assert {r.rule for r in rejected.reasons} == {"FX-SCHEMA"}
    fields = {r.field for r in rejected.reasons}
    assert {"currency", "lines", "seller", "buyer", "issue_date"} <= fields
    assert all("partner-invoice-submitted.v1" in r.message for r in rejected.reasons)


@pytest.mark.parametrize("body", [b"\xff not json", b"[1, 2]", b'{"partner_id": 7, "external_id": ["x"]}'])
async def test_an_unreadable_submission_without_readable_ids_is_still_rejected(body):
    with pytest.raises(ValidationError) as caught:
        PartnerInvoiceSubmitted.model_validate_json(body)
    session = RecordingSession()

    await handlers.reject_unreadable_submission(CTX, body, envelope(None), caught.value, session)  # type: ignore[arg-type]

    (row,) = only_outbox_rows(session)
    rejected = PartnerInvoiceRejected.model_validate_json(row.payload)
    assert (rejected.partner_id, rejected.external_id) == (None, None)
    assert rejected.reasons
    # Without a subject the rejection is keyed by the submission's event id, never by nothing.
    assert row.key == rejected.submission_event_id


def sealed(document_ref: str = "/archive/documents/a-1") -> InvoiceSealed:
    return InvoiceSealed(
        invoice_id="i-1",
        archive_id="a-1",
        seller_company_id="c-sample-seller",
        buyer_company_id="c-sample-buyer",
        sha256="0" * 64,
        size_bytes=1,
        sealed_at=datetime.now(UTC),
        signature_level="B-B",
        document_ref=document_ref,
    )


def test_delivery_params_carry_what_the_buyer_needs_to_find_and_pay_the_invoice():
    document = build_invoice(sample_partner_invoice(), invoice_id="i-1", number="F2026-000007")

    params = handlers.delivery_params(CTX, document, sealed())

    assert params["invoice_number"] == "F2026-000007"
    assert params["seller_name"] == "Atelier Lumière SARL"
    assert params["amount"] == "1145.52"
    assert params["currency"] == "EUR"
    assert params["due_date"] == document.due_date.isoformat()  # type: ignore[union-attr]
    assert params["document_url"] == "https://signing.example/archive/documents/a-1"


def test_delivery_params_send_an_absent_due_date_as_none_not_a_missing_key():
    document = build_invoice(
        sample_partner_invoice().model_copy(update={"due_date": None}), invoice_id="i-1", number="F-1"
    )

    params = handlers.delivery_params(CTX, document, sealed())

    assert "due_date" in params and params["due_date"] is None


@pytest.mark.parametrize("kind", ["invoice", "credit note", "no due date"])
def test_the_delivery_view_of_a_stored_document_gives_the_same_emails_as_the_whole_document(kind):
    event = sample_partner_invoice()
    event = event.model_copy(update={"buyer": event.buyer.model_copy(update={"email": "Buyer.AP@Example.COM"})})
    if kind == "credit note":
        event = event.model_copy(update={"type_code": "381", "preceding_invoice": InvoiceReference(number="F-9")})
    elif kind == "no due date":
        event = event.model_copy(update={"due_date": None})
    stored = build_invoice(event, invoice_id="i-1", number="F2026-000007").model_dump(mode="json")
    whole, view = InvoiceDocument.model_validate(stored), DeliveredDocument.model_validate(stored)

    for params in (handlers.delivery_params, credit_note_params):
        assert params(CTX, view, sealed()) == params(CTX, whole, sealed())
    assert recipients_of_buyer(view, None) == recipients_of_buyer(whole, None)
    assert (view.type_code, view.invoice_id, view.buyer.company_id) == (whole.type_code, "i-1", whole.buyer.company_id)
