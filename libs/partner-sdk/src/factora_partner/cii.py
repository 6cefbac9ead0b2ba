"""UN/CEFACT CII CrossIndustryInvoice (Factur-X / ZUGFeRD, EN 16931 profile) -> partner submission fields."""

from __future__ import annotations

from typing import Any

from lxml import etree

from factora_partner.xmlread import XmlReader, drop_none, unit_price

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
ROOT = f"{{{RSM}}}CrossIndustryInvoice"


def cii_reader(path: Any, root: etree._Element) -> XmlReader:
    return XmlReader(path, root, {"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT})


def _required(r: XmlReader, parent: etree._Element, xpath: str, field: str, hint: str) -> etree._Element:
    el = r.find(parent, xpath)
    if el is None:
        r.fail(field, hint, element=r.below(parent, xpath))
    assert el is not None
    return el


def _party(r: XmlReader, agreement: etree._Element, role: str, tag: str, company_id: str | None) -> dict[str, Any]:
    party = _required(r, agreement, f"ram:{tag}", role, f"the {role} is missing; add ram:{tag}")
    address = _required(r, party, "ram:PostalTradeAddress", f"{role}.address", f"add the {role}'s postal address")
    f = f"{role}.address"
    email = None
    for uri in r.findall(party, "ram:URIUniversalCommunication/ram:URIID"):
        if uri.get("schemeID") == "EM" and (uri.text or "").strip():
            email = uri.text.strip()
            r.origins[f"{role}.email"] = r.label(uri)
    email = email or r.text(
        party, "ram:DefinedTradeContact/ram:EmailURIUniversalCommunication/ram:URIID", f"{role}.email"
    )
    vat_id = None
    for registration in r.findall(party, "ram:SpecifiedTaxRegistration/ram:ID"):
        if registration.get("schemeID", "VA") == "VA" and (registration.text or "").strip():
            vat_id = registration.text.strip()
            r.origins[f"{role}.vat_id"] = r.label(registration)
    return drop_none(
        {
            "company_id": company_id
            or r.text(
                party,
                "ram:ID",
                f"{role}.company_id",
                required=f"add the {role}'s Factora company id (ram:ID), or pass it when loading the file",
            ),
            "name": r.text(party, "ram:Name", f"{role}.name", required=f"add the {role}'s legal name (BT-27 / BT-44)"),
            "vat_id": vat_id,
            "tax_id": r.text(party, "ram:SpecifiedLegalOrganization/ram:ID", f"{role}.tax_id"),
            "email": email,
            "address": drop_none(
                {
                    "line1": r.text(address, "ram:LineOne", f"{f}.line1", required="add the street (BT-35 / BT-50)"),
                    "line2": r.text(address, "ram:LineTwo", f"{f}.line2"),
                    "city": r.text(address, "ram:CityName", f"{f}.city", required="add the city (BT-37 / BT-52)"),
                    "postcode": r.text(
                        address, "ram:PostcodeCode", f"{f}.postcode", required="add the post code (BT-38 / BT-53)"
                    ),
                    "region": r.text(address, "ram:CountrySubDivisionName", f"{f}.region"),
                    "country": r.text(
                        address,
                        "ram:CountryID",
                        f"{f}.country",
                        required="add the ISO 3166-1 alpha-2 country code (BT-40 / BT-55)",
                    ),
                }
            ),
        }
    )


def _allowances_and_charges(r: XmlReader, parent: etree._Element, prefix: str, *, document: bool) -> dict[str, Any]:
    out: dict[str, list[dict[str, Any]]] = {"allowances": [], "charges": []}
    for el in r.findall(parent, "ram:SpecifiedTradeAllowanceCharge"):
        kind = "charges" if r.indicator(el, "ram:ChargeIndicator/udt:Indicator", f"{prefix}charges") else "allowances"
        f = f"{prefix}{kind}[{len(out[kind])}]"
        item = {
            "amount": r.decimal(el, "ram:ActualAmount", f"{f}.amount"),
            "base_amount": r.decimal(el, "ram:BasisAmount", f"{f}.base_amount"),
            "percent": r.decimal(el, "ram:CalculationPercent", f"{f}.percent"),
            "reason": r.text(el, "ram:Reason", f"{f}.reason"),
            "reason_code": r.text(el, "ram:ReasonCode", f"{f}.reason_code"),
        }
        if document:
            item["vat_category"] = r.text(el, "ram:CategoryTradeTax/ram:CategoryCode", f"{f}.vat_category")
            item["vat_rate"] = r.decimal(el, "ram:CategoryTradeTax/ram:RateApplicablePercent", f"{f}.vat_rate")
        out[kind].append(drop_none(item))
    return out


def _line(r: XmlReader, el: etree._Element, index: int) -> dict[str, Any]:
    f = f"lines[{index}]"
    price_path = "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice"
    quantity_path = "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"
    tax_path = "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"
    price = r.decimal(el, f"{price_path}/ram:ChargeAmount", f"{f}.unit_price", required="add the item net price")
    assert price is not None
    category = r.text(el, f"{tax_path}/ram:CategoryCode", f"{f}.vat_category")
    rate = r.decimal(el, f"{tax_path}/ram:RateApplicablePercent", f"{f}.vat_rate")
    if rate is None and category != "O":
        r.fail(
            f"{f}.vat_rate",
            "add the VAT rate in percent (BT-152), e.g. 20",
            element=r.below(el, f"{tax_path}/ram:RateApplicablePercent"),
        )
    settlement = r.find(el, "ram:SpecifiedLineTradeSettlement")
    r.origins[f] = r.label(el)
    return drop_none(
        {
            "description": r.text(
                el, "ram:SpecifiedTradeProduct/ram:Name", f"{f}.description", required="add the item name (BT-153)"
            ),
            "quantity": r.decimal(el, quantity_path, f"{f}.quantity", required="add the billed quantity (BT-129)"),
            "unit_code": r.attribute(el, quantity_path, "unitCode"),
            "unit_price": unit_price(price, r.decimal(el, f"{price_path}/ram:BasisQuantity", f"{f}.unit_price")),
            "vat_category": category,
            "vat_rate": rate if rate is not None else 0,
            "item_id": r.text(el, "ram:SpecifiedTradeProduct/ram:SellerAssignedID", f"{f}.item_id"),
            "note": r.text(el, "ram:AssociatedDocumentLineDocument/ram:IncludedNote/ram:Content", f"{f}.note"),
            **(_allowances_and_charges(r, settlement, f"{f}.", document=False) if settlement is not None else {}),
        }
    )


def _payment_means(r: XmlReader, settlement: etree._Element) -> dict[str, Any] | None:
    el = r.find(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    if el is None:
        return None
    f = "payment_means"
    account = "ram:PayeePartyCreditorFinancialAccount"
    return drop_none(
        {
            "code": r.text(el, "ram:TypeCode", f"{f}.code", required="add the UNTDID 4461 code (BT-81)"),
            "text": r.text(el, "ram:Information", f"{f}.text"),
            "payment_id": r.text(settlement, "ram:PaymentReference", f"{f}.payment_id"),
            "account_id": r.text(el, f"{account}/ram:IBANID", f"{f}.account_id")
            or r.text(el, f"{account}/ram:ProprietaryID", f"{f}.account_id"),
            "account_name": r.text(el, f"{account}/ram:AccountName", f"{f}.account_name"),
            "bank_id": r.text(el, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID", f"{f}.bank_id"),
        }
    )


def cii_fields(r: XmlReader, *, seller_company_id: str | None, buyer_company_id: str | None) -> dict[str, Any]:
    """Every submission field a CII document carries (partner_id is added by the caller)."""
    root = r.root
    header = _required(r, root, "rsm:ExchangedDocument", "external_id", "add rsm:ExchangedDocument (BT-1, BT-2, BT-3)")
    transaction = _required(
        r, root, "rsm:SupplyChainTradeTransaction", "lines", "add rsm:SupplyChainTradeTransaction with the lines"
    )
    agreement = _required(
        r, transaction, "ram:ApplicableHeaderTradeAgreement", "seller", "add the seller and buyer (BG-4, BG-7)"
    )
    settlement = _required(
        r, transaction, "ram:ApplicableHeaderTradeSettlement", "currency", "add the currency and totals (BT-5, BG-22)"
    )
    type_code = r.text(header, "ram:TypeCode", "type_code", required="add the type code: 380 or 381 (BT-3)")
    if type_code not in ("380", "381"):
        r.fail(
            "type_code",
            f"type code {type_code!r} is not accepted; Factora takes 380 (invoice) and 381 (credit note)",
            el=r.find(header, "ram:TypeCode"),
        )
    lines = r.findall(transaction, "ram:IncludedSupplyChainTradeLineItem")
    if not lines:
        r.fail(
            "lines",
            "the document has no line; add ram:IncludedSupplyChainTradeLineItem",
            element=r.below(transaction, "ram:IncludedSupplyChainTradeLineItem"),
        )
    notes = [
        (n.text or "").strip() for n in r.findall(header, "ram:IncludedNote/ram:Content") if (n.text or "").strip()
    ]
    preceding = r.find(settlement, "ram:InvoiceReferencedDocument")
    totals = r.find(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    data: dict[str, Any] = {
        "external_id": r.text(header, "ram:ID", "external_id", required="add the invoice number (BT-1)"),
        "type_code": type_code,
        "issue_date": r.cii_date(
            header, "ram:IssueDateTime/udt:DateTimeString", "issue_date", required="add the issue date (BT-2)"
        ),
        "due_date": r.cii_date(
            settlement, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString", "due_date"
        ),
        "currency": r.text(
            settlement, "ram:InvoiceCurrencyCode", "currency", required="add the ISO 4217 currency code (BT-5)"
        ),
        "note": "\n".join(notes) or None,
        "buyer_reference": r.text(agreement, "ram:BuyerReference", "buyer_reference"),
        "purchase_order": r.text(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID", "purchase_order"),
        "payment_terms": r.text(settlement, "ram:SpecifiedTradePaymentTerms/ram:Description", "payment_terms"),
        "payment_means": _payment_means(r, settlement),
        "seller": _party(r, agreement, "seller", "SellerTradeParty", seller_company_id),
        "buyer": _party(r, agreement, "buyer", "BuyerTradeParty", buyer_company_id),
        "lines": [_line(r, el, i) for i, el in enumerate(lines)],
        **_allowances_and_charges(r, settlement, "", document=True),
    }
    if preceding is not None:
        data["preceding_invoice"] = drop_none(
            {
                "number": r.text(
                    preceding, "ram:IssuerAssignedID", "preceding_invoice.number", required="add the invoice number"
                ),
                "issue_date": r.cii_date(
                    preceding, "ram:FormattedIssueDateTime/qdt:DateTimeString", "preceding_invoice.issue_date"
                ),
            }
        )
    if totals is not None:
        data["prepaid_amount"] = r.decimal(totals, "ram:TotalPrepaidAmount", "prepaid_amount")
        data["stated_totals"] = drop_none(
            {
                "tax_exclusive": r.decimal(totals, "ram:TaxBasisTotalAmount", "stated_totals.tax_exclusive"),
                "tax_total": _tax_total(r, totals, data.get("currency")),
                "tax_inclusive": r.decimal(totals, "ram:GrandTotalAmount", "stated_totals.tax_inclusive"),
                "payable": r.decimal(totals, "ram:DuePayableAmount", "stated_totals.payable"),
            }
        )
    return drop_none(data)


def _tax_total(r: XmlReader, totals: etree._Element, currency: str | None) -> Any:
    # CII may state the VAT total twice (invoice and accounting currency): take the invoice currency's.
    for el in r.findall(totals, "ram:TaxTotalAmount"):
        if el.get("currencyID") in (None, currency) and (el.text or "").strip():
            r.origins["stated_totals.tax_total"] = r.label(el)
            return r.decimal(el, ".", "stated_totals.tax_total")
    return None
