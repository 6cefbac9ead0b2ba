"""Issuing: the one path every invoice and credit note takes, from the form or from a partner.

Inside the caller's transaction it uses one credit, takes the next number of the seller's
series, stores the computed document with its validation report and stages
`invoicing.invoice-issued.v1` and the status change in the outbox. Locks are always taken in
the same order (corrected invoice, credit account, number series), so concurrent issuers queue
instead of deadlocking, and a rollback gives back both the credit and the number.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import catalogue
from contracts.v1 import InvoiceDocument, InvoiceIssued, InvoiceStatusChanged
from invoicing.adapters import repository
from invoicing.adapters.tables import InvoiceEvent, InvoiceRecord
from invoicing.domain.countries import retention_years
from invoicing.domain.errors import CreditExceedsRemainder
from invoicing.domain.findings import ValidationReport
from invoicing.domain.model import InvoiceContent, build_invoice
from invoicing.service import credits
from invoicing.service.context import Context
from servicekit.metrics import INVOICES_ISSUED, after_commit
from servicekit.outbox import add_to_outbox


def retained_until(issue_date: date, *countries: str) -> date:
    """End of the longest legal retention period among the countries involved."""
    years = retention_years(*countries)
    try:
        return issue_date.replace(year=issue_date.year + years)
    except ValueError:  # 29 February
        return issue_date.replace(year=issue_date.year + years, day=28)


def remaining_to_credit(invoice: InvoiceRecord) -> Decimal:
    """What credit notes may still take back from this invoice."""
    return invoice.payable - invoice.credited_amount


def check_remainder(invoice: InvoiceRecord, amount: Decimal) -> None:
    """Refuse a credit note larger than what is left to credit on the (locked) invoice."""
    remaining = remaining_to_credit(invoice)
    if amount > remaining:
        raise CreditExceedsRemainder(
            f"This credit note is for {amount} {invoice.currency}, but only {remaining} {invoice.currency} of "
            f"invoice {invoice.number} is left to credit (already credited: {invoice.credited_amount}). "
            "Lower the quantities or amounts.",
            remaining=str(remaining),
            requested=str(amount),
        )


def publish_status(
    ctx: Context,
    session: AsyncSession,
    record: InvoiceRecord,
    *,
    changed_by: str,
    reason: str | None = None,
    actor_user_id: str | None = None,
    buyer_change: bool = False,
) -> None:
    """Record the change in the invoice's history and publish it (invoicing.invoice-status-changed.v1)."""
    now = datetime.now(UTC)
    session.add(
        InvoiceEvent(
            invoice_id=record.id,
            status=None if buyer_change else record.status,
            buyer_status=record.buyer_status if buyer_change else None,
            reason=reason,
            changed_by=changed_by,
            actor_user_id=actor_user_id,
            at=now,
        )
    )
    add_to_outbox(
        session,
        catalogue.INVOICE_STATUS_CHANGED,
        InvoiceStatusChanged(
            invoice_id=str(record.id),
            number=record.number or "",
            seller_company_id=record.seller_company_id,
            buyer_company_id=record.buyer_company_id,
            status=record.status,  # type: ignore[arg-type]
            partner_id=record.partner_id,
            external_id=record.external_id,
            buyer_status=record.buyer_status,  # type: ignore[arg-type]
            reason=reason,
            changed_by=changed_by,  # type: ignore[arg-type]
            type_code=record.type_code,  # type: ignore[arg-type]
            corrects_invoice_id=str(record.corrects_invoice_id) if record.corrects_invoice_id else None,
            occurred_at=now,
        ),
        source=ctx.source,
        key=str(record.id),
        tenant=record.seller_company_id,
    )


async def issue(
    ctx: Context,
    session: AsyncSession,
    content: InvoiceContent,
    report: ValidationReport,
    *,
    record: InvoiceRecord | None = None,
    source: str,
    partner_id: str | None = None,
    external_id: str | None = None,
    created_by: str | None = None,
    corrects: InvoiceRecord | None = None,
) -> InvoiceDocument:
    """Number, store and announce a validated document. `corrects` is the locked invoice a credit note corrects."""
    invoice_id = record.id if record is not None else uuid.uuid4()
    seller = content.seller.company_id
    if corrects is not None:
        preview = build_invoice(content, invoice_id=str(invoice_id), number="(preview)")
        check_remainder(corrects, preview.totals.payable)
    await credits.consume_one(ctx, session, seller, invoice_id)
    kind = "credit_note" if content.type_code == "381" else "invoice"
    number = await repository.next_number(session, seller, content.issue_date.year, kind)
    after_commit(session, INVOICES_ISSUED.labels("partner" if partner_id else "portal").inc)
    document = build_invoice(content, invoice_id=str(invoice_id), number=number)
    now = datetime.now(UTC)
    if record is None:
        record = InvoiceRecord(
            id=invoice_id,
            seller_company_id=seller,
            buyer_company_id=content.buyer.company_id,
            type_code=content.type_code,
            status="issued",
            currency=content.currency,
            payable=document.totals.payable,
            created_by=created_by,
            created_at=now,
        )
    record.number = number
    record.status = "issued"
    record.type_code = document.type_code
    record.currency = document.currency
    record.payable = document.totals.payable
    record.document = document.model_dump(mode="json")
    record.content = content.model_dump(mode="json")
    record.validation_report = report.as_dict()
    record.source = source
    record.partner_id = partner_id
    record.external_id = external_id
    record.issue_date = document.issue_date
    record.issued_at = now
    record.updated_at = now
    record.retain_until = retained_until(
        document.issue_date, document.seller.address.country, document.buyer.address.country
    )
    if corrects is not None:
        record.corrects_invoice_id = corrects.id
        corrects.credited_amount = corrects.credited_amount + document.totals.payable
        corrects.updated_at = now
        session.add(corrects)
    session.add(record)
    add_to_outbox(
        session,
        catalogue.INVOICE_ISSUED,
        InvoiceIssued(invoice=document),
        source=ctx.source,
        key=str(invoice_id),
        tenant=seller,
    )
    publish_status(ctx, session, record, changed_by="seller", actor_user_id=created_by)
    return document
