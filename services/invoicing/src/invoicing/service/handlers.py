"""Invoicing use cases triggered by events: partner intake and sealing results."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import (
    InvoiceDocument,
    InvoiceIssued,
    InvoiceSealed,
    InvoiceStatusChanged,
    PartnerInvoiceRejected,
    PartnerInvoiceSubmitted,
    RejectionReason,
    SealingFailed,
    SendRequested,
)
from invoicing.adapters import repository
from invoicing.adapters.tables import InvoiceRecord
from invoicing.domain.model import build_invoice
from invoicing.domain.validation import validate_submission
from servicekit.outbox import add_to_outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What the use cases need besides the session: who we are and where documents live."""

    source: str
    signing_base_url: str


async def reject_submission(
    ctx: Context,
    session: AsyncSession,
    envelope: Envelope,
    reasons: list[RejectionReason],
    *,
    partner_id: str | None,
    external_id: str | None,
) -> None:
    """Tell the partner why nothing was issued."""
    add_to_outbox(
        session,
        catalogue.PARTNER_INVOICE_REJECTED,
        PartnerInvoiceRejected(
            partner_id=partner_id,
            external_id=external_id,
            submission_event_id=envelope.id,
            reasons=reasons,
        ),
        source=ctx.source,
        key=envelope.subject or envelope.id,
        tenant=envelope.tenant,
    )


async def accept_partner_invoice(
    ctx: Context, event: PartnerInvoiceSubmitted, envelope: Envelope, session: AsyncSession
) -> None:
    """Validate, number and issue a partner's invoice, or publish a rejection with reasons."""
    reasons = validate_submission(event)
    if reasons:
        await reject_submission(
            ctx, session, envelope, reasons, partner_id=event.partner_id, external_id=event.external_id
        )
        return
    if await repository.find_partner_invoice(session, event.seller.company_id, event.external_id):
        log.info("partner %s resubmitted %s; already issued", event.partner_id, event.external_id)
        return
    invoice_id = str(uuid.uuid4())
    number = await repository.next_number(session, event.seller.company_id, event.issue_date.year)
    document = build_invoice(event, invoice_id=invoice_id, number=number)
    session.add(
        InvoiceRecord(
            id=uuid.UUID(invoice_id),
            seller_company_id=document.seller.company_id,
            buyer_company_id=document.buyer.company_id,
            number=number,
            type_code=document.type_code,
            status="issued",
            currency=document.currency,
            payable=document.totals.payable,
            partner_id=event.partner_id,
            external_id=event.external_id,
            document=document.model_dump(mode="json"),
        )
    )
    add_to_outbox(
        session,
        catalogue.INVOICE_ISSUED,
        InvoiceIssued(invoice=document),
        source=ctx.source,
        key=invoice_id,
        tenant=document.seller.company_id,
    )
    add_status_change(ctx, session, document, "issued", event.partner_id, event.external_id)


def add_status_change(
    ctx: Context,
    session: AsyncSession,
    document: InvoiceDocument,
    status: str,
    partner_id: str | None,
    external_id: str | None,
) -> None:
    """Publish the new lifecycle status for partners and dashboards."""
    add_to_outbox(
        session,
        catalogue.INVOICE_STATUS_CHANGED,
        InvoiceStatusChanged(
            invoice_id=document.invoice_id,
            number=document.number,
            seller_company_id=document.seller.company_id,
            buyer_company_id=document.buyer.company_id,
            status=status,  # type: ignore[arg-type]
            partner_id=partner_id,
            external_id=external_id,
        ),
        source=ctx.source,
        key=document.invoice_id,
        tenant=document.seller.company_id,
    )


async def mark_delivered(ctx: Context, event: InvoiceSealed, envelope: Envelope, session: AsyncSession) -> None:
    """The sealed invoice is in the archive: it is delivered; tell the buyer."""
    record = await repository.get_invoice(session, event.invoice_id)
    if record is None:
        log.warning("sealed notice for unknown invoice %s ignored", event.invoice_id)
        return
    document = InvoiceDocument.model_validate(record.document)
    record.status = "delivered"
    record.archive_id = event.archive_id
    record.updated_at = datetime.now(UTC)
    session.add(record)
    add_status_change(ctx, session, document, "delivered", record.partner_id, record.external_id)
    if document.buyer.email:
        add_to_outbox(
            session,
            catalogue.SEND_REQUESTED,
            SendRequested(
                idempotency_key=f"invoice-delivered:{document.invoice_id}:buyer",
                channel="email",
                recipient=str(document.buyer.email),
                locale=document.buyer.locale,
                template="invoice-delivered",
                params=delivery_params(ctx, document, event),
                document_ref=event.document_ref,
                tenant=document.buyer.company_id,
            ),
            source=ctx.source,
            key=f"invoice-delivered:{document.invoice_id}:buyer",
            tenant=document.buyer.company_id,
        )


def delivery_params(ctx: Context, document: InvoiceDocument, event: InvoiceSealed) -> dict[str, str | None]:
    """What the invoice-delivered template shows the buyer."""
    return {
        "seller_name": document.seller.name,
        "buyer_name": document.buyer.name,
        "invoice_number": document.number,
        "amount": str(document.totals.payable),
        "currency": document.currency,
        "issue_date": document.issue_date.isoformat(),
        "due_date": document.due_date.isoformat() if document.due_date else None,
        "document_url": f"{ctx.signing_base_url}{event.document_ref}",
    }


async def mark_sealing_failed(ctx: Context, event: SealingFailed, envelope: Envelope, session: AsyncSession) -> None:
    """Signing could not seal the invoice: record it so operators and the seller see it."""
    record = await repository.get_invoice(session, event.invoice_id)
    if record is None:
        return
    record.status = "sealing_failed"
    record.updated_at = datetime.now(UTC)
    session.add(record)
    document = InvoiceDocument.model_validate(record.document)
    add_status_change(ctx, session, document, "sealing_failed", record.partner_id, record.external_id)


async def reject_unreadable_submission(
    ctx: Context, body: bytes, envelope: Envelope, error: ValidationError, session: AsyncSession
) -> None:
    """A submission that does not match the schema: one reason per bad field, rule FX-SCHEMA."""
    reasons = [
        RejectionReason(
            rule="FX-SCHEMA",
            field=".".join(str(p) for p in err["loc"]) or "(payload)",
            message=f"{err['msg']}; see the invoicing.partner-invoice-submitted.v1 JSON Schema.",
        )
        for err in error.errors()
    ]
    partner_id, external_id = _readable_ids(body)
    await reject_submission(ctx, session, envelope, reasons, partner_id=partner_id, external_id=external_id)


def _readable_ids(body: bytes) -> tuple[str | None, str | None]:
    """Partner id and reference from a payload that failed validation, when they can be read."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    pid, ext = data.get("partner_id"), data.get("external_id")
    return (pid if isinstance(pid, str) else None, ext if isinstance(ext, str) else None)
