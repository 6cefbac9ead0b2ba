"""EN 16931 business rules on invoice content and on the computed document (BR-..., BR-CO-..., BR-S/Z/E/AE/K/G/O)."""

from __future__ import annotations

import re
from decimal import Decimal

from contracts.v1 import AllowanceCharge, InvoiceDocument
from invoicing.domain.findings import Collector
from invoicing.domain.messages import CATEGORY_NAMES
from invoicing.domain.model import ZERO, InvoiceContent, money

ZERO_RATE_CATEGORIES = {"Z", "E", "AE", "K", "G", "O"}
# Categories whose lines need the seller's VAT identifier (BR-S-02, BR-Z-02, BR-E-02, BR-G-02).
SELLER_VAT_ID_CATEGORIES = {"S", "Z", "E", "G"}
CREDIT_TRANSFER_CODES = {"30", "58"}
COUNTRY_CODE = re.compile(r"[A-Z]{2}")
VAT_PREFIX = re.compile(r"[A-Z]{2}")


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def check_content(content: InvoiceContent, out: Collector) -> None:
    """Rules that read what the seller wrote (before any computation)."""
    if not content.lines:
        out.fail("BR-16", "lines")
    if not (content.currency.isascii() and content.currency.isalpha() and content.currency.isupper()):
        out.fail("BR-5", "currency")
    _check_parties(content, out)
    if content.due_date and content.due_date < content.issue_date:
        out.fail("FX-DUE-1", "due_date")
    if content.type_code == "381" and content.preceding_invoice is None:
        out.fail("FX-CN-1", "preceding_invoice")
    if content.payment_means is not None:
        means = content.payment_means
        if not means.code.strip().isdigit():
            out.fail("BR-49", "payment_means.code")
        elif means.code.strip() in CREDIT_TRANSFER_CODES and _blank(means.account_id):
            out.fail("BR-61", "payment_means.account_id")
    for i, line in enumerate(content.lines):
        where = f"lines[{i}]"
        if line.quantity == 0:
            out.fail("FX-LINE-1", f"{where}.quantity")
        if _blank(line.unit_code):
            out.fail("BR-23", f"{where}.unit_code")
        if _blank(line.description):
            out.fail("BR-25", f"{where}.description")
        if line.unit_price < 0:
            out.fail("BR-27", f"{where}.unit_price")
        _check_category(line.vat_category, line.vat_rate, f"{where}.vat_rate", content, out)
        for j, item in enumerate(line.allowances):
            _check_line_item(item, f"{where}.allowances[{j}]", ("BR-41", "BR-42"), out)
        for j, item in enumerate(line.charges):
            _check_line_item(item, f"{where}.charges[{j}]", ("BR-43", "BR-44"), out)
    for j, item in enumerate(content.allowances):
        _check_document_item(item, f"allowances[{j}]", ("BR-31", "BR-32", "BR-33"), content, out)
    for j, item in enumerate(content.charges):
        _check_document_item(item, f"charges[{j}]", ("BR-36", "BR-37", "BR-38"), content, out)
    categories = {line.vat_category for line in content.lines}
    categories |= {i.vat_category for i in (*content.allowances, *content.charges) if i.vat_category}
    if "O" in categories and len(categories) > 1:
        out.fail("BR-O-11", "lines")


def _check_parties(content: InvoiceContent, out: Collector) -> None:
    for role, party, name_rule, address_rule, country_rule in (
        ("seller", content.seller, "BR-6", "BR-8", "BR-9"),
        ("buyer", content.buyer, "BR-7", "BR-10", "BR-11"),
    ):
        if _blank(party.name):
            out.fail(name_rule, f"{role}.name")
        address = party.address
        if _blank(address.line1) or _blank(address.city) or _blank(address.postcode):
            out.fail(address_rule, f"{role}.address")
        if not COUNTRY_CODE.fullmatch(address.country):
            out.fail(country_rule, f"{role}.address.country")
        if party.vat_id and not VAT_PREFIX.fullmatch(party.vat_id[:2]):
            out.fail("BR-CO-9", f"{role}.vat_id")
    if content.seller.company_id == content.buyer.company_id:
        out.fail("FX-PARTY-1", "buyer.company_id")


def _check_category(category: str, rate: Decimal, field: str, content: InvoiceContent, out: Collector) -> None:
    """Rate and identifier rules of one VAT category (the -02 and -05 rules of each)."""
    if category == "S" and rate <= 0:
        out.fail("BR-S-05", field)
    if category in ZERO_RATE_CATEGORIES and rate != 0:
        out.fail(f"BR-{category}-05", field, "BR-X-05", category=category)
    seller_vat, buyer_vat = content.seller.vat_id, content.buyer.vat_id
    if category == "S" and not seller_vat:
        out.fail("BR-S-02", "seller.vat_id")
    elif category in SELLER_VAT_ID_CATEGORIES and not seller_vat:
        out.fail(
            f"BR-{category}-02", "seller.vat_id", "BR-X-02-SELLER", category=category,
            category_name=CATEGORY_NAMES[category],
        )  # fmt: skip
    if category in ("AE", "K"):
        for role, vat_id, role_fr in (("buyer", buyer_vat, "l'acheteur"), ("seller", seller_vat, "du vendeur")):
            if not vat_id:
                out.fail(f"BR-{category}-02", f"{role}.vat_id", party=role, party_fr=role_fr)


def _check_line_item(item: AllowanceCharge, where: str, rules: tuple[str, str], out: Collector) -> None:
    amount_rule, reason_rule = rules
    if item.amount is None and item.percent is None:
        out.fail(amount_rule, f"{where}.amount")
    if _blank(item.reason) and _blank(item.reason_code):
        out.fail(reason_rule, f"{where}.reason")


def _check_document_item(
    item: AllowanceCharge, where: str, rules: tuple[str, str, str], content: InvoiceContent, out: Collector
) -> None:
    amount_rule, category_rule, reason_rule = rules
    if item.amount is None and item.percent is None:
        out.fail(amount_rule, f"{where}.amount")
    if item.vat_category is None:
        out.fail(category_rule, f"{where}.vat_category")
    if _blank(item.reason) and _blank(item.reason_code):
        out.fail(reason_rule, f"{where}.reason")
    if item.vat_category is not None:
        rate = item.vat_rate if item.vat_rate is not None else ZERO
        if item.vat_category == "S" and rate <= 0:
            out.fail("BR-S-06", f"{where}.vat_rate")
            return
        _check_category(item.vat_category, rate, f"{where}.vat_rate", content, out)


def check_document(doc: InvoiceDocument, out: Collector) -> None:
    """The arithmetic of a computed document: BR-CO-10 to 17 and each category's taxable amount (-08 rules)."""
    totals = doc.totals

    def same(rule: str, field: str, found: Decimal, expected: Decimal) -> None:
        if money(found) != money(expected):
            out.fail(rule, field, found=money(found), expected=money(expected))

    same("BR-CO-10", "totals.line_total", totals.line_total, sum((ln.net_amount for ln in doc.lines), ZERO))
    same(
        "BR-CO-11",
        "totals.allowance_total",
        totals.allowance_total,
        sum((a.amount or ZERO for a in doc.allowances), ZERO),
    )
    same("BR-CO-12", "totals.charge_total", totals.charge_total, sum((c.amount or ZERO for c in doc.charges), ZERO))
    expected_exclusive = totals.line_total - totals.allowance_total + totals.charge_total
    same("BR-CO-13", "totals.tax_exclusive", totals.tax_exclusive, expected_exclusive)
    same("BR-CO-14", "totals.tax_total", totals.tax_total, sum((row.tax_amount for row in doc.vat_breakdown), ZERO))
    same("BR-CO-15", "totals.tax_inclusive", totals.tax_inclusive, totals.tax_exclusive + totals.tax_total)
    same("BR-CO-16", "totals.payable", totals.payable, totals.tax_inclusive - totals.prepaid)
    for i, row in enumerate(doc.vat_breakdown):
        expected_tax = money(row.taxable_amount * row.rate / 100)
        if row.tax_amount != expected_tax:
            out.fail(
                "BR-CO-17", f"vat_breakdown[{i}].tax_amount", category=row.category, rate=row.rate,
                found=row.tax_amount, expected=expected_tax,
            )  # fmt: skip
        taxable = sum(
            (ln.net_amount for ln in doc.lines if (ln.vat_category, ln.vat_rate) == (row.category, row.rate)), ZERO
        )
        taxable += sum((c.amount or ZERO for c in doc.charges if _key(c) == (row.category, row.rate)), ZERO)
        taxable -= sum((a.amount or ZERO for a in doc.allowances if _key(a) == (row.category, row.rate)), ZERO)
        if money(taxable) != row.taxable_amount:
            out.fail(
                f"BR-{row.category}-08", f"vat_breakdown[{i}].taxable_amount", "BR-X-08", category=row.category,
                rate=row.rate, found=row.taxable_amount, expected=money(taxable),
            )  # fmt: skip
    if doc.type_code == "380" and totals.payable < 0:
        out.fail("FX-TOTAL-1", "totals.payable")
    if totals.payable > 0 and doc.due_date is None and not (doc.payment_terms or "").strip():
        out.fail("BR-CO-25", "due_date")


def _key(item: AllowanceCharge) -> tuple[str, Decimal]:
    return item.vat_category or "S", item.vat_rate if item.vat_rate is not None else ZERO


def check_stated_totals(content: InvoiceContent, doc: InvoiceDocument, out: Collector) -> None:
    """The partner's own totals must match ours to the cent (BR-CO-13 to BR-CO-16)."""
    stated = content.stated_totals
    if stated is None:
        return
    for rule, name in (
        ("BR-CO-13", "tax_exclusive"),
        ("BR-CO-14", "tax_total"),
        ("BR-CO-15", "tax_inclusive"),
        ("BR-CO-16", "payable"),
    ):
        value = getattr(stated, name)
        expected = getattr(doc.totals, name)
        if value is not None and money(value) != expected:
            out.fail(rule, f"stated_totals.{name}", found=money(value), expected=expected)
