"""After issuing: sealing results, the buyer's processing statuses and withdrawal, each published and told."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import Envelope
from contracts.v1 import InvoiceDocument, InvoiceSealed, SealingFailed
from invoicing.adapters import repository
from invoicing.adapters.tables import AuditRecord, InvoiceRecord, PartyRecord
from invoicing.domain import statuses
from invoicing.domain.delivery import DeliveredDocument
from invoicing.domain.errors import ConfirmationRequired, Conflict, Forbidden, NotFound, StepUpRequired
from invoicing.service import parties
from invoicing.service.context import Context
from invoicing.service.issuing import publish_status
from invoicing.service.notify import Recipient, contacts_with, request_message
from servicekit.auth import Principal
from servicekit.metrics import INVOICE_END_TO_END, INVOICES_DELIVERED, after_commit

log = logging.getLogger(__name__)

WITHDRAW_WARNING = (
    "Withdrawing an invoice is discouraged: your customer may already have booked or paid it, and withdrawal "
    "removes it from both sides' working lists. The recommended way to cancel an invoice is a credit note "
    "(POST /invoices/{id}/credit-notes with full=true). To withdraw anyway, repeat the request with "
    "confirm=true after a recent sign-in with your second factor."
)


# The e-mail helpers read the same fields from either.
AnyDocument = InvoiceDocument | DeliveredDocument


def _now() -> datetime:
    return datetime.now(UTC)


def recipients_of_buyer(document: AnyDocument, party: PartyRecord | None) -> list[Recipient]:
    """The invoice's buyer contact e-mail, then the buyer's invoice-recipient contacts (each address once)."""
    found: list[Recipient] = []
    if document.buyer.email:
        found.append(Recipient(str(document.buyer.email), document.buyer.locale, document.buyer.name, "buyer"))
    for recipient in contacts_with(party, "invoice_recipient"):
        if recipient.email.lower() not in {r.email.lower() for r in found}:
            found.append(recipient)
    return found


async def buyer_recipients(session: AsyncSession, document: InvoiceDocument) -> list[Recipient]:
    """recipients_of_buyer, reading the buyer's party."""
    return recipients_of_buyer(document, await parties.get_party(session, document.buyer.company_id))


async def seller_recipients(session: AsyncSession, document: InvoiceDocument) -> list[Recipient]:
    """Who hears about the seller's invoices: receivables contacts, else invoice contacts, else the invoice e-mail."""
    party = await parties.get_party(session, document.seller.company_id)
    found = contacts_with(party, "accounts_receivable", "invoice_recipient")
    if not found and document.seller.email:
        found = [Recipient(str(document.seller.email), document.seller.locale, document.seller.name, "seller")]
    return found


def delivery_params(ctx: Context, document: AnyDocument, event: InvoiceSealed) -> dict[str, str | None]:
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


def credit_note_params(ctx: Context, document: AnyDocument, event: InvoiceSealed) -> dict[str, str | None]:
    """What the credit-note-received template shows the buyer."""
    corrected = document.preceding_invoice.number if document.preceding_invoice else ""
    return {
        "seller_name": document.seller.name,
        "credit_note_number": document.number,
        "invoice_number": corrected,
        "amount": str(document.totals.payable),
        "currency": document.currency,
        "document_url": f"{ctx.signing_base_url}{event.document_ref}",
    }


async def mark_delivered(ctx: Context, event: InvoiceSealed, envelope: Envelope, session: AsyncSession) -> None:
    """The sealed document is in the archive: sealed, then delivered to the buyer, who is told by e-mail."""
    record, buyer_party = await repository.invoice_for_delivery(session, event.invoice_id)
    if record is None or record.document is None:
        log.warning("sealed notice for unknown invoice %s ignored", event.invoice_id)
        return
    document = DeliveredDocument.model_validate(record.document)  # what the e-mails need, not the whole document
    if document.buyer.company_id != record.buyer_company_id:  # never expected; then read the document's buyer
        buyer_party = await parties.get_party(session, document.buyer.company_id)
    record.archive_id = event.archive_id
    record.sealed_at = event.sealed_at
    record.updated_at = _now()
    if record.status == "withdrawn":
        # Withdrawn while signing worked: the archive keeps the document, nobody is told it arrived.
        session.add(record)
        return
    record.status = "sealed"
    publish_status(ctx, session, record, changed_by="network")
    record.status = "delivered"
    record.delivered_at = _now()
    after_commit(session, INVOICES_DELIVERED.inc)
    end_to_end_s = (record.delivered_at - record.created_at).total_seconds()
    after_commit(session, lambda: INVOICE_END_TO_END.observe(max(0.0, end_to_end_s)))
    session.add(record)
    publish_status(ctx, session, record, changed_by="network")
    credit_note = document.type_code == "381"
    template = "credit-note-received" if credit_note else "invoice-delivered"
    params = credit_note_params(ctx, document, event) if credit_note else delivery_params(ctx, document, event)
    for recipient in recipients_of_buyer(document, buyer_party):
        request_message(
            ctx,
            session,
            key=f"{template}:{document.invoice_id}:{recipient.tag}",
            recipient=recipient,
            template=template,
            params=params,
            tenant=document.buyer.company_id,
            document_ref=event.document_ref,
        )


def status_params(ctx: Context, record: InvoiceRecord, status: str, reason: str | None) -> dict[str, str | None]:
    """What the invoice-status-changed template shows the supplier."""
    document = record.document or {}
    return {
        "invoice_number": record.number or "",
        "buyer_name": document.get("buyer", {}).get("name", record.buyer_company_id),
        "status": status,
        "reason": reason,
        "invoice_url": ctx.invoice_url(str(record.id)),
    }


async def _tell_seller(
    ctx: Context, session: AsyncSession, record: InvoiceRecord, status: str, reason: str | None
) -> None:
    document = InvoiceDocument.model_validate(record.document)
    for recipient in await seller_recipients(session, document):
        request_message(
            ctx,
            session,
            key=f"invoice-status:{record.id}:{status}:{uuid.uuid4()}:{recipient.tag}",
            recipient=recipient,
            template="invoice-status-changed",
            params=status_params(ctx, record, status, reason),
            tenant=record.seller_company_id,
        )


async def mark_sealing_failed(ctx: Context, event: SealingFailed, envelope: Envelope, session: AsyncSession) -> None:
    """Signing could not seal the document: record it, publish it, tell the seller."""
    record = await repository.get_invoice(session, event.invoice_id, lock=True)
    if record is None or record.status == "withdrawn":
        return
    record.status = "sealing_failed"
    record.updated_at = _now()
    session.add(record)
    publish_status(ctx, session, record, changed_by="network", reason=event.reason)
    await _tell_seller(ctx, session, record, "sealing_failed", None)


async def set_buyer_status(
    ctx: Context, session: AsyncSession, principal: Principal, invoice_id: uuid.UUID, status: str, reason: str | None
) -> InvoiceRecord:
    """The buyer records where it is with the invoice; the supplier sees it and is told."""
    record = await repository.invoice_visible_to(session, principal.company_id, invoice_id, lock=True)
    if record is None:
        raise NotFound("No such invoice for your company.")
    if record.buyer_company_id != principal.company_id:
        raise Forbidden("Only the buyer of an invoice sets its processing status.")
    if record.status not in statuses.BUYER_ACTIONABLE:
        raise Conflict(f"This document is {record.status}: its processing status can no longer change.")
    problem = statuses.buyer_transition_problem(record.buyer_status, status, reason)
    if problem:
        raise Conflict(problem[0].upper() + problem[1:] + ".")
    if status == record.buyer_status:
        return record
    record.buyer_status = status
    record.buyer_status_reason = (reason or "").strip() or None
    record.buyer_status_at = record.updated_at = _now()
    session.add(record)
    publish_status(
        ctx, session, record, changed_by="buyer", reason=record.buyer_status_reason,
        actor_user_id=principal.user_id, buyer_change=True,
    )  # fmt: skip
    email_status = statuses.SUPPLIER_EMAIL_STATUS.get(status)
    if email_status is not None:
        await _tell_seller(ctx, session, record, email_status, record.buyer_status_reason)
    return record


def require_recent_strong_login(ctx: Context, principal: Principal) -> None:
    """Sensitive actions need a second-factor login (acr aal2) no older than the configured age."""
    recent = (
        principal.authenticated_at is not None and time.time() - principal.authenticated_at <= ctx.strong_auth_max_age_s
    )
    if principal.assurance != "aal2" or not recent:
        raise StepUpRequired(
            "Withdrawing an invoice needs a recent sign-in with your second factor: sign in again with it, "
            "then confirm the withdrawal.",
            acr_values="aal2",
            max_age=ctx.strong_auth_max_age_s,
        )


async def withdraw(
    ctx: Context,
    session: AsyncSession,
    principal: Principal,
    invoice_id: uuid.UUID,
    *,
    confirm: bool,
    reason: str | None,
    ip_address: str | None = None,
) -> InvoiceRecord:
    """'Delete' an issued invoice: warn first, then, confirmed and strongly authenticated, withdraw it."""
    record = await repository.invoice_visible_to(session, principal.company_id, invoice_id, lock=True)
    if record is None:
        raise NotFound("No such invoice for your company.")
    if record.seller_company_id != principal.company_id:
        raise Forbidden("Only the supplier who issued an invoice can withdraw it.")
    if record.status == "draft":
        raise Conflict("This is a draft: discard it with DELETE /drafts/{id}; nothing was sent.")
    if record.status == "withdrawn":
        return record
    if record.type_code != "380":
        raise Conflict("A credit note cannot be withdrawn; issue a new invoice if it must be cancelled.")
    if record.buyer_status == "paid":
        raise Conflict("Your customer has paid this invoice: correct it with a credit note, it cannot be withdrawn.")
    if record.credited_amount > 0:
        raise Conflict("Credit notes already correct this invoice: continue with credit notes, it cannot be withdrawn.")
    if not confirm:
        raise ConfirmationRequired(WITHDRAW_WARNING.replace("{id}", str(record.id)), recommendation="credit_note")
    require_recent_strong_login(ctx, principal)
    record.status = "withdrawn"
    record.withdrawn_at = record.updated_at = _now()
    record.withdrawn_reason = (reason or "").strip() or None
    session.add(record)
    publish_status(
        ctx, session, record, changed_by="seller", reason=record.withdrawn_reason, actor_user_id=principal.user_id
    )
    session.add(
        AuditRecord(
            company_id=principal.company_id,
            user_id=principal.user_id,
            action="invoice_withdrawn",
            subject_id=str(record.id),
            assurance=principal.assurance,
            detail={"number": record.number, "reason": record.withdrawn_reason, "ip_address": ip_address},
        )
    )
    document = InvoiceDocument.model_validate(record.document)
    for recipient in await buyer_recipients(session, document):
        request_message(
            ctx,
            session,
            key=f"invoice-withdrawn:{record.id}:{recipient.tag}",
            recipient=recipient,
            template="invoice-withdrawn",
            params={
                "seller_name": document.seller.name,
                "invoice_number": document.number,
                "reason": record.withdrawn_reason,
                "invoice_url": ctx.invoice_url(str(record.id)),
            },
            tenant=record.buyer_company_id,
        )
    for recipient in await seller_recipients(session, document):
        request_message(
            ctx,
            session,
            key=f"security-alert:invoice_withdrawn:{record.id}:{recipient.tag}",
            recipient=recipient,
            template="security-alert",
            params={
                "recipient_name": recipient.name,
                "event": "invoice_withdrawn",
                "occurred_at": record.withdrawn_at.isoformat(),
                "ip_address": ip_address,
                "security_url": f"{ctx.portal_base_url.rstrip('/')}/account/security",
            },
            tenant=record.seller_company_id,
        )
    return record
