"""Invoicing events: partner intake, rejections, issued invoices (EN 16931 semantic model subset)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import EmailStr, Field

from contracts.v1.base import Event

Locale = Literal["fr", "en"]
VatCategory = Literal["S", "Z", "E", "AE", "K", "G", "O"]
BuyerStatus = Literal["received", "approved", "on_hold", "rejected", "paid"]
ZERO = Decimal("0.00")


class PostalAddress(Event):
    """A postal address (EN 16931 BG-5 / BG-8)."""

    line1: str = Field(description="Street and number (BT-35 / BT-50).")
    city: str = Field(description="City (BT-37 / BT-52).")
    postcode: str = Field(description="Post code (BT-38 / BT-53).")
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 (BT-40 / BT-55).")
    line2: str | None = Field(default=None, description="Additional address line (BT-36 / BT-51).")
    region: str | None = Field(
        default=None,
        description="Country subdivision (BT-39 / BT-54), e.g. a Canadian province code such as ON or QC.",
    )


class Party(Event):
    """Seller or buyer of an invoice (EN 16931 BG-4 / BG-7)."""

    company_id: str = Field(description="Factora company id of the party.")
    name: str = Field(description="Legal name (BT-27 / BT-44).")
    vat_id: str | None = Field(default=None, description="VAT identifier with country prefix (BT-31 / BT-48).")
    tax_id: str | None = Field(
        default=None, description="Other tax or legal registration id: SIREN, EIN, ABN... (BT-30 / BT-47)."
    )
    address: PostalAddress = Field(description="Postal address of the party.")
    email: EmailStr | None = Field(default=None, description="Invoice contact e-mail (BT-43 / BT-58).")
    locale: Locale = Field(default="fr", description="Language the party reads its messages in.")


class AllowanceCharge(Event):
    """An allowance (discount) or a charge, on one line (BG-27 / BG-28) or on the whole document (BG-20 / BG-21).

    Give either `amount`, or `percent` (with an optional `base_amount`, which defaults to the line's
    quantity x price, or to the sum of line net amounts at document level).
    """

    amount: Decimal | None = Field(default=None, description="Amount without VAT (BT-92 / BT-99 / BT-136 / BT-141).")
    base_amount: Decimal | None = Field(default=None, description="Base the percentage applies to (BT-93 / BT-137).")
    percent: Decimal | None = Field(default=None, description="Percentage, e.g. 10 for 10 % (BT-94 / BT-138).")
    reason: str | None = Field(default=None, description="Reason in words (BT-97 / BT-104 / BT-139 / BT-144).")
    reason_code: str | None = Field(
        default=None, description="UNTDID 5189 (allowances) or 7161 (charges) code (BT-98 / BT-105 / BT-140 / BT-145)."
    )
    vat_category: VatCategory | None = Field(
        default=None, description="Document level only: VAT category of the allowance or charge (BT-95 / BT-102)."
    )
    vat_rate: Decimal | None = Field(
        default=None, description="Document level only: VAT rate in percent (BT-96 / BT-103)."
    )


class PaymentMeans(Event):
    """How the buyer is expected to pay (EN 16931 BG-16)."""

    code: str = Field(
        description=(
            "UNTDID 4461 payment means code (BT-81): 30 credit transfer, 58 SEPA credit transfer, "
            "49 direct debit, 59 SEPA direct debit, 48 bank card, 10 cash, 20 cheque."
        )
    )
    text: str | None = Field(default=None, description="Payment means in words (BT-82).")
    payment_id: str | None = Field(
        default=None, description="Remittance information the buyer quotes when paying (BT-83)."
    )
    account_id: str | None = Field(default=None, description="Payee account: IBAN or account number (BT-84).")
    account_name: str | None = Field(default=None, description="Payee account name (BT-85).")
    bank_id: str | None = Field(default=None, description="Payee bank: BIC or branch id (BT-86).")


class InvoiceReference(Event):
    """The invoice a credit note corrects (EN 16931 BG-3)."""

    number: str = Field(description="Preceding invoice number (BT-25).")
    issue_date: date | None = Field(default=None, description="Preceding invoice issue date (BT-26).")
    invoice_id: str | None = Field(default=None, description="Factora id of the preceding invoice, when known.")


class SalesTaxLine(Event):
    """A sales tax the seller states as it computed it (US state and local sales tax, Canadian PST/QST).

    These taxes are not VAT: Factora carries them as supplied, as document-level charges outside
    the VAT breakdown, and does not compute them.
    """

    jurisdiction: str = Field(description="Where the tax is due, e.g. US-CA, US-NY-NYC, CA-BC, CA-QC.")
    name: str | None = Field(default=None, description="Name of the tax, e.g. State sales tax, PST, QST.")
    taxable_amount: Decimal | None = Field(default=None, description="Amount the tax was computed on.")
    rate: Decimal | None = Field(default=None, description="Rate in percent, as applied by the seller.")
    amount: Decimal = Field(description="Tax amount, as computed by the seller.")


class StatedTotals(Event):
    """Totals as the partner's own system computed them; Factora refuses the invoice if its own differ."""

    tax_exclusive: Decimal | None = Field(default=None, description="Total without VAT (BT-109).")
    tax_total: Decimal | None = Field(default=None, description="Total VAT (BT-110).")
    tax_inclusive: Decimal | None = Field(default=None, description="Total with VAT (BT-112).")
    payable: Decimal | None = Field(default=None, description="Amount due for payment (BT-115).")


class SubmittedLine(Event):
    """One invoice line as a partner submits it (EN 16931 BG-25)."""

    description: str = Field(description="Item name (BT-153).")
    quantity: Decimal = Field(description="Invoiced quantity (BT-129).")
    unit_code: str = Field(default="C62", description="UN/ECE Rec 20 unit code (BT-130).")
    unit_price: Decimal = Field(description="Item net price, VAT excluded (BT-146).")
    vat_category: VatCategory = Field(default="S", description="VAT category code (BT-151).")
    vat_rate: Decimal = Field(description="VAT rate in percent (BT-152).")
    allowances: list[AllowanceCharge] = Field(default_factory=list, description="Line allowances (BG-27).")
    charges: list[AllowanceCharge] = Field(default_factory=list, description="Line charges (BG-28).")
    item_id: str | None = Field(default=None, description="Seller's item identifier (BT-155).")
    note: str | None = Field(default=None, description="Line note (BT-127).")


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
    buyer_reference: str | None = Field(default=None, description="Buyer reference (BT-10).")
    payment_terms: str | None = Field(default=None, description="Payment terms in words (BT-20).")
    payment_means: PaymentMeans | None = Field(default=None, description="How to pay (BG-16).")
    allowances: list[AllowanceCharge] = Field(
        default_factory=list, description="Document-level allowances (BG-20); each needs a VAT category."
    )
    charges: list[AllowanceCharge] = Field(
        default_factory=list, description="Document-level charges (BG-21); each needs a VAT category."
    )
    sales_tax: list[SalesTaxLine] = Field(
        default_factory=list, description="US sales tax or Canadian PST/QST lines, as computed by the seller."
    )
    prepaid_amount: Decimal | None = Field(default=None, description="Amount already paid (BT-113).")
    preceding_invoice: InvoiceReference | None = Field(
        default=None, description="Credit notes (381): the invoice they correct (BG-3). Required for 381."
    )
    stated_totals: StatedTotals | None = Field(
        default=None, description="The partner's own totals; a difference with Factora's is a BR-CO rejection."
    )


class RejectionReason(Event):
    """Why a submission was refused: the rule, the field and what to do."""

    rule: str = Field(description="Rule id, e.g. BR-16 or FX-SCHEMA.")
    field: str = Field(description="Path of the offending field, e.g. lines[0].quantity.")
    message: str = Field(description="Plain-language explanation and fix.")
    messages: dict[str, str] | None = Field(
        default=None, description="The same explanation in each language Factora writes in (fr, en)."
    )


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
    allowances: list[AllowanceCharge] = Field(default_factory=list, description="Line allowances (BG-27).")
    charges: list[AllowanceCharge] = Field(default_factory=list, description="Line charges (BG-28).")
    item_id: str | None = Field(default=None, description="Seller's item identifier (BT-155).")
    note: str | None = Field(default=None, description="Line note (BT-127).")


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
    allowance_total: Decimal = Field(default=ZERO, description="Sum of document-level allowances (BT-107).")
    charge_total: Decimal = Field(default=ZERO, description="Sum of document-level charges (BT-108).")
    prepaid: Decimal = Field(default=ZERO, description="Amount already paid (BT-113).")


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
    buyer_reference: str | None = Field(default=None, description="Buyer reference (BT-10).")
    payment_terms: str | None = Field(default=None, description="Payment terms in words (BT-20).")
    payment_means: PaymentMeans | None = Field(default=None, description="How to pay (BG-16).")
    allowances: list[AllowanceCharge] = Field(default_factory=list, description="Document-level allowances (BG-20).")
    charges: list[AllowanceCharge] = Field(
        default_factory=list, description="Document-level charges (BG-21), supplied sales taxes included."
    )
    preceding_invoice: InvoiceReference | None = Field(
        default=None, description="Credit notes: the invoice they correct (BG-3)."
    )


class InvoiceIssued(Event):
    """An invoice was issued: numbered, validated, one credit consumed."""

    invoice: InvoiceDocument = Field(description="The issued invoice.")


class InvoiceStatusChanged(Event):
    """The lifecycle status of an invoice changed."""

    invoice_id: str = Field(description="Factora invoice id.")
    number: str = Field(description="Invoice number.")
    seller_company_id: str = Field(description="Seller company id.")
    buyer_company_id: str = Field(description="Buyer company id.")
    status: Literal["issued", "sealed", "delivered", "sealing_failed", "withdrawn"] = Field(
        description="Delivery status on the network (after this change)."
    )
    partner_id: str | None = Field(default=None, description="Partner that submitted it, if any.")
    external_id: str | None = Field(default=None, description="The partner's reference, if any.")
    buyer_status: BuyerStatus | None = Field(
        default=None,
        description=(
            "Processing status set by the buyer (received, approved, on_hold, rejected, paid), once the buyer "
            "has set one; a change of it alone also publishes this event."
        ),
    )
    reason: str | None = Field(default=None, description="Why: the buyer's rejection or hold reason, a withdrawal's.")
    changed_by: Literal["seller", "buyer", "network"] | None = Field(
        default=None, description="Who made the change: the seller, the buyer, or the network itself."
    )
    type_code: Literal["380", "381"] | None = Field(default=None, description="380 invoice, 381 credit note.")
    corrects_invoice_id: str | None = Field(
        default=None, description="Credit notes: Factora id of the invoice they correct."
    )
    occurred_at: datetime | None = Field(default=None, description="When the change happened (UTC).")
