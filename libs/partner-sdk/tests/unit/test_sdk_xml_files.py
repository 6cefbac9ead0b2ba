"""Partner SDK: UBL 2.1 and CII files written by invoicing's exporters become the submission they came from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from factora_partner import InvoiceDataError, invoice_files, load_invoice_file

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parents[1] / "fixtures"
SELLER = "7b0e3c4e-0000-4000-8000-000000000001"
BUYER = "7b0e3c4e-0000-4000-8000-000000000002"


@pytest.mark.parametrize("name", ["invoice-ubl.xml", "invoice-cii.xml"])
def test_an_exported_invoice_file_gives_back_every_field_of_the_submission(name):
    event = load_invoice_file(FIXTURES / name, partner_id="erp-7")

    assert (event.partner_id, event.external_id, event.type_code) == ("erp-7", "F2026-000042", "380")
    assert (event.issue_date, event.due_date, event.currency) == (date(2026, 3, 2), date(2026, 4, 1), "EUR")
    assert (event.purchase_order, event.buyer_reference) == ("PO-2026-118", "BR-7781")
    assert (event.note, event.payment_terms) == ("Livraison atelier, quai 3.", "30 jours fin de mois")
    assert event.payment_means is not None
    assert event.payment_means.model_dump(exclude_none=True) == {
        "code": "58",
        "text": "Virement SEPA",
        "payment_id": "F2026-000042",
        "account_id": "FR7630006000011234567890189",
        "account_name": "Atelier Lumière SARL",
        "bank_id": "AGRIFRPP",
    }
    seller, buyer = event.seller, event.buyer
    assert (seller.company_id, seller.name, seller.vat_id, seller.tax_id) == (
        SELLER,
        "Atelier Lumière SARL",
        "FR40303265045",
        "303265045",
    )
    assert (seller.address.line1, seller.address.line2, seller.address.city, seller.address.postcode) == (
        "12 rue des Lilas",
        "Bâtiment B",
        "Lyon",
        "69003",
    )
    assert (buyer.company_id, buyer.email, buyer.address.country, buyer.address.region) == (
        BUYER,
        "comptabilite@brasserie-du-parc.example",
        "BE",
        "BRU",
    )
    first, second = event.lines
    assert (first.description, first.item_id, first.note, first.quantity, first.unit_price) == (
        "Suspension en laiton brossé",
        "SUS-LB-40",
        "Finition mate",
        Decimal("4"),
        Decimal("189.90"),
    )
    assert (first.allowances[0].percent, first.allowances[0].reason_code) == (Decimal("10"), "95")
    assert (second.unit_code, second.vat_rate, second.charges[0].amount) == ("HUR", Decimal("20"), Decimal("15.00"))
    assert [a.amount for a in event.allowances] == [Decimal("20.00")]
    assert [(c.amount, c.vat_category, c.vat_rate) for c in event.charges] == [(Decimal("12.50"), "S", Decimal("20"))]
    assert event.stated_totals is not None
    assert event.stated_totals.model_dump() == {
        "tax_exclusive": Decimal("886.14"),
        "tax_total": Decimal("177.23"),
        "tax_inclusive": Decimal("1063.37"),
        "payable": Decimal("1063.37"),
    }


@pytest.mark.parametrize("name", ["credit-note-ubl.xml", "credit-note-cii.xml"])
def test_an_exported_credit_note_keeps_its_type_and_the_invoice_it_corrects(name):
    event = load_invoice_file(FIXTURES / name, partner_id="erp-7")

    assert (event.type_code, event.external_id) == ("381", "AV2026-000007")
    assert event.preceding_invoice is not None
    assert (event.preceding_invoice.number, event.preceding_invoice.issue_date) == ("F2026-000042", date(2026, 3, 2))
    assert [line.quantity for line in event.lines] == [Decimal("3")]
    assert event.due_date == date(2026, 4, 1)


def test_the_sealed_sample_facturx_xml_reads_once_the_parties_company_ids_are_given():
    event = load_invoice_file(
        FIXTURES / "sample-facturx-fr.xml", partner_id="erp-7", seller_company_id="s-1", buyer_company_id="b-1"
    )

    assert (event.external_id, event.seller.company_id, event.buyer.company_id) == ("F2025-000123", "s-1", "b-1")
    assert event.stated_totals is not None and event.stated_totals.payable == Decimal("1263.48")
    assert event.seller.vat_id == "FR40303265045" and event.buyer.email == "comptabilite@dupont.example"


def test_a_file_whose_parties_have_no_company_id_names_the_element_to_add(tmp_path):
    with pytest.raises(InvoiceDataError) as caught:
        load_invoice_file(FIXTURES / "sample-facturx-fr.xml", partner_id="erp-7")

    error = caught.value
    assert error.field == "seller.company_id"
    assert error.element is not None and error.element.endswith("ram:SellerTradeParty/ram:ID")
    assert "sample-facturx-fr.xml" in str(error) and "pass it" in error.hint


def broken(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_quantity_that_is_not_a_number_names_the_file_the_element_and_its_line(tmp_path):
    path = broken(tmp_path, "invoice-ubl.xml", 'unitCode="HUR">3<', 'unitCode="HUR">three<')

    with pytest.raises(InvoiceDataError) as caught:
        load_invoice_file(path, partner_id="erp-7")

    error = caught.value
    assert error.field == "lines[1].quantity"
    assert error.element is not None and "cac:InvoiceLine[2]/cbc:InvoicedQuantity" in error.element
    assert "(line " in error.element and str(path) in str(error) and "'three' is not a number" in error.hint


def test_a_missing_issue_date_in_cii_names_where_it_belongs(tmp_path):
    path = broken(tmp_path, "invoice-cii.xml", "<ram:IssueDateTime>", "<ram:IssueDateTimeX>")
    path.write_text(path.read_text().replace("</ram:IssueDateTime>", "</ram:IssueDateTimeX>", 1))

    with pytest.raises(InvoiceDataError) as caught:
        load_invoice_file(path, partner_id="erp-7")

    assert caught.value.field == "issue_date"
    assert (
        caught.value.element == "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"
    )
    assert "BT-2" in caught.value.hint


def test_a_value_the_contract_refuses_is_reported_at_the_element_it_came_from(tmp_path):
    path = broken(tmp_path, "invoice-cii.xml", "<ram:InvoiceCurrencyCode>EUR<", "<ram:InvoiceCurrencyCode>EURO<")

    with pytest.raises(InvoiceDataError) as caught:
        load_invoice_file(path, partner_id="erp-7")

    assert caught.value.field == "currency"
    assert caught.value.element is not None and "ram:InvoiceCurrencyCode" in caught.value.element


def test_an_unsupported_type_code_says_which_codes_are_accepted(tmp_path):
    path = broken(tmp_path, "invoice-ubl.xml", "<cbc:InvoiceTypeCode>380<", "<cbc:InvoiceTypeCode>386<")

    with pytest.raises(InvoiceDataError) as caught:
        load_invoice_file(path, partner_id="erp-7")

    assert caught.value.field == "type_code" and "380 (invoice) and 381" in caught.value.hint


def test_xml_that_is_not_well_formed_is_refused_with_the_line(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_text((FIXTURES / "invoice-ubl.xml").read_text()[:400])

    with pytest.raises(InvoiceDataError) as caught:
        load_invoice_file(path, partner_id="erp-7")

    assert caught.value.field == "(file)" and "not well-formed XML" in caught.value.hint


def test_another_xml_document_is_refused_as_neither_ubl_nor_cii(tmp_path):
    path = tmp_path / "order.xml"
    path.write_text('<?xml version="1.0"?><Order xmlns="urn:example:order"><ID>1</ID></Order>')

    with pytest.raises(InvoiceDataError) as caught:
        load_invoice_file(path, partner_id="erp-7")

    assert "neither a UBL 2.1" in caught.value.hint and caught.value.element == "/Order"


def test_external_entities_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    text = (FIXTURES / "invoice-ubl.xml").read_text()
    text = text.replace(
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY x SYSTEM "file://{secret}">]>',
    ).replace("<cbc:Note>Livraison atelier, quai 3.</cbc:Note>", "<cbc:Note>&x;</cbc:Note>")
    path = tmp_path / "xxe.xml"
    path.write_text(text)

    event = load_invoice_file(path, partner_id="erp-7")

    assert "TOP-SECRET" not in event.model_dump_json()


def test_folders_yield_their_xml_and_json_files_in_order(tmp_path):
    for name in ("b.xml", "a.json", "notes.txt"):
        (tmp_path / name).write_text("x")

    assert [p.name for p in invoice_files([tmp_path])] == ["a.json", "b.xml"]
