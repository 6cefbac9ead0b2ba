"""UBL 2.1 (Peppol BIS 3.0) and CII exports validate against the official XSDs for a set of sample invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from contracts.v1 import InvoiceDocument, InvoiceReference, PartnerInvoiceSubmitted
from invoicing.domain.exports import build_cii, build_ubl
from invoicing.domain.model import build_invoice

pytestmark = pytest.mark.unit

XSD = Path(__file__).resolve().parents[1] / "data" / "xsd"
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
}


@cache
def schema(name: str) -> etree.XMLSchema:
    path = {
        "invoice": XSD / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd",
        "credit_note": XSD / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd",
        "cii": XSD / "cii-en16931" / "Factur-X_EN16931.xsd",
    }[name]
    return etree.XMLSchema(etree.parse(str(path)))


def party(company_id: str, country: str, vat_id: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "name": f"{company_id} Ltd",
        "vat_id": vat_id,
        "address": {"line1": "1 Main Street", "city": "City", "postcode": "1000", "country": country, **extra},
        "email": f"{company_id}@example.com",
    }


def document(
    lines: list[dict[str, Any]], *, seller=None, buyer=None, number: str = "F2026-000001", **extra: Any
) -> InvoiceDocument:
    data: dict[str, Any] = {
        "partner_id": "p",
        "external_id": "e",
        "issue_date": "2026-03-02",
        "due_date": "2026-04-01",
        "currency": "EUR",
        "seller": seller or party("seller", "FR", "FR40303265045"),
        "buyer": buyer or party("buyer", "BE", "BE0477472701"),
        "lines": lines,
        **extra,
    }
    return build_invoice(PartnerInvoiceSubmitted.model_validate(data), invoice_id="i-1", number=number)


def line(price: str = "100", category: str = "S", rate: str = "20", **extra: Any) -> dict[str, Any]:
    return {
        "description": "Item",
        "quantity": "2",
        "unit_price": price,
        "vat_category": category,
        "vat_rate": rate,
        **extra,
    }


SAMPLES: dict[str, InvoiceDocument] = {
    "standard two rates": document([line(), line("10.5", rate="5.5", unit_code="KGM")]),
    "reverse charge": document([line(category="AE", rate="0")]),
    "intra-community goods": document([line(category="K", rate="0")]),
    "export": document([line(category="G", rate="0")], buyer=party("buyer", "US", None)),
    "exempt": document([line(category="E", rate="0")]),
    "allowances and charges": document(
        [
            line(
                allowances=[{"percent": "10", "reason": "Volume", "reason_code": "95"}],
                charges=[{"amount": "5", "reason": "Packing"}],
                item_id="SKU-1",
                note="Blue",
            )
        ],
        allowances=[{"amount": "20", "reason": "Early order", "vat_category": "S", "vat_rate": "20"}],
        charges=[{"percent": "2", "reason": "Handling", "reason_code": "ABL", "vat_category": "S", "vat_rate": "20"}],
        prepaid_amount="50",
    ),
    "payment means and terms": document(
        [line()],
        payment_terms="30 days net, 1 % discount within 10 days",
        payment_means={
            "code": "58",
            "payment_id": "F2026-000001",
            "account_id": "FR7630006000011234567890189",
            "account_name": "Atelier",
            "bank_id": "AGRIFRPP",
        },
        buyer_reference="DEPT-42",
        purchase_order="PO-1",
        note="Thank you",
    ),
    "us sales tax": document(
        [line(category="O", rate="0")],
        seller=party("seller", "US", None, region="TX"),
        buyer=party("buyer", "US", None, region="CA"),
        currency="USD",
        sales_tax=[
            {
                "jurisdiction": "US-CA",
                "name": "State sales tax",
                "rate": "7.25",
                "taxable_amount": "200",
                "amount": "14.50",
            }
        ],
    ),
    "japan": document(
        [line(rate="10"), line(rate="8")],
        seller=party("seller", "JP", "JPT1234567890123"),
        buyer=party("buyer", "JP", "JPT9876543210987"),
        currency="JPY",
    ),
    "canada hst": document(
        [line(rate="13")],
        seller=party("seller", "CA", "CA123456789RT0001", region="ON"),
        buyer=party("buyer", "CA", "CA987654321RT0001", region="ON"),
        currency="CAD",
    ),
}
CREDIT_NOTE = document(
    [line()],
    number="C2026-000001",
    type_code="381",
    preceding_invoice={"number": "F2026-000001", "issue_date": "2026-03-02"},
    payment_means={"code": "30", "account_id": "12345678"},
)


def assert_valid(xsd: etree.XMLSchema, xml: bytes) -> etree._Element:
    tree = etree.fromstring(xml)
    assert xsd.validate(tree), "\n".join(str(e) for e in xsd.error_log)
    return tree


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_invoice_is_valid_ubl_2_1(name):
    assert_valid(schema("invoice"), build_ubl(SAMPLES[name]))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_invoice_is_valid_cii_en16931(name):
    assert_valid(schema("cii"), build_cii(SAMPLES[name]))


def test_a_credit_note_is_a_valid_ubl_credit_note_and_cii_381_naming_the_invoice():
    ubl = assert_valid(schema("credit_note"), build_ubl(CREDIT_NOTE))
    cii = assert_valid(schema("cii"), build_cii(CREDIT_NOTE))

    assert ubl.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert ubl.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS) == "F2026-000001"
    assert cii.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS) == "F2026-000001"
    assert cii.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"


def test_ubl_carries_the_peppol_ids_and_totals_that_add_up():
    doc = SAMPLES["allowances and charges"]
    tree = etree.fromstring(build_ubl(doc))

    assert tree.findtext("cbc:CustomizationID", namespaces=NS).endswith("poacc:billing:3.0")
    assert tree.findtext("cbc:ProfileID", namespaces=NS) == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    totals = {el.tag.split("}")[1]: Decimal(el.text) for el in tree.find("cac:LegalMonetaryTotal", NS)}
    assert (
        totals["LineExtensionAmount"] - totals["AllowanceTotalAmount"] + totals["ChargeTotalAmount"]
        == totals["TaxExclusiveAmount"]
    )
    assert totals["TaxInclusiveAmount"] - totals["PrepaidAmount"] == totals["PayableAmount"] == doc.totals.payable
    assert Decimal(tree.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS)) == doc.totals.tax_total


def test_exempt_and_reverse_charge_rows_carry_their_reason_and_code():
    tree = etree.fromstring(build_ubl(SAMPLES["reverse charge"]))
    category = tree.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)

    assert category.findtext("cbc:ID", namespaces=NS) == "AE"
    assert category.findtext("cbc:TaxExemptionReasonCode", namespaces=NS) == "VATEX-EU-AE"
    assert category.findtext("cbc:TaxExemptionReason", namespaces=NS) == "Reverse charge"


def test_not_subject_to_vat_documents_carry_no_vat_identifiers_and_no_rate():
    doc = SAMPLES["us sales tax"]
    tree = etree.fromstring(build_ubl(doc))

    assert tree.find(".//cac:PartyTaxScheme", NS) is None
    assert tree.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent", NS) is None
    charge = tree.find("cac:AllowanceCharge", NS)
    assert charge.findtext("cbc:AllowanceChargeReason", namespaces=NS) == "State sales tax (US-CA)"
    assert doc.totals.payable == Decimal("214.50")


def test_cii_lines_and_header_match_the_document():
    doc = SAMPLES["payment means and terms"]
    tree = etree.fromstring(build_cii(doc))

    assert tree.findtext("rsm:ExchangedDocument/ram:ID", namespaces=NS) == doc.number
    assert tree.findtext(".//ram:PayeePartyCreditorFinancialAccount/ram:IBANID", namespaces=NS) == (
        "FR7630006000011234567890189"
    )
    assert tree.findtext(".//ram:SpecifiedTradePaymentTerms/ram:Description", namespaces=NS).startswith("30 days")
    assert Decimal(tree.findtext(".//ram:DuePayableAmount", namespaces=NS)) == doc.totals.payable
    assert len(tree.findall(".//ram:IncludedSupplyChainTradeLineItem", NS)) == len(doc.lines)
    assert date(2026, 3, 2).strftime("%Y%m%d") in build_cii(doc).decode()


def test_the_credit_note_reference_helper_keeps_the_invoice_id_out_of_the_xml():
    doc = CREDIT_NOTE.model_copy(update={"preceding_invoice": InvoiceReference(number="F1", invoice_id="secret-id")})
    assert b"secret-id" not in build_ubl(doc) and b"secret-id" not in build_cii(doc)
