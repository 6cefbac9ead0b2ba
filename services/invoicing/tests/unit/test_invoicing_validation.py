"""EN 16931 validation: each business rule names its rule id and the offending field, and nothing else fires."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from contracts.v1 import InvoiceTotals, PartnerInvoiceSubmitted
from invoicing.domain.findings import Collector
from invoicing.domain.messages import TEXTS
from invoicing.domain.model import build_invoice
from invoicing.domain.rules import check_document
from invoicing.domain.validation import validate, validate_submission

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


@pytest.mark.parametrize("category", ["Z", "E", "AE", "K", "O"])
def test_a_zero_rate_category_with_a_rate_breaks_its_own_05_rule(category):
    assert found(submission(lines=[line(category, "5.5")])) == {(f"BR-{category}-05", "lines[0].vat_rate")}


@pytest.mark.parametrize("category", ["Z", "E", "AE", "K", "O"])
def test_a_zero_rate_category_at_zero_percent_is_fine(category):
    assert found(submission(lines=[line(category, "0")])) == set()


def test_an_export_line_with_a_rate_breaks_br_g_05():
    outside = {"buyer__address__country": "US", "buyer__vat_id": None}
    assert found(submission(lines=[line("G", "5.5")], **outside)) == {("BR-G-05", "lines[0].vat_rate")}
    assert found(submission(lines=[line("G", "0")], **outside)) == set()


def test_standard_rated_lines_without_seller_vat_id_break_br_s_02_once():
    reasons = validate_submission(submission(seller__vat_id=None, lines=[line(), line(), line()]))

    assert [(r.rule, r.field) for r in reasons] == [("BR-S-02", "seller.vat_id")]


def test_a_zero_rated_invoice_needs_the_seller_vat_id_under_br_z_02_not_br_s_02():
    assert found(submission(seller__vat_id=None, lines=[line("Z", "0")])) == {("BR-Z-02", "seller.vat_id")}


def test_an_invoice_not_subject_to_vat_needs_no_vat_identifier_and_drops_them_from_the_document():
    sub = submission(lines=[line("O", "0")])
    assert found(sub) == set()
    document = build_invoice(sub, invoice_id="i", number="F-1")
    assert document.seller.vat_id is None and document.buyer.vat_id is None  # BR-O-02


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
    assert found(submission(lines=[line(quantity="3"), line(quantity="-1")])) == set()


def test_an_invoice_whose_total_is_negative_must_be_a_credit_note():
    assert found(submission(lines=[line(quantity="-1")])) == {("FX-TOTAL-1", "totals.payable")}


def test_every_problem_is_reported_at_once_each_with_a_fix():
    sub = submission(
        currency="eur",
        seller__name="",
        buyer__company_id="c-seller",
        due_date="2025-01-01",
        lines=[line(quantity="0"), line("Z", "7", price="-1"), line(price="100")],
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


def test_reverse_charge_without_the_buyers_vat_id_is_refused_with_br_ae_02():
    reasons = validate_submission(submission(buyer__vat_id=None, lines=[line("AE", "0")]))
    assert [(r.rule, r.field) for r in reasons] == [("BR-AE-02", "buyer.vat_id")]
    assert "buyer" in reasons[0].message and reasons[0].messages["fr"].startswith("L'autoliquidation")


def test_an_intra_community_supply_needs_both_vat_ids_under_br_k_02():
    assert found(submission(buyer__vat_id=None, lines=[line("K", "0")])) == {("BR-K-02", "buyer.vat_id")}


def test_not_subject_to_vat_cannot_mix_with_other_categories_br_o_11():
    assert ("BR-O-11", "lines") in found(submission(lines=[line("O", "0"), line()]))


def test_a_vat_id_without_a_country_prefix_breaks_br_co_9():
    assert found(submission(buyer__vat_id="0477472701")) == {("BR-CO-9", "buyer.vat_id")}


def test_an_amount_due_without_due_date_or_payment_terms_breaks_br_co_25():
    assert found(submission(due_date=None)) == {("BR-CO-25", "due_date")}
    assert found(submission(due_date=None, payment_terms="30 days net")) == set()


def test_a_credit_transfer_needs_the_account_to_pay_into_br_61():
    assert found(submission(payment_means={"code": "58"})) == {("BR-61", "payment_means.account_id")}
    assert found(submission(payment_means={"code": "58", "account_id": "FR76300060000112345678901"})) == set()
    assert found(submission(payment_means={"code": "bank"})) == {("BR-49", "payment_means.code")}


def test_a_credit_note_must_name_the_invoice_it_corrects():
    assert found(submission(type_code="381")) == {("FX-CN-1", "preceding_invoice")}
    assert found(submission(type_code="381", preceding_invoice={"number": "F2025-000001"})) == set()


def test_document_allowances_and_charges_need_amount_category_and_reason():
    assert found(submission(allowances=[{}], charges=[{"amount": "5", "vat_category": "S", "vat_rate": "20"}])) == {
        ("BR-31", "allowances[0].amount"),
        ("BR-32", "allowances[0].vat_category"),
        ("BR-33", "allowances[0].reason"),
        ("BR-38", "charges[0].reason"),
    }
    assert ("BR-S-06", "charges[0].vat_rate") in found(
        submission(charges=[{"amount": "5", "reason": "x", "vat_category": "S", "vat_rate": "0"}])
    )


def test_line_allowances_and_charges_need_an_amount_and_a_reason():
    bad = {**line(), "allowances": [{"reason": "x"}], "charges": [{"amount": "1"}]}
    assert found(submission(lines=[bad])) == {
        ("BR-41", "lines[0].allowances[0].amount"),
        ("BR-44", "lines[0].charges[0].reason"),
    }


@pytest.mark.parametrize(
    ("name", "rule"),
    [("tax_exclusive", "BR-CO-13"), ("tax_total", "BR-CO-14"), ("tax_inclusive", "BR-CO-15"), ("payable", "BR-CO-16")],
)
def test_partner_totals_that_differ_from_ours_break_the_br_co_rule_of_that_total(name, rule):
    # Lines: 2 x 100 at 20 % -> 200.00 + 40.00 = 240.00.
    right = {"tax_exclusive": "200.00", "tax_total": "40.00", "tax_inclusive": "240.00", "payable": "240.00"}
    assert found(submission(stated_totals=right)) == set()
    wrong = {**right, name: "999.99"}
    assert found(submission(stated_totals=wrong)) == {(rule, f"stated_totals.{name}")}


def tampered(**totals: str):
    document = build_invoice(submission(), invoice_id="i", number="F-1")
    changed = document.totals.model_copy(update={k: Decimal(v) for k, v in totals.items()})
    return document.model_copy(update={"totals": InvoiceTotals.model_validate(changed.model_dump())})


@pytest.mark.parametrize(
    ("totals", "rule"),
    [
        ({"line_total": "1.00"}, "BR-CO-10"),
        ({"allowance_total": "1.00"}, "BR-CO-11"),
        ({"charge_total": "1.00"}, "BR-CO-12"),
        ({"tax_total": "1.00"}, "BR-CO-14"),
        ({"payable": "1.00"}, "BR-CO-16"),
    ],
)
def test_a_document_whose_totals_do_not_add_up_breaks_the_matching_br_co_rule(totals, rule):
    out = Collector()
    check_document(tampered(**totals), out)
    assert rule in {f.rule for f in out.report().errors}


def test_a_vat_row_whose_tax_is_not_rate_times_base_breaks_br_co_17():
    document = build_invoice(submission(), invoice_id="i", number="F-1")
    row = document.vat_breakdown[0].model_copy(update={"tax_amount": Decimal("39.99")})
    out = Collector()
    check_document(document.model_copy(update={"vat_breakdown": [row]}), out)
    assert {f.rule for f in out.report().errors} >= {"BR-CO-17", "BR-CO-14"}


def test_our_own_computed_documents_always_add_up():
    sub = submission(
        lines=[
            {**line(), "allowances": [{"percent": "15", "reason": "x"}], "charges": [{"amount": "3.33", "reason": "y"}]}
        ],
        allowances=[{"amount": "7.77", "reason": "z", "vat_category": "S", "vat_rate": "20"}],
        charges=[{"percent": "3", "reason": "w", "vat_category": "S", "vat_rate": "20"}],
        prepaid_amount="1",
    )
    out = Collector()
    check_document(build_invoice(sub, invoice_id="i", number="F-1"), out)
    assert out.report().findings == ()


def test_every_finding_explains_itself_in_french_and_in_english():
    sub = submission(
        currency="eur", seller__name="", due_date=None, buyer__vat_id="x", lines=[line("AE", "3", quantity="0")],
        allowances=[{}], payment_means={"code": "30"},
    )  # fmt: skip
    report = validate(sub)
    assert len(report.findings) >= 8
    for finding in report.findings:
        messages = finding.messages()
        assert messages["fr"] != messages["en"], finding.rule
        assert "{" not in messages["fr"] + messages["en"], finding.rule
        assert messages["en"] != finding.rule, f"no text for {finding.rule}"


def test_every_message_has_both_languages_with_the_same_placeholders():
    import string

    for key, texts in TEXTS.items():
        assert set(texts) == {"fr", "en"}, key
        # A French text may use the French form of a value (party_fr for party).
        names = [
            {f[1].removesuffix("_fr") for f in string.Formatter().parse(texts[lang]) if f[1]} for lang in ("fr", "en")
        ]
        assert names[0] == names[1], key
