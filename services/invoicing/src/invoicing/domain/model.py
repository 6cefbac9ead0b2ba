"""Invoice computation on the EN 16931 model: line amounts, VAT breakdown and totals in Decimal."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from contracts.v1 import (
    InvoiceDocument,
    InvoiceLine,
    InvoiceTotals,
    PartnerInvoiceSubmitted,
    VatBreakdown,
)

CENT = Decimal("0.01")

EXEMPTION_REASONS = {
    "AE": "Reverse charge",
    "E": "Exempt from VAT",
    "K": "Intra-community supply",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
}


def money(value: Decimal) -> Decimal:
    """Round to the cent, half up, as EN 16931 amounts are stated with two decimals."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def compute_lines(submission: PartnerInvoiceSubmitted) -> list[InvoiceLine]:
    """Each line's net amount = quantity x unit price, rounded (BR-CO-... line level)."""
    return [
        InvoiceLine(
            line_id=str(index),
            description=line.description,
            quantity=line.quantity,
            unit_code=line.unit_code,
            unit_price=line.unit_price,
            net_amount=money(line.quantity * line.unit_price),
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
        )
        for index, line in enumerate(submission.lines, start=1)
    ]


def compute_vat_breakdown(lines: list[InvoiceLine]) -> list[VatBreakdown]:
    """One row per (category, rate); VAT is computed on the row's taxable sum (BR-CO-17)."""
    taxable: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in lines:
        taxable[(line.vat_category, line.vat_rate)] += line.net_amount
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


def compute_totals(lines: list[InvoiceLine], breakdown: list[VatBreakdown]) -> InvoiceTotals:
    """Document totals (BR-CO-10, BR-CO-13, BR-CO-14, BR-CO-15, BR-CO-16)."""
    line_total = money(sum((line.net_amount for line in lines), Decimal(0)))
    tax_total = money(sum((row.tax_amount for row in breakdown), Decimal(0)))
    return InvoiceTotals(
        line_total=line_total,
        tax_exclusive=line_total,
        tax_total=tax_total,
        tax_inclusive=line_total + tax_total,
        payable=line_total + tax_total,
    )


def build_invoice(submission: PartnerInvoiceSubmitted, *, invoice_id: str, number: str) -> InvoiceDocument:
    """The issued invoice for a valid submission."""
    lines = compute_lines(submission)
    breakdown = compute_vat_breakdown(lines)
    return InvoiceDocument(
        invoice_id=invoice_id,
        number=number,
        type_code=submission.type_code,
        issue_date=submission.issue_date,
        due_date=submission.due_date,
        currency=submission.currency,
        seller=submission.seller,
        buyer=submission.buyer,
        lines=lines,
        vat_breakdown=breakdown,
        totals=compute_totals(lines, breakdown),
        purchase_order=submission.purchase_order,
        note=submission.note,
    )
