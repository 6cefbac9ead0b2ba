"""UN/CEFACT CII XML (Factur-X EN 16931 profile) built from an InvoiceDocument with lxml."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from contracts.v1.invoicing import InvoiceDocument, Party, VatBreakdown
from signing.documents.labels import EXEMPT_CATEGORIES, VAT_MENTION

EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
_RSM, _RAM, _UDT = (f"{{{NS[p]}}}" for p in ("rsm", "ram", "udt"))

# VATEX codes (BT-121) for the categories that have a single EU-wide code; E has several.
_VATEX = {"AE": "VATEX-EU-AE", "K": "VATEX-EU-IC", "G": "VATEX-EU-G", "O": "VATEX-EU-O"}


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str):
    el = etree.SubElement(parent, _RAM + tag, attrs or None)
    if text is not None:
        el.text = text
    return el


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _plain(value: Decimal) -> str:
    # "20" rather than "2E+1" or "20.00": normalize() then fixed-point formatting.
    return format(value.normalize(), "f")


def _date(parent: etree._Element, tag: str, value: date) -> None:
    holder = _sub(parent, tag)
    el = etree.SubElement(holder, _UDT + "DateTimeString", format="102")
    el.text = value.strftime("%Y%m%d")


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    el = _sub(parent, tag)
    _sub(el, "Name", party.name)
    address = _sub(el, "PostalTradeAddress")
    _sub(address, "PostcodeCode", party.address.postcode)
    _sub(address, "LineOne", party.address.line1)
    _sub(address, "CityName", party.address.city)
    _sub(address, "CountryID", party.address.country.upper())
    if party.email:
        uri = _sub(el, "URIUniversalCommunication")
        _sub(uri, "URIID", str(party.email), schemeID="EM")
    if party.vat_id:
        registration = _sub(el, "SpecifiedTaxRegistration")
        _sub(registration, "ID", party.vat_id, schemeID="VA")


def _header_tax(parent: etree._Element, row: VatBreakdown, locale: str) -> None:
    tax = _sub(parent, "ApplicableTradeTax")
    _sub(tax, "CalculatedAmount", _amount(row.tax_amount))
    _sub(tax, "TypeCode", "VAT")
    if row.category in EXEMPT_CATEGORIES:
        # BT-120 is required for exempt and reverse-charge rows (BR-E-10, BR-AE-10, ...).
        reason = row.exemption_reason or VAT_MENTION[locale][row.category]
        _sub(tax, "ExemptionReason", reason)
    _sub(tax, "BasisAmount", _amount(row.taxable_amount))
    _sub(tax, "CategoryCode", row.category)
    if row.category in _VATEX:
        _sub(tax, "ExemptionReasonCode", _VATEX[row.category])
    if row.category != "O":  # BR-O-05: no rate for "not subject to VAT"
        _sub(tax, "RateApplicablePercent", _plain(row.rate))


def build_cii_xml(doc: InvoiceDocument) -> bytes:
    """The invoice as Factur-X EN 16931 CII XML (UTF-8 bytes with declaration).

    Default exemption wording is in the seller's language: the seller issues the invoice.
    """
    root = etree.Element(_RSM + "CrossIndustryInvoice", nsmap=NS)
    context = etree.SubElement(root, _RSM + "ExchangedDocumentContext")
    guideline = _sub(context, "GuidelineSpecifiedDocumentContextParameter")
    _sub(guideline, "ID", EN16931_GUIDELINE)

    header = etree.SubElement(root, _RSM + "ExchangedDocument")
    _sub(header, "ID", doc.number)
    _sub(header, "TypeCode", doc.type_code)
    _date(header, "IssueDateTime", doc.issue_date)
    if doc.note:
        note = _sub(header, "IncludedNote")
        _sub(note, "Content", doc.note)

    transaction = etree.SubElement(root, _RSM + "SupplyChainTradeTransaction")
    for line in doc.lines:
        item = _sub(transaction, "IncludedSupplyChainTradeLineItem")
        line_doc = _sub(item, "AssociatedDocumentLineDocument")
        _sub(line_doc, "LineID", line.line_id)
        product = _sub(item, "SpecifiedTradeProduct")
        _sub(product, "Name", line.description)
        agreement = _sub(item, "SpecifiedLineTradeAgreement")
        price = _sub(agreement, "NetPriceProductTradePrice")
        _sub(price, "ChargeAmount", _plain(line.unit_price))
        delivery = _sub(item, "SpecifiedLineTradeDelivery")
        _sub(delivery, "BilledQuantity", _plain(line.quantity), unitCode=line.unit_code)
        settlement = _sub(item, "SpecifiedLineTradeSettlement")
        tax = _sub(settlement, "ApplicableTradeTax")
        _sub(tax, "TypeCode", "VAT")
        _sub(tax, "CategoryCode", line.vat_category)
        if line.vat_category != "O":
            _sub(tax, "RateApplicablePercent", _plain(line.vat_rate))
        summation = _sub(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, "LineTotalAmount", _amount(line.net_amount))

    agreement = _sub(transaction, "ApplicableHeaderTradeAgreement")
    _party(agreement, "SellerTradeParty", doc.seller)
    _party(agreement, "BuyerTradeParty", doc.buyer)
    if doc.purchase_order:
        order = _sub(agreement, "BuyerOrderReferencedDocument")
        _sub(order, "IssuerAssignedID", doc.purchase_order)
    _sub(transaction, "ApplicableHeaderTradeDelivery")

    settlement = _sub(transaction, "ApplicableHeaderTradeSettlement")
    _sub(settlement, "InvoiceCurrencyCode", doc.currency)
    for row in doc.vat_breakdown:
        _header_tax(settlement, row, doc.seller.locale)
    if doc.due_date:
        terms = _sub(settlement, "SpecifiedTradePaymentTerms")
        _date(terms, "DueDateDateTime", doc.due_date)
    totals = doc.totals
    summation = _sub(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(summation, "LineTotalAmount", _amount(totals.line_total))
    _sub(summation, "TaxBasisTotalAmount", _amount(totals.tax_exclusive))
    _sub(summation, "TaxTotalAmount", _amount(totals.tax_total), currencyID=doc.currency)
    _sub(summation, "GrandTotalAmount", _amount(totals.tax_inclusive))
    _sub(summation, "DuePayableAmount", _amount(totals.payable))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
