"""The first EN 16931 business rules checked at intake; each failure names rule, field and fix."""

from __future__ import annotations

from decimal import Decimal

from contracts.v1 import PartnerInvoiceSubmitted, RejectionReason

ZERO_RATE_CATEGORIES = {"Z", "E", "AE", "K", "G", "O"}


def validate_submission(sub: PartnerInvoiceSubmitted) -> list[RejectionReason]:
    """Every problem found in a partner submission (empty list = valid)."""
    problems: list[RejectionReason] = []

    def fail(rule: str, field: str, message: str) -> None:
        problems.append(RejectionReason(rule=rule, field=field, message=message))

    if not sub.lines:
        fail("BR-16", "lines", "An invoice needs at least one line: add the goods or services invoiced.")
    if not (sub.currency.isascii() and sub.currency.isalpha() and sub.currency.isupper()):
        fail("BR-5", "currency", "Give the currency as an ISO 4217 code in capitals, for example EUR.")
    if not sub.seller.name.strip():
        fail("BR-6", "seller.name", "Give the seller's legal name.")
    if not sub.buyer.name.strip():
        fail("BR-7", "buyer.name", "Give the buyer's legal name.")
    if sub.due_date and sub.due_date < sub.issue_date:
        fail("FX-DUE-1", "due_date", "The due date is before the issue date: correct one of the two dates.")
    if sub.seller.company_id == sub.buyer.company_id:
        fail("FX-PARTY-1", "buyer.company_id", "Seller and buyer are the same company: choose the buyer.")
    for i, line in enumerate(sub.lines):
        where = f"lines[{i}]"
        if line.quantity == 0:
            fail("FX-LINE-1", f"{where}.quantity", "A line quantity cannot be zero: remove the line or fix it.")
        if line.unit_price < 0:
            fail("BR-27", f"{where}.unit_price", "The item net price cannot be negative: use a credit note.")
        if line.vat_category == "S" and line.vat_rate <= Decimal(0):
            fail("BR-S-05", f"{where}.vat_rate", "Standard-rated lines need a VAT rate above zero.")
        if line.vat_category in ZERO_RATE_CATEGORIES and line.vat_rate != Decimal(0):
            fail(
                f"BR-{line.vat_category}-05",
                f"{where}.vat_rate",
                f"Category {line.vat_category} lines carry a VAT rate of 0.",
            )
        if line.vat_category == "S" and not sub.seller.vat_id:
            fail("BR-S-02", "seller.vat_id", "Standard-rated invoices need the seller's VAT identifier.")
        if line.vat_category == "AE" and not sub.buyer.vat_id:
            fail("BR-AE-02", "buyer.vat_id", "Reverse-charge invoices need the buyer's VAT identifier.")
        if line.vat_category == "AE" and not sub.seller.vat_id:
            fail("BR-AE-02", "seller.vat_id", "Reverse-charge invoices need the seller's VAT identifier.")
    # The same rule reported once is enough for the partner to fix it.
    unique = {(p.rule, p.field): p for p in problems}
    return list(unique.values())
