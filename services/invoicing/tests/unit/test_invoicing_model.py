"""Invoice computation: line amounts, VAT breakdown and totals in Decimal, rounded half up to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contracts.v1 import PartnerInvoiceSubmitted
from invoicing.domain.model import build_invoice, money

pytestmark = pytest.mark.unit


def submission(lines: list[dict[str, Any]], **overrides: Any) -> PartnerInvoiceSubmitted:
    data: dict[str, Any] = {
        "partner_id": "erp-1",
        "external_id": "ERP-0001",
        "issue_date": "2025-03-14",
        "due_date": "2025-04-13",
        "currency": "EUR",
        "seller": {
            "company_id": "c-seller",
            "name": "Atelier Lumière SARL",
            "vat_id": "FR40303265045",
            "address": {"line1": "12 rue des Lilas", "city": "Lyon", "postcode": "69003", "country": "FR"},
        },
        "buyer": {
            "company_id": "c-buyer",
            "name": "Brasserie du Parc SA",
            "vat_id": "BE0477472701",
            "address": {"line1": "Avenue Louise 54", "city": "Bruxelles", "postcode": "1050", "country": "BE"},
        },
        "lines": lines,
    }
    data.update(overrides)
    return PartnerInvoiceSubmitted.model_validate(data)


def line(quantity: str, price: str, category: str = "S", rate: str = "20", **extra: Any) -> dict[str, Any]:
    return {
        "description": extra.pop("description", "item"),
        "quantity": quantity,
        "unit_price": price,
        "vat_category": category,
        "vat_rate": rate,
        **extra,
    }


# Two standard rates, a reverse-charge line and a line whose net amount ends on a half cent.
MIXED = [
    line("4", "189.90", "S", "20"),  # 759.60
    line("3", "0.335", "S", "20"),  # 1.005 -> 1.01 (half up; banker's rounding would give 1.00)
    line("3", "4.75", "S", "10"),  # 14.25, VAT 1.425 -> 1.43 (half even would give 1.42)
    line("1", "1000.00", "AE", "0"),  # reverse charge: no VAT
]


def test_line_net_amount_is_quantity_times_price_rounded_half_up():
    invoice = build_invoice(submission(MIXED), invoice_id="i-1", number="F2025-000001")

    assert [ln.net_amount for ln in invoice.lines] == [
        Decimal("759.60"),
        Decimal("1.01"),
        Decimal("14.25"),
        Decimal("1000.00"),
    ]
    assert [ln.line_id for ln in invoice.lines] == ["1", "2", "3", "4"]


def test_vat_breakdown_has_one_row_per_category_and_rate_with_half_up_tax():
    invoice = build_invoice(submission(MIXED), invoice_id="i-1", number="F2025-000001")

    rows = {(row.category, row.rate): row for row in invoice.vat_breakdown}
    assert set(rows) == {("S", Decimal("20")), ("S", Decimal("10")), ("AE", Decimal("0"))}
    standard = rows[("S", Decimal("20"))]
    assert (standard.taxable_amount, standard.tax_amount) == (Decimal("760.61"), Decimal("152.12"))
    assert standard.exemption_reason is None
    reduced = rows[("S", Decimal("10"))]
    assert (reduced.taxable_amount, reduced.tax_amount) == (Decimal("14.25"), Decimal("1.43"))
    reverse = rows[("AE", Decimal("0"))]
    assert (reverse.taxable_amount, reverse.tax_amount) == (Decimal("1000.00"), Decimal("0.00"))
    assert reverse.exemption_reason == "Reverse charge"


def test_totals_add_up_to_the_cent():
    totals = build_invoice(submission(MIXED), invoice_id="i-1", number="F2025-000001").totals

    assert totals.line_total == Decimal("1774.86")
    assert totals.tax_exclusive == Decimal("1774.86")
    assert totals.tax_total == Decimal("153.55")
    assert totals.tax_inclusive == Decimal("1928.41")
    assert totals.payable == Decimal("1928.41")


def test_every_amount_is_an_exact_decimal_with_two_places():
    invoice = build_invoice(submission(MIXED), invoice_id="i-1", number="F2025-000001")
    amounts = [ln.net_amount for ln in invoice.lines]
    amounts += [a for row in invoice.vat_breakdown for a in (row.taxable_amount, row.tax_amount)]
    amounts += list(invoice.totals.model_dump().values())

    for amount in amounts:
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2, amount
    # The JSON form (stored and published) keeps the cents as written, never a float.
    assert invoice.model_dump(mode="json")["totals"]["payable"] == "1928.41"


def test_vat_is_computed_on_the_summed_taxable_amount_not_per_line():
    # Per line: 0.005 -> 0.01, three times 0.03. On the sum (BR-CO-17): 0.15 x 10% = 0.015 -> 0.02.
    invoice = build_invoice(submission([line("1", "0.05", "S", "10")] * 3), invoice_id="i-2", number="F2025-000002")

    (row,) = invoice.vat_breakdown
    assert row.taxable_amount == Decimal("0.15")
    assert row.tax_amount == Decimal("0.02")
    assert invoice.totals.payable == Decimal("0.17")


def test_rates_written_differently_fall_in_the_same_breakdown_row():
    invoice = build_invoice(
        submission([line("1", "10", "S", "20"), line("1", "10", "S", "20.00")]), invoice_id="i-3", number="F-3"
    )

    assert len(invoice.vat_breakdown) == 1
    assert invoice.vat_breakdown[0].tax_amount == Decimal("4.00")


def test_document_carries_the_submission_parties_dates_and_identity():
    sub = submission(MIXED, purchase_order="PO-9", note="Merci")
    invoice = build_invoice(sub, invoice_id="i-4", number="F2025-000004")

    assert (invoice.invoice_id, invoice.number, invoice.type_code) == ("i-4", "F2025-000004", "380")
    assert invoice.issue_date == date(2025, 3, 14)
    assert invoice.due_date == date(2025, 4, 13)
    assert invoice.seller == sub.seller and invoice.buyer == sub.buyer
    assert (invoice.purchase_order, invoice.note, invoice.currency) == ("PO-9", "Merci", "EUR")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.005", "0.01"), ("0.015", "0.02"), ("2.675", "2.68"), ("-0.005", "-0.01"), ("1.004999", "1.00")],
)
def test_money_rounds_half_up_away_from_zero(value, expected):
    assert money(Decimal(value)) == Decimal(expected)


def test_line_allowances_and_charges_by_amount_or_percentage_change_the_line_net_amount():
    item = line(
        "3", "10", allowances=[{"percent": "10", "reason": "volume"}], charges=[{"amount": "1.25", "reason": "box"}]
    )
    (computed,) = build_invoice(submission([item]), invoice_id="i", number="F-1").lines

    # 3 x 10 = 30.00 ; - 10 % (3.00) ; + 1.25 = 28.25
    assert computed.net_amount == Decimal("28.25")
    assert computed.allowances[0].amount == Decimal("3.00") and computed.allowances[0].base_amount == Decimal("30.00")


def test_document_allowances_and_charges_fall_in_the_vat_row_of_their_category():
    invoice = build_invoice(
        submission(
            [line("1", "100", "S", "20"), line("1", "50", "S", "10")],
            allowances=[{"amount": "10", "reason": "gesture", "vat_category": "S", "vat_rate": "20"}],
            charges=[{"percent": "10", "reason": "rush", "vat_category": "S", "vat_rate": "10"}],
            prepaid_amount="20",
        ),
        invoice_id="i",
        number="F-1",
    )

    rows = {row.rate: row for row in invoice.vat_breakdown}
    assert (rows[Decimal("20")].taxable_amount, rows[Decimal("20")].tax_amount) == (Decimal("90.00"), Decimal("18.00"))
    # The 10 % charge applies to the sum of line net amounts (150.00) -> 15.00 in the 10 % row.
    assert (rows[Decimal("10")].taxable_amount, rows[Decimal("10")].tax_amount) == (Decimal("65.00"), Decimal("6.50"))
    totals = invoice.totals
    assert (totals.line_total, totals.allowance_total, totals.charge_total) == (
        Decimal("150.00"),
        Decimal("10.00"),
        Decimal("15.00"),
    )
    assert (totals.tax_exclusive, totals.tax_total, totals.tax_inclusive) == (
        Decimal("155.00"),
        Decimal("24.50"),
        Decimal("179.50"),
    )
    assert (totals.prepaid, totals.payable) == (Decimal("20.00"), Decimal("159.50"))


def test_supplied_sales_taxes_are_carried_as_charges_outside_vat_and_not_recomputed():
    invoice = build_invoice(
        submission(
            [line("2", "50", "O", "0")],
            sales_tax=[{"jurisdiction": "US-NY", "rate": "8.875", "taxable_amount": "100", "amount": "8.88"}],
        ),
        invoice_id="i",
        number="F-1",
    )

    (charge,) = invoice.charges
    assert (charge.amount, charge.vat_category, charge.reason) == (Decimal("8.88"), "O", "Sales tax (US-NY)")
    assert invoice.totals.tax_total == Decimal("0.00") and invoice.totals.payable == Decimal("108.88")
