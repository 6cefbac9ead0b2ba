"""Intake validation: each business rule names its rule id and the offending field, and nothing else fires."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contracts.v1 import PartnerInvoiceSubmitted
from invoicing.domain.validation import validate_submission

pytestmark = pytest.mark.unit

VALID: dict[str, Any] = {
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
    "lines": [
        {"description": "Lampe", "quantity": "2", "unit_price": "100", "vat_category": "S", "vat_rate": "20"},
    ],
}


def submission(**changes: Any) -> PartnerInvoiceSubmitted:
    """The valid submission with `changes` applied; keys like 'seller.name' or 'lines.0.vat_rate' reach inside."""
    data = copy.deepcopy(VALID)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = value
    return PartnerInvoiceSubmitted.model_validate(data)


def line(category: str = "S", rate: str = "20", quantity: str = "1", price: str = "10") -> dict[str, str]:
    return {"description": "x", "quantity": quantity, "unit_price": price, "vat_category": category, "vat_rate": rate}


def found(sub: PartnerInvoiceSubmitted) -> set[tuple[str, str]]:
    return {(r.rule, r.field) for r in validate_submission(sub)}


def test_a_valid_submission_has_no_problems():
    assert validate_submission(submission()) == []


def test_an_invoice_without_lines_breaks_br_16():
    assert found(submission(lines=[])) == {("BR-16", "lines")}


@pytest.mark.parametrize("currency", ["eur", "Eur", "E1R", "ÉUR"])
def test_a_currency_that_is_not_three_capital_latin_letters_breaks_br_5(currency):
    assert found(submission(currency=currency)) == {("BR-5", "currency")}


def test_a_blank_seller_name_breaks_br_6():
    assert found(submission(seller__name="   ")) == {("BR-6", "seller.name")}


def test_a_blank_buyer_name_breaks_br_7():
    assert found(submission(buyer__name="")) == {("BR-7", "buyer.name")}


def test_a_due_date_before_the_issue_date_breaks_fx_due_1():
    assert found(submission(due_date="2025-03-13")) == {("FX-DUE-1", "due_date")}


def test_a_due_date_on_the_issue_date_is_fine():
    assert found(submission(due_date="2025-03-14")) == set()


def test_invoicing_yourself_breaks_fx_party_1():
    assert found(submission(buyer__company_id="c-seller")) == {("FX-PARTY-1", "buyer.company_id")}


def test_a_standard_rated_line_at_zero_percent_breaks_br_s_05():
    assert found(submission(lines=[line(), line("S", "0")])) == {("BR-S-05", "lines[1].vat_rate")}


@pytest.mark.parametrize("category", ["Z", "E", "AE", "K", "G", "O"])
def test_a_zero_rate_category_with_a_rate_breaks_its_own_05_rule(category):
    assert found(submission(lines=[line(category, "5.5")])) == {(f"BR-{category}-05", "lines[0].vat_rate")}


@pytest.mark.parametrize("category", ["Z", "E", "AE", "K", "G", "O"])
def test_a_zero_rate_category_at_zero_percent_is_fine(category):
    assert found(submission(lines=[line(category, "0")])) == set()


def test_standard_rated_lines_without_seller_vat_id_break_br_s_02_once():
    reasons = validate_submission(submission(seller__vat_id=None, lines=[line(), line(), line()]))

    assert [(r.rule, r.field) for r in reasons] == [("BR-S-02", "seller.vat_id")]


def test_a_zero_rated_invoice_needs_no_seller_vat_id_under_br_s_02():
    assert found(submission(seller__vat_id=None, lines=[line("Z", "0")])) == set()


def test_a_reverse_charge_line_without_buyer_vat_id_breaks_br_ae_02():
    assert found(submission(buyer__vat_id=None, lines=[line("AE", "0")])) == {("BR-AE-02", "buyer.vat_id")}


def test_a_reverse_charge_line_without_seller_vat_id_breaks_br_ae_02():
    # EN 16931 BR-AE-02 asks for both parties' VAT identifiers: the buyer self-assesses the VAT.
    assert found(submission(seller__vat_id=None, lines=[line("AE", "0")])) == {("BR-AE-02", "seller.vat_id")}


def test_a_negative_item_price_breaks_br_27():
    assert found(submission(lines=[line(), line(price="-5")])) == {("BR-27", "lines[1].unit_price")}


def test_a_zero_quantity_breaks_fx_line_1():
    assert found(submission(lines=[line(quantity="0")])) == {("FX-LINE-1", "lines[0].quantity")}


def test_a_negative_quantity_is_allowed_for_corrections():
    assert found(submission(lines=[line(quantity="-1")])) == set()


def test_every_problem_is_reported_at_once_each_with_a_fix():
    sub = submission(
        currency="eur",
        seller__name="",
        buyer__company_id="c-seller",
        due_date="2025-01-01",
        lines=[line(quantity="0"), line("Z", "7", price="-1")],
    )
    reasons = validate_submission(sub)

    assert {(r.rule, r.field) for r in reasons} == {
        ("BR-5", "currency"),
        ("BR-6", "seller.name"),
        ("FX-PARTY-1", "buyer.company_id"),
        ("FX-DUE-1", "due_date"),
        ("FX-LINE-1", "lines[0].quantity"),
        ("BR-27", "lines[1].unit_price"),
        ("BR-Z-05", "lines[1].vat_rate"),
    }
    assert len(reasons) == 7
    assert all(r.message.strip() for r in reasons)
