"""Factur-X: CII XML valid against the EN 16931 XSD, embedded in the PDF/A-3 invoice."""

from io import BytesIO

import pytest
from lxml import etree
from pypdf import PdfReader

from signing.documents import build_cii_xml, make_invoice_pdf, render_invoice
from signing.documents.cii import NS
from signing.documents.facturx import check_xsd, extract_xml, to_facturx_pdf
from signing.documents.samples import long_invoice, reverse_charge_invoice, standard_invoice

pytestmark = pytest.mark.unit


def _xpath(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NS)]


@pytest.mark.parametrize("factory", [standard_invoice, reverse_charge_invoice, long_invoice])
def test_cii_xml_is_valid_against_the_facturx_en16931_xsd(factory):
    check_xsd(build_cii_xml(factory()))


def test_credit_note_xml_is_valid_too():
    check_xsd(build_cii_xml(standard_invoice().model_copy(update={"type_code": "381"})))


def test_cii_xml_carries_the_invoice_figures():
    xml = build_cii_xml(standard_invoice())
    assert _xpath(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()") == ["urn:cen.eu:en16931:2017"]
    assert _xpath(xml, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID/text()") == ["F2025-000123"]
    assert _xpath(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()") == ["BE0123456749"]
    assert _xpath(xml, "//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID/text()") == ["PO-7781"]
    rates = _xpath(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent/text()")
    assert rates == ["20", "5.5"]
    assert _xpath(xml, "//ram:DuePayableAmount/text()") == ["1263.48"]
    assert _xpath(xml, "//ram:DueDateDateTime/udt:DateTimeString/text()") == ["20250214"]


def test_reverse_charge_xml_has_exemption_reason_and_vatex_code():
    xml = build_cii_xml(reverse_charge_invoice())
    tax = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert _xpath(xml, f"{tax}/ram:CategoryCode/text()") == ["AE"]
    assert _xpath(xml, f"{tax}/ram:ExemptionReasonCode/text()") == ["VATEX-EU-AE"]
    assert _xpath(xml, f"{tax}/ram:ExemptionReason/text()")[0].startswith("Autoliquidation")
    assert _xpath(xml, f"{tax}/ram:CalculatedAmount/text()") == ["0.00"]


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_xml_round_trips_out_of_the_pdf(locale):
    pdf, xml = make_invoice_pdf(standard_invoice(), locale)
    assert extract_xml(pdf) == xml


def test_embedded_xml_is_a_data_associated_file_with_facturx_metadata():
    pdf, _ = make_invoice_pdf(standard_invoice(), "fr")
    root = PdfReader(BytesIO(pdf)).trailer["/Root"]
    (filespec,) = [f.get_object() for f in root["/AF"]]
    assert filespec["/F"] == "factur-x.xml"
    assert filespec["/AFRelationship"] == "/Data"
    xmp = root["/Metadata"].get_object().get_data().decode()
    for expected in [
        "<pdfaid:part>3</pdfaid:part>",
        "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>",
        "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>",
        "<fx:DocumentType>INVOICE</fx:DocumentType>",
        "Brasserie Dupont &amp; Fils SA",
    ]:
        assert expected in xmp, expected


def test_plain_render_has_no_embedded_xml():
    assert extract_xml(render_invoice(standard_invoice(), "fr")) is None


def test_facturx_library_path_embeds_xml_in_an_existing_pdf():
    doc = standard_invoice()
    xml = build_cii_xml(doc)
    pdf = to_facturx_pdf(render_invoice(doc, "en"), xml, validate=True)
    assert extract_xml(pdf) == xml
