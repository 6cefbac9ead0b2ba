"""The online form: drafts the supplier edits, credit notes drawn from an invoice, and issuing them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import BaseModel, EmailStr, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.v1 import (
    AllowanceCharge,
    InvoiceDocument,
    InvoiceReference,
    PaymentMeans,
    SalesTaxLine,
    SubmittedLine,
)
from invoicing.adapters import repository
from invoicing.adapters.tables import InvoiceRecord
from invoicing.domain.errors import Conflict, Forbidden, InvalidInvoice, NotConnected, NotFound
from invoicing.domain.findings import ValidationReport
from invoicing.domain.model import InvoiceContent, build_invoice, money
from invoicing.domain.validation import validate
from invoicing.service import issuing, parties, relationships
from invoicing.service.context import Context
from servicekit.auth import Principal


class DraftInput(BaseModel):
    """An invoice as the supplier fills in the form; seller and buyer details come from their profiles."""

    buyer_company_id: str = Field(description="A buyer your company is connected with (GET /relationships).")
    issue_date: date | None = Field(default=None, description="Issue date (BT-2); today when left out.")
    due_date: date | None = Field(default=None, description="Payment due date (BT-9).")
    currency: str = Field(default="EUR", min_length=3, max_length=3, description="ISO 4217 code (BT-5).")
    lines: list[SubmittedLine] = Field(default_factory=list, description="Invoice lines (BG-25).")
    purchase_order: str | None = Field(default=None, description="Purchase order reference (BT-13).")
    buyer_reference: str | None = Field(default=None, description="Buyer reference (BT-10).")
    note: str | None = Field(default=None, description="Invoice note (BT-22).")
    payment_terms: str | None = Field(default=None, description="Payment terms in words (BT-20).")
    payment_means: PaymentMeans | None = Field(default=None, description="How to pay (BG-16).")
    allowances: list[AllowanceCharge] = Field(default_factory=list, description="Document allowances (BG-20).")
    charges: list[AllowanceCharge] = Field(default_factory=list, description="Document charges (BG-21).")
    sales_tax: list[SalesTaxLine] = Field(default_factory=list, description="US/Canadian sales taxes as computed.")
    prepaid_amount: Decimal | None = Field(default=None, description="Amount already paid (BT-113).")
    buyer_contact_email: EmailStr | None = Field(
        default=None, description="Send to this buyer contact (BT-58) besides the buyer's invoice recipients."
    )


class CreditedLine(BaseModel):
    """A line of the invoice to credit, in full or for part of its quantity."""

    line_id: str = Field(description="Line id (BT-126) on the invoice.")
    quantity: Decimal | None = Field(
        default=None, gt=0, description="Quantity to credit; the whole line when left out."
    )


class CreditNoteInput(BaseModel):
    """What a credit note takes back from an invoice."""

    full: bool = Field(
        default=False,
        description="Credit the whole invoice (every line, allowance, charge); refused once a credit note has taken "
        "part of it (then credit the remaining lines).",
    )
    lines: list[CreditedLine] = Field(default_factory=list, description="Invoice lines to credit (partial credit).")
    extra_lines: list[SubmittedLine] = Field(
        default_factory=list, description="Free lines, e.g. a price adjustment or a commercial gesture."
    )
    reason: str | None = Field(default=None, description="Why the invoice is corrected (printed as the note).")
    issue: bool = Field(default=False, description="Issue the credit note at once instead of keeping a draft.")


def _today() -> date:
    return datetime.now(UTC).date()


def _store_draft(record: InvoiceRecord, content: InvoiceContent) -> ValidationReport:
    report = validate(content)
    preview = build_invoice(content, invoice_id=str(record.id), number="DRAFT")
    record.content = content.model_dump(mode="json")
    record.document = preview.model_dump(mode="json")
    record.validation_report = report.as_dict()
    record.payable = preview.totals.payable
    record.currency = content.currency
    record.issue_date = content.issue_date
    record.buyer_company_id = content.buyer.company_id
    record.updated_at = datetime.now(UTC)
    return report


async def _content(session: AsyncSession, company_id: str, data: DraftInput) -> InvoiceContent:
    seller = await parties.get_party(session, company_id)
    if seller is None:
        raise Conflict(
            "Your company's profile has not reached invoicing yet (it comes from identity): try again in a moment."
        )
    buyer = await parties.get_party(session, data.buyer_company_id)
    if buyer is None:
        raise NotFound("No member company has this id: choose a buyer from your trading relationships.")
    if not await relationships.is_connected(session, company_id, data.buyer_company_id):
        raise NotConnected(
            "You are not connected with this buyer: send a connection request (POST /relationships) or enter "
            "its invitation code first."
        )
    return InvoiceContent(
        type_code="380",
        issue_date=data.issue_date or _today(),
        due_date=data.due_date,
        currency=data.currency,
        seller=parties.as_party(seller),
        buyer=parties.as_party(buyer, email=str(data.buyer_contact_email) if data.buyer_contact_email else None),
        lines=data.lines,
        purchase_order=data.purchase_order,
        note=data.note,
        buyer_reference=data.buyer_reference,
        payment_terms=data.payment_terms,
        payment_means=data.payment_means,
        allowances=data.allowances,
        charges=data.charges,
        sales_tax=data.sales_tax,
        prepaid_amount=data.prepaid_amount,
    )


async def create_draft(
    ctx: Context, session: AsyncSession, principal: Principal, data: DraftInput
) -> tuple[InvoiceRecord, ValidationReport]:
    """A new draft invoice with its validation report (drafts may be invalid; issuing may not)."""
    content = await _content(session, principal.company_id, data)
    record = InvoiceRecord(
        seller_company_id=principal.company_id, buyer_company_id=data.buyer_company_id, type_code="380",
        status="draft", currency=content.currency, payable=Decimal(0), source="form", created_by=principal.user_id,
    )  # fmt: skip
    report = _store_draft(record, content)
    session.add(record)
    await session.flush()
    return record, report


async def own_draft(session: AsyncSession, principal: Principal, draft_id: uuid.UUID) -> InvoiceRecord:
    """One of the caller's drafts, locked; 404 for anything else (other companies' drafts do not exist)."""
    record = await repository.invoice_visible_to(session, principal.company_id, draft_id, lock=True)
    if record is None or record.seller_company_id != principal.company_id:
        raise NotFound("No such draft for your company.")
    if record.status != "draft":
        raise Conflict(f"This document was already issued as {record.number}; issued documents are not edited.")
    return record


async def update_draft(
    ctx: Context, session: AsyncSession, principal: Principal, draft_id: uuid.UUID, data: DraftInput
) -> tuple[InvoiceRecord, ValidationReport]:
    record = await own_draft(session, principal, draft_id)
    if record.type_code != "380":
        raise Conflict("A draft credit note is changed by discarding it and drawing a new one from the invoice.")
    report = _store_draft(record, await _content(session, principal.company_id, data))
    session.add(record)
    return record, report


async def discard_draft(session: AsyncSession, principal: Principal, draft_id: uuid.UUID) -> None:
    record = await own_draft(session, principal, draft_id)
    await session.delete(record)


async def issue_draft(ctx: Context, session: AsyncSession, principal: Principal, draft_id: uuid.UUID) -> InvoiceRecord:
    """Validate, number, use one credit and publish: the draft becomes an issued invoice or credit note."""
    record = await own_draft(session, principal, draft_id)
    content = InvoiceContent.model_validate(record.content)
    corrects = None
    if record.corrects_invoice_id is not None:
        corrects = await repository.get_invoice(session, record.corrects_invoice_id, lock=True)
        if corrects is None or corrects.status in ("draft", "withdrawn"):
            raise Conflict("The invoice this credit note corrects was withdrawn: the credit note cannot be issued.")
    elif not await relationships.is_connected(session, principal.company_id, record.buyer_company_id):
        raise NotConnected("You are no longer connected with this buyer: reconnect before issuing.")
    report = validate(content)
    if not report.valid:
        raise InvalidInvoice(
            f"The invoice cannot be issued: {len(report.errors)} rule(s) are broken. Fix them and issue again.",
            report=report,
        )
    await issuing.issue(
        ctx, session, content, report, record=record, source="form", created_by=principal.user_id, corrects=corrects
    )
    return record


def _credited_lines(document: InvoiceDocument, data: CreditNoteInput) -> list[SubmittedLine]:
    by_id = {line.line_id: line for line in document.lines}
    lines: list[SubmittedLine] = []
    for wanted in data.lines:
        line = by_id.get(wanted.line_id)
        if line is None:
            raise NotFound(f"The invoice has no line {wanted.line_id!r}.")
        quantity = wanted.quantity if wanted.quantity is not None else line.quantity
        if quantity > abs(line.quantity):
            raise Conflict(f"Line {line.line_id} was invoiced for {line.quantity}: credit at most that quantity.")
        whole = quantity == line.quantity
        lines.append(
            SubmittedLine(
                description=line.description,
                quantity=quantity,
                unit_code=line.unit_code,
                # A part of a line with allowances or charges is credited at its net unit price.
                unit_price=line.unit_price
                if whole or not (line.allowances or line.charges)
                else (line.net_amount / line.quantity).quantize(Decimal("0.0001")),
                vat_category=line.vat_category,
                vat_rate=line.vat_rate,
                allowances=line.allowances if whole else [],
                charges=line.charges if whole else [],
                item_id=line.item_id,
                note=line.note,
            )
        )
    return lines + list(data.extra_lines)


async def create_credit_note(
    ctx: Context, session: AsyncSession, principal: Principal, invoice_id: uuid.UUID, data: CreditNoteInput
) -> tuple[InvoiceRecord, ValidationReport]:
    """A credit note (381) referencing the invoice: in full, or some lines; never more than is left to credit."""
    invoice = await repository.invoice_visible_to(session, principal.company_id, invoice_id, lock=True)
    if invoice is None:
        raise NotFound("No such invoice for your company.")
    if invoice.seller_company_id != principal.company_id:
        raise Forbidden("Only the supplier who issued an invoice can credit it.")
    if invoice.type_code != "380" or invoice.status in ("draft", "withdrawn"):
        raise Conflict("Only an issued invoice (not a draft, a credit note or a withdrawn invoice) can be credited.")
    document = InvoiceDocument.model_validate(invoice.document)
    source = InvoiceContent.model_validate(invoice.content) if invoice.content else InvoiceContent.of_document(document)
    if data.full:
        lines, allowances, charges, sales_tax = source.lines, source.allowances, source.charges, source.sales_tax
    else:
        lines, allowances, charges, sales_tax = _credited_lines(document, data), [], [], []
        if not lines:
            raise Conflict("Say what to credit: full=true, some invoice lines, or extra lines.")
    content = InvoiceContent(
        type_code="381",
        issue_date=_today(),
        currency=invoice.currency,
        seller=document.seller,
        buyer=document.buyer,
        lines=lines,
        allowances=allowances,
        charges=charges,
        sales_tax=sales_tax,
        purchase_order=document.purchase_order,
        buyer_reference=document.buyer_reference,
        note=data.reason,
        payment_means=document.payment_means,
        # BR-CO-25 asks positive amounts for a due date or terms: say how the credit is settled.
        payment_terms=f"Credit to be offset against invoice {invoice.number} or refunded.",
        preceding_invoice=InvoiceReference(
            number=invoice.number or "", issue_date=invoice.issue_date, invoice_id=str(invoice.id)
        ),
    )
    preview = build_invoice(content, invoice_id="(preview)", number="(preview)")
    issuing.check_remainder(invoice, money(preview.totals.payable))
    record = InvoiceRecord(
        seller_company_id=principal.company_id, buyer_company_id=invoice.buyer_company_id, type_code="381",
        status="draft", currency=invoice.currency, payable=Decimal(0), source="form", created_by=principal.user_id,
        corrects_invoice_id=invoice.id,
    )  # fmt: skip
    report = _store_draft(record, content)
    session.add(record)
    await session.flush()
    if data.issue:
        if not report.valid:
            raise InvalidInvoice("The credit note cannot be issued: fix the rules it breaks.", report=report)
        await issuing.issue(
            ctx, session, content, report, record=record, source="form", created_by=principal.user_id, corrects=invoice
        )
    return record, report
