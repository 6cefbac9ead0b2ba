"""UBL 2.1 Invoice / CreditNote following Peppol BIS Billing 3.0, from an issued InvoiceDocument."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from contracts.v1 import AllowanceCharge, InvoiceDocument, InvoiceLine, Party
from invoicing.domain.exports.common import VATEX, amount, category_of, exemption_text, plain

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


class _Writer:
    def __init__(self, currency: str) -> None:
        self.currency = currency

    def cac(self, parent: ET.Element, tag: str) -> ET.Element:
        return ET.SubElement(parent, f"{{{CAC}}}{tag}")

    def cbc(self, parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{CBC}}}{tag}", attrs)
        el.text = text
        return el

    def money(self, parent: ET.Element, tag: str, value) -> ET.Element:  # type: ignore[no-untyped-def]
        return self.cbc(parent, tag, amount(value), currencyID=self.currency)

    def tax_scheme(self, parent: ET.Element) -> None:
        self.cbc(self.cac(parent, "TaxScheme"), "ID", "VAT")

    def party(self, parent: ET.Element, tag: str, party: Party) -> None:
        el = self.cac(self.cac(parent, tag), "Party")
        if party.email:
            self.cbc(el, "EndpointID", str(party.email), schemeID="EM")
        identification = self.cac(el, "PartyIdentification")
        self.cbc(identification, "ID", party.company_id)
        address = self.cac(el, "PostalAddress")
        self.cbc(address, "StreetName", party.address.line1)
        if party.address.line2:
            self.cbc(address, "AdditionalStreetName", party.address.line2)
        self.cbc(address, "CityName", party.address.city)
        self.cbc(address, "PostalZone", party.address.postcode)
        if party.address.region:
            self.cbc(address, "CountrySubentity", party.address.region)
        self.cbc(self.cac(address, "Country"), "IdentificationCode", party.address.country.upper())
        if party.vat_id:
            scheme = self.cac(el, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", party.vat_id)
            self.tax_scheme(scheme)
        legal = self.cac(el, "PartyLegalEntity")
        self.cbc(legal, "RegistrationName", party.name)
        if party.tax_id:
            self.cbc(legal, "CompanyID", party.tax_id)
        if party.email:
            self.cbc(self.cac(el, "Contact"), "ElectronicMail", str(party.email))

    def allowance_charge(self, parent: ET.Element, item: AllowanceCharge, *, charge: bool, document: bool) -> None:
        el = self.cac(parent, "AllowanceCharge")
        self.cbc(el, "ChargeIndicator", "true" if charge else "false")
        if item.reason_code:
            self.cbc(el, "AllowanceChargeReasonCode", item.reason_code)
        if item.reason:
            self.cbc(el, "AllowanceChargeReason", item.reason)
        if item.percent is not None:
            self.cbc(el, "MultiplierFactorNumeric", plain(item.percent))
        self.money(el, "Amount", item.amount)
        if item.base_amount is not None:
            self.money(el, "BaseAmount", item.base_amount)
        if document:
            category, rate = category_of(item)
            tax = self.cac(el, "TaxCategory")
            self.cbc(tax, "ID", category)
            if category != "O":
                self.cbc(tax, "Percent", plain(rate))
            self.tax_scheme(tax)

    def line(self, parent: ET.Element, line: InvoiceLine, *, credit_note: bool) -> None:
        el = self.cac(parent, "CreditNoteLine" if credit_note else "InvoiceLine")
        self.cbc(el, "ID", line.line_id)
        if line.note:
            self.cbc(el, "Note", line.note)
        quantity_tag = "CreditedQuantity" if credit_note else "InvoicedQuantity"
        self.cbc(el, quantity_tag, plain(line.quantity), unitCode=line.unit_code)
        self.money(el, "LineExtensionAmount", line.net_amount)
        for item in line.allowances:
            self.allowance_charge(el, item, charge=False, document=False)
        for item in line.charges:
            self.allowance_charge(el, item, charge=True, document=False)
        item_el = self.cac(el, "Item")
        self.cbc(item_el, "Name", line.description)
        if line.item_id:
            self.cbc(self.cac(item_el, "SellersItemIdentification"), "ID", line.item_id)
        tax = self.cac(item_el, "ClassifiedTaxCategory")
        self.cbc(tax, "ID", line.vat_category)
        if line.vat_category != "O":
            self.cbc(tax, "Percent", plain(line.vat_rate))
        self.tax_scheme(tax)
        price = self.cac(el, "Price")
        self.cbc(price, "PriceAmount", plain(line.unit_price), currencyID=self.currency)


def build_ubl(doc: InvoiceDocument) -> bytes:
    """The document as UBL 2.1 XML (Invoice for 380, CreditNote for 381), UTF-8 with declaration."""
    credit_note = doc.type_code == "381"
    root_ns = CREDIT_NOTE_NS if credit_note else INVOICE_NS
    ET.register_namespace("", root_ns)
    ET.register_namespace("cac", CAC)
    ET.register_namespace("cbc", CBC)
    w = _Writer(doc.currency)
    root = ET.Element(f"{{{root_ns}}}{'CreditNote' if credit_note else 'Invoice'}")
    w.cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    w.cbc(root, "ProfileID", PROFILE_ID)
    w.cbc(root, "ID", doc.number)
    w.cbc(root, "IssueDate", doc.issue_date.isoformat())
    if doc.due_date and not credit_note:
        w.cbc(root, "DueDate", doc.due_date.isoformat())
    w.cbc(root, "CreditNoteTypeCode" if credit_note else "InvoiceTypeCode", doc.type_code)
    if doc.note:
        w.cbc(root, "Note", doc.note)
    w.cbc(root, "DocumentCurrencyCode", doc.currency)
    # Peppol needs a buyer reference or an order reference (PEPPOL-EN16931-R003).
    w.cbc(root, "BuyerReference", doc.buyer_reference or doc.purchase_order or doc.number)
    if doc.purchase_order:
        w.cbc(w.cac(root, "OrderReference"), "ID", doc.purchase_order)
    if doc.preceding_invoice:
        reference = w.cac(w.cac(root, "BillingReference"), "InvoiceDocumentReference")
        w.cbc(reference, "ID", doc.preceding_invoice.number)
        if doc.preceding_invoice.issue_date:
            w.cbc(reference, "IssueDate", doc.preceding_invoice.issue_date.isoformat())
    w.party(root, "AccountingSupplierParty", doc.seller)
    w.party(root, "AccountingCustomerParty", doc.buyer)
    if doc.payment_means:
        means = doc.payment_means
        el = w.cac(root, "PaymentMeans")
        w.cbc(el, "PaymentMeansCode", means.code, **({"name": means.text} if means.text else {}))
        if credit_note and doc.due_date:
            w.cbc(el, "PaymentDueDate", doc.due_date.isoformat())
        if means.payment_id:
            w.cbc(el, "PaymentID", means.payment_id)
        if means.account_id:
            account = w.cac(el, "PayeeFinancialAccount")
            w.cbc(account, "ID", means.account_id)
            if means.account_name:
                w.cbc(account, "Name", means.account_name)
            if means.bank_id:
                w.cbc(w.cac(account, "FinancialInstitutionBranch"), "ID", means.bank_id)
    if doc.payment_terms:
        w.cbc(w.cac(root, "PaymentTerms"), "Note", doc.payment_terms)
    for item in doc.allowances:
        w.allowance_charge(root, item, charge=False, document=True)
    for item in doc.charges:
        w.allowance_charge(root, item, charge=True, document=True)
    tax_total = w.cac(root, "TaxTotal")
    w.money(tax_total, "TaxAmount", doc.totals.tax_total)
    for row in doc.vat_breakdown:
        subtotal = w.cac(tax_total, "TaxSubtotal")
        w.money(subtotal, "TaxableAmount", row.taxable_amount)
        w.money(subtotal, "TaxAmount", row.tax_amount)
        category = w.cac(subtotal, "TaxCategory")
        w.cbc(category, "ID", row.category)
        if row.category != "O":
            w.cbc(category, "Percent", plain(row.rate))
        if row.category in VATEX:
            w.cbc(category, "TaxExemptionReasonCode", VATEX[row.category])
        if text := exemption_text(row):
            w.cbc(category, "TaxExemptionReason", text)
        w.tax_scheme(category)
    totals = w.cac(root, "LegalMonetaryTotal")
    w.money(totals, "LineExtensionAmount", doc.totals.line_total)
    w.money(totals, "TaxExclusiveAmount", doc.totals.tax_exclusive)
    w.money(totals, "TaxInclusiveAmount", doc.totals.tax_inclusive)
    if doc.allowances:
        w.money(totals, "AllowanceTotalAmount", doc.totals.allowance_total)
    if doc.charges:
        w.money(totals, "ChargeTotalAmount", doc.totals.charge_total)
    if doc.totals.prepaid:
        w.money(totals, "PrepaidAmount", doc.totals.prepaid)
    w.money(totals, "PayableAmount", doc.totals.payable)
    for line in doc.lines:
        w.line(root, line, credit_note=credit_note)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
