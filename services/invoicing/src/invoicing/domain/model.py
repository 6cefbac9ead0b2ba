"""Invoice computation on the EN 16931 model: line amounts, allowances and charges, VAT breakdown and totals.

Every amount is a `Decimal` rounded half up to the cent at the points the standard names:
line net amounts (BT-131), each allowance or charge, each VAT row's tax (BR-CO-17, computed on the
row's summed taxable amount, never per line) and the document totals (BR-CO-10 to BR-CO-16).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.v1 import (
    AllowanceCharge,
    InvoiceDocument,
    InvoiceLine,
    InvoiceReference,
    InvoiceTotals,
    PartnerInvoiceSubmitted,
    Party,
    PaymentMeans,
    SalesTaxLine,
    StatedTotals,
    SubmittedLine,
    VatBreakdown,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

EXEMPTION_REASONS = {
    "AE": "Reverse charge",
    "E": "Exempt from VAT",
    "K": "Intra-community supply",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
}
# Categories whose rows carry no VAT identifiers on the document (BR-O-02).
NO_VAT_ID_CATEGORIES = {"O"}


def money(value: Decimal) -> Decimal:
    """Round to the cent, half up, as EN 16931 amounts are stated with two decimals."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class InvoiceContent(BaseModel):
    """What an invoice or credit note says before it is numbered: the same for the form and partners."""

    model_config = ConfigDict(frozen=True)

    type_code: Literal["380", "381"] = "380"
    issue_date: date
    due_date: date | None = None
    currency: str
    seller: Party
    buyer: Party
    lines: list[SubmittedLine] = Field(default_factory=list)
    purchase_order: str | None = None
    note: str | None = None
    buyer_reference: str | None = None
    payment_terms: str | None = None
    payment_means: PaymentMeans | None = None
    allowances: list[AllowanceCharge] = Field(default_factory=list)
    charges: list[AllowanceCharge] = Field(default_factory=list)
    sales_tax: list[SalesTaxLine] = Field(default_factory=list)
    prepaid_amount: Decimal | None = None
    preceding_invoice: InvoiceReference | None = None
    stated_totals: StatedTotals | None = None

    @classmethod
    def of(cls, source: InvoiceContent | PartnerInvoiceSubmitted) -> InvoiceContent:
        """The content of a partner submission (or the content itself)."""
        if isinstance(source, InvoiceContent):
            return source
        return cls.model_validate(source.model_dump(exclude={"partner_id", "external_id"}))

    @classmethod
    def of_document(cls, doc: InvoiceDocument) -> InvoiceContent:
        """The content an issued document was computed from (for documents stored before content was kept)."""
        return cls(
            type_code=doc.type_code,
            issue_date=doc.issue_date,
            due_date=doc.due_date,
            currency=doc.currency,
            seller=doc.seller,
            buyer=doc.buyer,
            lines=[
                SubmittedLine(
                    description=line.description,
                    quantity=line.quantity,
                    unit_code=line.unit_code,
                    unit_price=line.unit_price,
                    vat_category=line.vat_category,
                    vat_rate=line.vat_rate,
                    allowances=line.allowances,
                    charges=line.charges,
                    item_id=line.item_id,
                    note=line.note,
                )
                for line in doc.lines
            ],
            purchase_order=doc.purchase_order,
            note=doc.note,
            buyer_reference=doc.buyer_reference,
            payment_terms=doc.payment_terms,
            payment_means=doc.payment_means,
            allowances=doc.allowances,
            charges=doc.charges,
            prepaid_amount=doc.totals.prepaid or None,
            preceding_invoice=doc.preceding_invoice,
        )


def _resolved(item: AllowanceCharge, base: Decimal) -> AllowanceCharge:
    """The allowance or charge with its amount worked out from a percentage when only that was given."""
    if item.amount is not None:
        return item.model_copy(update={"amount": money(item.amount)})
    if item.percent is None:
        return item.model_copy(update={"amount": ZERO})
    used_base = item.base_amount if item.base_amount is not None else base
    return item.model_copy(update={"amount": money(used_base * item.percent / 100), "base_amount": money(used_base)})


def _total(items: list[AllowanceCharge]) -> Decimal:
    return money(sum((item.amount or ZERO for item in items), ZERO))


def compute_line(index: int, line: SubmittedLine) -> InvoiceLine:
    """Line net amount (BT-131) = quantity x net price - line allowances + line charges."""
    gross = line.quantity * line.unit_price
    allowances = [_resolved(a, gross) for a in line.allowances]
    charges = [_resolved(c, gross) for c in line.charges]
    return InvoiceLine(
        line_id=str(index),
        description=line.description,
        quantity=line.quantity,
        unit_code=line.unit_code,
        unit_price=line.unit_price,
        net_amount=money(money(gross) - _total(allowances) + _total(charges)),
        vat_category=line.vat_category,
        vat_rate=line.vat_rate,
        allowances=allowances,
        charges=charges,
        item_id=line.item_id,
        note=line.note,
    )


def compute_lines(content: InvoiceContent | PartnerInvoiceSubmitted) -> list[InvoiceLine]:
    """Every line, numbered from 1."""
    return [compute_line(index, line) for index, line in enumerate(content.lines, start=1)]


def sales_tax_charges(content: InvoiceContent) -> list[AllowanceCharge]:
    """Supplied sales taxes as document charges outside VAT: category O when the invoice has no VAT, else E."""
    if not content.sales_tax:
        return []
    category = "O" if all(line.vat_category == "O" for line in content.lines) else "E"
    return [
        AllowanceCharge(
            amount=money(tax.amount),
            base_amount=money(tax.taxable_amount) if tax.taxable_amount is not None else None,
            percent=tax.rate,
            reason=f"{tax.name or 'Sales tax'} ({tax.jurisdiction})",
            vat_category=category,  # type: ignore[arg-type]
            vat_rate=ZERO,
        )
        for tax in content.sales_tax
    ]


def document_allowances_and_charges(
    content: InvoiceContent, lines: list[InvoiceLine]
) -> tuple[list[AllowanceCharge], list[AllowanceCharge]]:
    """Document-level allowances and charges with their amounts (percentages apply to the line total)."""
    line_total = money(sum((line.net_amount for line in lines), ZERO))
    allowances = [_resolved(a, line_total) for a in content.allowances]
    charges = [_resolved(c, line_total) for c in content.charges] + sales_tax_charges(content)
    return allowances, charges


def _category(item: AllowanceCharge) -> tuple[str, Decimal]:
    return item.vat_category or "S", item.vat_rate if item.vat_rate is not None else ZERO


def compute_vat_breakdown(
    lines: list[InvoiceLine],
    allowances: list[AllowanceCharge] | None = None,
    charges: list[AllowanceCharge] | None = None,
) -> list[VatBreakdown]:
    """One row per (category, rate): taxable = lines + charges - allowances; VAT on that sum (BR-CO-17)."""
    taxable: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        taxable[(line.vat_category, line.vat_rate)] += line.net_amount
    for item in charges or []:
        taxable[_category(item)] += item.amount or ZERO
    for item in allowances or []:
        taxable[_category(item)] -= item.amount or ZERO
    return [
        VatBreakdown(
            category=category,  # type: ignore[arg-type]
            rate=rate,
            taxable_amount=money(amount),
            tax_amount=money(amount * rate / 100),
            exemption_reason=EXEMPTION_REASONS.get(category),
        )
        for (category, rate), amount in sorted(taxable.items())
    ]


def compute_totals(
    lines: list[InvoiceLine],
    breakdown: list[VatBreakdown],
    allowances: list[AllowanceCharge] | None = None,
    charges: list[AllowanceCharge] | None = None,
    prepaid: Decimal | None = None,
) -> InvoiceTotals:
    """Document totals (BR-CO-10 to BR-CO-16)."""
    line_total = money(sum((line.net_amount for line in lines), ZERO))
    allowance_total = _total(allowances or [])
    charge_total = _total(charges or [])
    tax_exclusive = line_total - allowance_total + charge_total
    tax_total = money(sum((row.tax_amount for row in breakdown), ZERO))
    tax_inclusive = tax_exclusive + tax_total
    paid = money(prepaid) if prepaid is not None else ZERO
    return InvoiceTotals(
        line_total=line_total,
        tax_exclusive=tax_exclusive,
        tax_total=tax_total,
        tax_inclusive=tax_inclusive,
        payable=tax_inclusive - paid,
        allowance_total=allowance_total,
        charge_total=charge_total,
        prepaid=paid,
    )


def document_parties(content: InvoiceContent) -> tuple[Party, Party]:
    """Seller and buyer as the document states them: no VAT identifiers on 'not subject to VAT' invoices."""
    categories = {line.vat_category for line in content.lines}
    categories |= {a.vat_category for a in (*content.allowances, *content.charges) if a.vat_category}
    if categories & NO_VAT_ID_CATEGORIES:
        return (
            content.seller.model_copy(update={"vat_id": None}),
            content.buyer.model_copy(update={"vat_id": None}),
        )
    return content.seller, content.buyer


def build_invoice(source: InvoiceContent | PartnerInvoiceSubmitted, *, invoice_id: str, number: str) -> InvoiceDocument:
    """The computed document for `source`, numbered."""
    content = InvoiceContent.of(source)
    lines = compute_lines(content)
    allowances, charges = document_allowances_and_charges(content, lines)
    breakdown = compute_vat_breakdown(lines, allowances, charges)
    seller, buyer = document_parties(content)
    return InvoiceDocument(
        invoice_id=invoice_id,
        number=number,
        type_code=content.type_code,
        issue_date=content.issue_date,
        due_date=content.due_date,
        currency=content.currency,
        seller=seller,
        buyer=buyer,
        lines=lines,
        vat_breakdown=breakdown,
        totals=compute_totals(lines, breakdown, allowances, charges, content.prepaid_amount),
        purchase_order=content.purchase_order,
        note=content.note,
        buyer_reference=content.buyer_reference,
        payment_terms=content.payment_terms,
        payment_means=content.payment_means,
        allowances=allowances,
        charges=charges,
        preceding_invoice=content.preceding_invoice,
    )
