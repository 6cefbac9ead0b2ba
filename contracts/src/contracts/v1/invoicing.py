"""Invoicing events: partner intake, rejections, issued invoices (EN 16931 semantic model subset)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import EmailStr, Field

from contracts.v1.base import Event

Locale = Literal["fr", "en"]
VatCategory = Literal["S", "Z", "E", "AE", "K", "G", "O"]


class PostalAddress(Event):
    """A postal address (EN 16931 BG-5 / BG-8)."""

    line1: str = Field(description="Street and number (BT-35 / BT-50).")
    city: str = Field(description="City (BT-37 / BT-52).")
    postcode: str = Field(description="Post code (BT-38 / BT-53).")
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 (BT-40 / BT-55).")


class Party(Event):
    """Seller or buyer of an invoice (EN 16931 BG-4 / BG-7)."""

    company_id: str = Field(description="Factora company id of the party.")
    name: str = Field(description="Legal name (BT-27 / BT-44).")
    vat_id: str | None = Field(default=None, description="VAT identifier with country prefix (BT-31 / BT-48).")
    address: PostalAddress = Field(description="Postal address of the party.")
    email: EmailStr | None = Field(default=None, description="Invoice contact e-mail (BT-43 / BT-58).")
    locale: Locale = Field(default="fr", description="Language the party reads its messages in.")


class SubmittedLine(Event):
    """One invoice line as a partner submits it (EN 16931 BG-25)."""

    description: str = Field(description="Item name (BT-153).")
    quantity: Decimal = Field(description="Invoiced quantity (BT-129).")
    unit_code: str = Field(default="C62", description="UN/ECE Rec 20 unit code (BT-130).")
    unit_price: Decimal = Field(description="Item net price, VAT excluded (BT-146).")
    vat_category: VatCategory = Field(default="S", description="VAT category code (BT-151).")
    vat_rate: Decimal = Field(description="VAT rate in percent (BT-152).")


class PartnerInvoiceSubmitted(Event):
    """A partner system submits an invoice on behalf of a seller company."""

    partner_id: str = Field(description="Registered partner system id.")
    external_id: str = Field(description="The partner's own reference for this invoice (idempotent per seller).")
    type_code: Literal["380", "381"] = Field(default="380", description="380 invoice, 381 credit note (BT-3).")
    issue_date: date = Field(description="Issue date (BT-2).")
    due_date: date | None = Field(default=None, description="Payment due date (BT-9).")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 currency code (BT-5).")
    seller: Party = Field(description="The seller (supplier).")
    buyer: Party = Field(description="The buyer (customer).")
    lines: list[SubmittedLine] = Field(description="At least one invoice line.")
    purchase_order: str | None = Field(default=None, description="Purchase order reference (BT-13).")
    note: str | None = Field(default=None, description="Free-text invoice note (BT-22).")


class RejectionReason(Event):
    """Why a submission was refused: the rule, the field and what to do."""

    rule: str = Field(description="Rule id, e.g. BR-16 or FX-SCHEMA.")
    field: str = Field(description="Path of the offending field, e.g. lines[0].quantity.")
    message: str = Field(description="Plain-language explanation and fix.")


class PartnerInvoiceRejected(Event):
    """A partner submission was rejected; nothing was issued."""

    partner_id: str | None = Field(default=None, description="Partner that submitted, when known.")
    external_id: str | None = Field(default=None, description="The partner's reference, when readable.")
    submission_event_id: str = Field(description="ce_id of the rejected submission.")
    reasons: list[RejectionReason] = Field(description="Every problem found.")


class InvoiceLine(Event):
    """A computed invoice line."""

    line_id: str = Field(description="Line identifier (BT-126).")
    description: str = Field(description="Item name (BT-153).")
    quantity: Decimal = Field(description="Invoiced quantity (BT-129).")
    unit_code: str = Field(description="Unit code (BT-130).")
    unit_price: Decimal = Field(description="Item net price (BT-146).")
    net_amount: Decimal = Field(description="Line net amount (BT-131).")
    vat_category: VatCategory = Field(description="VAT category code (BT-151).")
    vat_rate: Decimal = Field(description="VAT rate in percent (BT-152).")


class VatBreakdown(Event):
    """One VAT breakdown row (EN 16931 BG-23)."""

    category: VatCategory = Field(description="VAT category code (BT-118).")
    rate: Decimal = Field(description="VAT rate (BT-119).")
    taxable_amount: Decimal = Field(description="Taxable amount (BT-116).")
    tax_amount: Decimal = Field(description="VAT amount (BT-117).")
    exemption_reason: str | None = Field(default=None, description="Exemption reason text (BT-120).")


class InvoiceTotals(Event):
    """Document totals (EN 16931 BG-22)."""

    line_total: Decimal = Field(description="Sum of line net amounts (BT-106).")
    tax_exclusive: Decimal = Field(description="Total without VAT (BT-109).")
    tax_total: Decimal = Field(description="Total VAT (BT-110).")
    tax_inclusive: Decimal = Field(description="Total with VAT (BT-112).")
    payable: Decimal = Field(description="Amount due for payment (BT-115).")


class InvoiceDocument(Event):
    """The full issued invoice, enough to render, serialise and archive it."""

    invoice_id: str = Field(description="Factora invoice id (UUID).")
    number: str = Field(description="Invoice number from the seller's series (BT-1).")
    type_code: Literal["380", "381"] = Field(description="380 invoice, 381 credit note (BT-3).")
    issue_date: date = Field(description="Issue date (BT-2).")
    due_date: date | None = Field(default=None, description="Payment due date (BT-9).")
    currency: str = Field(description="Currency (BT-5).")
    seller: Party = Field(description="The seller.")
    buyer: Party = Field(description="The buyer.")
    lines: list[InvoiceLine] = Field(description="Computed lines.")
    vat_breakdown: list[VatBreakdown] = Field(description="VAT breakdown per category and rate.")
    totals: InvoiceTotals = Field(description="Document totals.")
    purchase_order: str | None = Field(default=None, description="Purchase order reference (BT-13).")
    note: str | None = Field(default=None, description="Invoice note (BT-22).")


class InvoiceIssued(Event):
    """An invoice was issued: numbered, validated, one credit consumed."""

    invoice: InvoiceDocument = Field(description="The issued invoice.")


class InvoiceStatusChanged(Event):
    """The lifecycle status of an invoice changed."""

    invoice_id: str = Field(description="Factora invoice id.")
    number: str = Field(description="Invoice number.")
    seller_company_id: str = Field(description="Seller company id.")
    buyer_company_id: str = Field(description="Buyer company id.")
    status: Literal["issued", "sealed", "delivered", "sealing_failed", "withdrawn"] = Field(description="New status.")
    partner_id: str | None = Field(default=None, description="Partner that submitted it, if any.")
    external_id: str | None = Field(default=None, description="The partner's reference, if any.")
