"""What the HTTP API answers: invoices for lists and for one invoice, relationships, billing."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from invoicing.adapters.tables import InvoiceEvent, InvoiceRecord, Purchase, Relationship
from invoicing.entrypoints.deps import localized_report


class InvoiceSummary(BaseModel):
    """An invoice or credit note as listed to its seller or buyer."""

    id: uuid.UUID
    number: str | None = Field(
        description="Number in the seller's series (F… invoices, C… credit notes); none for drafts."
    )
    type_code: str = Field(description="380 invoice, 381 credit note.")
    status: str = Field(description="draft, issued, sealed, delivered, sealing_failed or withdrawn.")
    buyer_status: str | None = Field(description="Set by the buyer: received, approved, on_hold, rejected, paid.")
    buyer_status_reason: str | None = Field(description="The buyer's reason (rejections, holds).")
    role: Literal["seller", "buyer"] = Field(description="The caller's side of this document.")
    seller_company_id: str
    buyer_company_id: str
    seller_name: str | None
    buyer_name: str | None
    currency: str
    payable: Decimal = Field(description="Amount due (BT-115); for credit notes the amount credited.")
    credited_amount: Decimal = Field(description="Invoices: the total of the credit notes issued against it.")
    issue_date: date | None
    due_date: date | None
    corrects_invoice_id: uuid.UUID | None = Field(description="Credit notes: the invoice they correct.")
    archive_id: str | None = Field(description="Archive entry of the sealed PDF, once sealed.")
    created_at: datetime

    @classmethod
    def of(cls, record: InvoiceRecord, company_id: str) -> InvoiceSummary:
        document = record.document or {}
        return cls(
            **record.model_dump(include=set(cls.model_fields) - {"role", "seller_name", "buyer_name", "due_date"}),
            role="seller" if record.seller_company_id == company_id else "buyer",
            seller_name=document.get("seller", {}).get("name"),
            buyer_name=document.get("buyer", {}).get("name"),
            due_date=document.get("due_date"),
        )


class InvoicePage(BaseModel):
    """One page of a list."""

    items: list[InvoiceSummary]
    total: int = Field(description="How many documents match the filters in all.")
    limit: int
    offset: int


class LinkedDocument(BaseModel):
    """A credit note of an invoice, or the invoice a credit note corrects."""

    id: uuid.UUID
    number: str | None
    status: str
    payable: Decimal
    issue_date: date | None


class HistoryEntry(BaseModel):
    """One change in the invoice's life."""

    status: str | None
    buyer_status: str | None
    reason: str | None
    changed_by: str
    at: datetime

    @classmethod
    def of(cls, event: InvoiceEvent) -> HistoryEntry:
        return cls.model_validate(event, from_attributes=True)


class InvoiceView(InvoiceSummary):
    """One invoice with its full EN 16931 document, validation report, links and history."""

    remaining_to_credit: Decimal | None = Field(description="Invoices: what credit notes may still take back.")
    corrects: LinkedDocument | None = None
    credit_notes: list[LinkedDocument] = Field(default_factory=list)
    document: dict[str, Any] | None = Field(description="The EN 16931 document (a preview for drafts).")
    validation_report: dict[str, Any] | None = Field(
        description="Every finding: rule id, field, severity, message in the reader's language and in fr/en."
    )
    history: list[HistoryEntry] = Field(default_factory=list)
    source: str = Field(description="form or partner.")
    external_id: str | None
    retain_until: date | None = Field(description="Kept in the archive at least until this date.")
    issued_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None

    @classmethod
    def build(
        cls,
        record: InvoiceRecord,
        company_id: str,
        lang: str,
        *,
        corrects: InvoiceRecord | None = None,
        credit_notes: list[InvoiceRecord] | None = None,
        history: list[InvoiceEvent] | None = None,
    ) -> InvoiceView:
        summary = InvoiceSummary.of(record, company_id)
        return cls(
            **summary.model_dump(),
            remaining_to_credit=record.payable - record.credited_amount if record.type_code == "380" else None,
            corrects=_linked(corrects) if corrects else None,
            credit_notes=[_linked(cn) for cn in credit_notes or []],
            document=record.document,
            validation_report=localized_report(record.validation_report, lang),
            history=[HistoryEntry.of(e) for e in history or []],
            source=record.source,
            external_id=record.external_id,
            retain_until=record.retain_until,
            issued_at=record.issued_at,
            withdrawn_at=record.withdrawn_at,
            withdrawn_reason=record.withdrawn_reason,
        )


def _linked(record: InvoiceRecord) -> LinkedDocument:
    return LinkedDocument.model_validate(record, from_attributes=True)


class RelationshipView(BaseModel):
    """A trading relationship as either side sees it."""

    id: uuid.UUID
    supplier_company_id: str
    buyer_company_id: str
    supplier_name: str | None
    buyer_name: str | None
    status: str = Field(description="requested, active, declined or ended.")
    requested_by: str
    message: str | None
    created_at: datetime
    accepted_at: datetime | None

    @classmethod
    def of(cls, row: Relationship, names: dict[str, str]) -> RelationshipView:
        return cls(
            **row.model_dump(exclude={"updated_at"}),
            supplier_name=names.get(row.supplier_company_id),
            buyer_name=names.get(row.buyer_company_id),
        )


class InvitationView(BaseModel):
    """A buyer's invitation code, shown once: only its hash is kept."""

    id: uuid.UUID
    code: str = Field(description="Give it to your supplier; it works once, until it expires.")
    expires_at: datetime


class PackView(BaseModel):
    id: str
    credits: int
    price: Decimal = Field(description="Price without VAT.")
    vat_rate: Decimal
    vat_amount: Decimal
    total: Decimal
    currency: str


class MovementView(BaseModel):
    delta: int
    balance_after: int
    kind: str = Field(description="welcome, purchase or issue.")
    invoice_id: uuid.UUID | None
    purchase_id: uuid.UUID | None
    at: datetime


class BalanceView(BaseModel):
    balance: int = Field(description="Transaction credits left; each invoice or credit note issued uses one.")
    low_threshold: int = Field(description="The company is told when the balance reaches this level.")
    movements: list[MovementView]


class PurchaseView(BaseModel):
    id: uuid.UUID
    pack_id: str
    credits: int
    net_amount: Decimal
    vat_rate: Decimal
    vat_amount: Decimal
    amount: Decimal
    currency: str
    status: str = Field(description="pending, paid or declined.")
    decline_code: str | None
    decline_reason: str | None
    receipt_number: str | None
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, row: Purchase) -> PurchaseView:
        return cls.model_validate(row, from_attributes=True)


class ReceiptLine(BaseModel):
    description: str
    quantity: int
    unit_price: Decimal
    net_amount: Decimal


class ReceiptView(BaseModel):
    """The invoice (receipt) of one credit purchase."""

    receipt_number: str
    issued_at: datetime
    seller: dict[str, str]
    buyer: dict[str, str | None]
    lines: list[ReceiptLine]
    net_amount: Decimal
    vat_rate: Decimal
    vat_amount: Decimal
    total: Decimal
    currency: str
    vat_note: str | None
    payment_reference: str | None
