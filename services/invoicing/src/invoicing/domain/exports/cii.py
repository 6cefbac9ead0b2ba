"""UN/CEFACT CII (Factur-X / ZUGFeRD EN 16931 profile), from an issued InvoiceDocument."""

from __future__ import annotations

import re
from datetime import date
from xml.etree import ElementTree as ET

from contracts.v1 import AllowanceCharge, InvoiceDocument, Party
from invoicing.domain.exports.common import VATEX, amount, category_of, exemption_text, plain

EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")


def _ram(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{RAM}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _date(parent: ET.Element, tag: str, value: date, ns: str = UDT) -> None:
    el = ET.SubElement(_ram(parent, tag), f"{{{ns}}}DateTimeString", {"format": "102"})
    el.text = value.strftime("%Y%m%d")


def _party(parent: ET.Element, tag: str, party: Party) -> None:
    el = _ram(parent, tag)
    _ram(el, "ID", party.company_id)
    _ram(el, "Name", party.name)
    if party.tax_id:
        _ram(_ram(el, "SpecifiedLegalOrganization"), "ID", party.tax_id)
    address = _ram(el, "PostalTradeAddress")
    _ram(address, "PostcodeCode", party.address.postcode)
    _ram(address, "LineOne", party.address.line1)
    if party.address.line2:
        _ram(address, "LineTwo", party.address.line2)
    _ram(address, "CityName", party.address.city)
    _ram(address, "CountryID", party.address.country.upper())
    if party.address.region:
        _ram(address, "CountrySubDivisionName", party.address.region)
    if party.email:
        _ram(_ram(el, "URIUniversalCommunication"), "URIID", str(party.email), schemeID="EM")
    if party.vat_id:
        _ram(_ram(el, "SpecifiedTaxRegistration"), "ID", party.vat_id, schemeID="VA")


def _allowance_charge(parent: ET.Element, item: AllowanceCharge, *, charge: bool, document: bool) -> None:
    el = _ram(parent, "SpecifiedTradeAllowanceCharge")
    indicator = _ram(el, "ChargeIndicator")
    ET.SubElement(indicator, f"{{{UDT}}}Indicator").text = "true" if charge else "false"
    if item.percent is not None:
        _ram(el, "CalculationPercent", plain(item.percent))
    if item.base_amount is not None:
        _ram(el, "BasisAmount", amount(item.base_amount))
    _ram(el, "ActualAmount", amount(item.amount))
    if item.reason_code:
        _ram(el, "ReasonCode", item.reason_code)
    if item.reason:
        _ram(el, "Reason", item.reason)
    if document:
        category, rate = category_of(item)
        tax = _ram(el, "CategoryTradeTax")
        _ram(tax, "TypeCode", "VAT")
        _ram(tax, "CategoryCode", category)
        if category != "O":
            _ram(tax, "RateApplicablePercent", plain(rate))


def build_cii(doc: InvoiceDocument) -> bytes:
    """The document as CII XML (EN 16931 guideline), UTF-8 with declaration."""
    for prefix, ns in (("rsm", RSM), ("ram", RAM), ("qdt", QDT), ("udt", UDT)):
        ET.register_namespace(prefix, ns)
    root = ET.Element(f"{{{RSM}}}CrossIndustryInvoice")
    context = ET.SubElement(root, f"{{{RSM}}}ExchangedDocumentContext")
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", EN16931_GUIDELINE)

    header = ET.SubElement(root, f"{{{RSM}}}ExchangedDocument")
    _ram(header, "ID", doc.number)
    _ram(header, "TypeCode", doc.type_code)
    _date(header, "IssueDateTime", doc.issue_date)
    if doc.note:
        _ram(_ram(header, "IncludedNote"), "Content", doc.note)

    transaction = ET.SubElement(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    for line in doc.lines:
        item = _ram(transaction, "IncludedSupplyChainTradeLineItem")
        line_doc = _ram(item, "AssociatedDocumentLineDocument")
        _ram(line_doc, "LineID", line.line_id)
        if line.note:
            _ram(_ram(line_doc, "IncludedNote"), "Content", line.note)
        product = _ram(item, "SpecifiedTradeProduct")
        if line.item_id:
            _ram(product, "SellerAssignedID", line.item_id)
        _ram(product, "Name", line.description)
        agreement = _ram(item, "SpecifiedLineTradeAgreement")
        _ram(_ram(agreement, "NetPriceProductTradePrice"), "ChargeAmount", plain(line.unit_price))
        _ram(_ram(item, "SpecifiedLineTradeDelivery"), "BilledQuantity", plain(line.quantity), unitCode=line.unit_code)
        settlement = _ram(item, "SpecifiedLineTradeSettlement")
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "TypeCode", "VAT")
        _ram(tax, "CategoryCode", line.vat_category)
        if line.vat_category != "O":
            _ram(tax, "RateApplicablePercent", plain(line.vat_rate))
        for entry in line.allowances:
            _allowance_charge(settlement, entry, charge=False, document=False)
        for entry in line.charges:
            _allowance_charge(settlement, entry, charge=True, document=False)
        _ram(
            _ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation"),
            "LineTotalAmount",
            amount(line.net_amount),
        )

    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    if doc.buyer_reference:
        _ram(agreement, "BuyerReference", doc.buyer_reference)
    _party(agreement, "SellerTradeParty", doc.seller)
    _party(agreement, "BuyerTradeParty", doc.buyer)
    if doc.purchase_order:
        _ram(_ram(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", doc.purchase_order)
    _ram(transaction, "ApplicableHeaderTradeDelivery")

    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    if doc.payment_means and doc.payment_means.payment_id:
        _ram(settlement, "PaymentReference", doc.payment_means.payment_id)
    _ram(settlement, "InvoiceCurrencyCode", doc.currency)
    if doc.payment_means:
        means = doc.payment_means
        el = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
        _ram(el, "TypeCode", means.code)
        if means.text:
            _ram(el, "Information", means.text)
        if means.account_id:
            account = _ram(el, "PayeePartyCreditorFinancialAccount")
            compact = means.account_id.replace(" ", "").upper()
            if IBAN.fullmatch(compact):
                _ram(account, "IBANID", compact)
            if means.account_name:
                _ram(account, "AccountName", means.account_name)
            if not IBAN.fullmatch(compact):
                _ram(account, "ProprietaryID", means.account_id)
        if means.bank_id:
            _ram(_ram(el, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", means.bank_id)
    for row in doc.vat_breakdown:
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "CalculatedAmount", amount(row.tax_amount))
        _ram(tax, "TypeCode", "VAT")
        if text := exemption_text(row):
            _ram(tax, "ExemptionReason", text)
        _ram(tax, "BasisAmount", amount(row.taxable_amount))
        _ram(tax, "CategoryCode", row.category)
        if row.category in VATEX:
            _ram(tax, "ExemptionReasonCode", VATEX[row.category])
        if row.category != "O":
            _ram(tax, "RateApplicablePercent", plain(row.rate))
    for entry in doc.allowances:
        _allowance_charge(settlement, entry, charge=False, document=True)
    for entry in doc.charges:
        _allowance_charge(settlement, entry, charge=True, document=True)
    if doc.due_date or doc.payment_terms:
        terms = _ram(settlement, "SpecifiedTradePaymentTerms")
        if doc.payment_terms:
            _ram(terms, "Description", doc.payment_terms)
        if doc.due_date:
            _date(terms, "DueDateDateTime", doc.due_date)
    totals = doc.totals
    summation = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _ram(summation, "LineTotalAmount", amount(totals.line_total))
    if doc.charges:
        _ram(summation, "ChargeTotalAmount", amount(totals.charge_total))
    if doc.allowances:
        _ram(summation, "AllowanceTotalAmount", amount(totals.allowance_total))
    _ram(summation, "TaxBasisTotalAmount", amount(totals.tax_exclusive))
    _ram(summation, "TaxTotalAmount", amount(totals.tax_total), currencyID=doc.currency)
    _ram(summation, "GrandTotalAmount", amount(totals.tax_inclusive))
    if totals.prepaid:
        _ram(summation, "TotalPrepaidAmount", amount(totals.prepaid))
    _ram(summation, "DuePayableAmount", amount(totals.payable))
    if doc.preceding_invoice:
        reference = _ram(settlement, "InvoiceReferencedDocument")
        _ram(reference, "IssuerAssignedID", doc.preceding_invoice.number)
        if doc.preceding_invoice.issue_date:
            _date(reference, "FormattedIssueDateTime", doc.preceding_invoice.issue_date, QDT)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
