"""UBL 2.1 Invoice / CreditNote (Peppol BIS Billing 3.0) -> partner submission fields."""

from __future__ import annotations

from typing import Any

from lxml import etree

from factora_partner.xmlread import XmlReader, drop_none, unit_price

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOTS = {f"{{{INVOICE_NS}}}Invoice": "380", f"{{{CREDIT_NOTE_NS}}}CreditNote": "381"}


def ubl_reader(path: Any, root: etree._Element) -> XmlReader:
    root_ns = etree.QName(root).namespace or INVOICE_NS
    return XmlReader(path, root, {"ubl": root_ns, "cac": CAC, "cbc": CBC})


def _party(r: XmlReader, root: etree._Element, role: str, tag: str, company_id: str | None) -> dict[str, Any]:
    container = r.find(root, f"cac:{tag}")
    party = r.find(container, "cac:Party") if container is not None else None
    if party is None:
        r.fail(role, f"the {role} is missing; add cac:{tag}/cac:Party", element=r.below(root, f"cac:{tag}/cac:Party"))
    assert party is not None
    address = r.find(party, "cac:PostalAddress")
    if address is None:
        r.fail(f"{role}.address", f"add the {role}'s postal address", element=r.below(party, "cac:PostalAddress"))
    assert address is not None
    f = f"{role}.address"
    name = r.text(party, "cac:PartyLegalEntity/cbc:RegistrationName", f"{role}.name") or r.text(
        party, "cac:PartyName/cbc:Name", f"{role}.name", required=f"add the {role}'s legal name (BT-27 / BT-44)"
    )
    email = r.text(party, "cac:Contact/cbc:ElectronicMail", f"{role}.email")
    if email is None and r.attribute(party, "cbc:EndpointID", "schemeID") == "EM":
        email = r.text(party, "cbc:EndpointID", f"{role}.email")
    return drop_none(
        {
            "company_id": company_id
            or r.text(
                party,
                "cac:PartyIdentification/cbc:ID",
                f"{role}.company_id",
                required=f"add the {role}'s Factora company id, or pass it when loading the file",
            ),
            "name": name,
            "vat_id": r.text(party, "cac:PartyTaxScheme/cbc:CompanyID", f"{role}.vat_id"),
            "tax_id": r.text(party, "cac:PartyLegalEntity/cbc:CompanyID", f"{role}.tax_id"),
            "email": email,
            "address": drop_none(
                {
                    "line1": r.text(address, "cbc:StreetName", f"{f}.line1", required="add the street (BT-35 / BT-50)"),
                    "line2": r.text(address, "cbc:AdditionalStreetName", f"{f}.line2"),
                    "city": r.text(address, "cbc:CityName", f"{f}.city", required="add the city (BT-37 / BT-52)"),
                    "postcode": r.text(
                        address, "cbc:PostalZone", f"{f}.postcode", required="add the post code (BT-38 / BT-53)"
                    ),
                    "region": r.text(address, "cbc:CountrySubentity", f"{f}.region"),
                    "country": r.text(
                        address,
                        "cac:Country/cbc:IdentificationCode",
                        f"{f}.country",
                        required="add the ISO 3166-1 alpha-2 country code (BT-40 / BT-55)",
                    ),
                }
            ),
        }
    )


def _allowance_charge(r: XmlReader, el: etree._Element, field: str, *, document: bool) -> dict[str, Any]:
    data = {
        "amount": r.decimal(el, "cbc:Amount", f"{field}.amount"),
        "base_amount": r.decimal(el, "cbc:BaseAmount", f"{field}.base_amount"),
        "percent": r.decimal(el, "cbc:MultiplierFactorNumeric", f"{field}.percent"),
        "reason": r.text(el, "cbc:AllowanceChargeReason", f"{field}.reason"),
        "reason_code": r.text(el, "cbc:AllowanceChargeReasonCode", f"{field}.reason_code"),
    }
    if document:
        data["vat_category"] = r.text(el, "cac:TaxCategory/cbc:ID", f"{field}.vat_category")
        data["vat_rate"] = r.decimal(el, "cac:TaxCategory/cbc:Percent", f"{field}.vat_rate")
    return drop_none(data)


def _allowances_and_charges(r: XmlReader, parent: etree._Element, prefix: str, *, document: bool) -> dict[str, Any]:
    out: dict[str, list[dict[str, Any]]] = {"allowances": [], "charges": []}
    for el in r.findall(parent, "cac:AllowanceCharge"):
        kind = "charges" if r.indicator(el, "cbc:ChargeIndicator", f"{prefix}charges") else "allowances"
        field = f"{prefix}{kind}[{len(out[kind])}]"
        out[kind].append(_allowance_charge(r, el, field, document=document))
    return out


def _line(r: XmlReader, el: etree._Element, index: int, credit_note: bool) -> dict[str, Any]:
    f = f"lines[{index}]"
    quantity_tag = "cbc:CreditedQuantity" if credit_note else "cbc:InvoicedQuantity"
    price = r.decimal(el, "cac:Price/cbc:PriceAmount", f"{f}.unit_price", required="add the item net price (BT-146)")
    assert price is not None
    category = r.text(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID", f"{f}.vat_category")
    rate = r.decimal(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", f"{f}.vat_rate")
    if rate is None and category != "O":
        r.fail(
            f"{f}.vat_rate",
            "add the VAT rate in percent (BT-152), e.g. 20",
            element=r.below(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
        )
    r.origins[f] = r.label(el)
    return drop_none(
        {
            "description": r.text(el, "cac:Item/cbc:Name", f"{f}.description", required="add the item name (BT-153)"),
            "quantity": r.decimal(el, quantity_tag, f"{f}.quantity", required="add the quantity (BT-129)"),
            "unit_code": r.attribute(el, quantity_tag, "unitCode"),
            "unit_price": unit_price(price, r.decimal(el, "cac:Price/cbc:BaseQuantity", f"{f}.unit_price")),
            "vat_category": category,
            "vat_rate": rate if rate is not None else 0,
            "item_id": r.text(el, "cac:Item/cac:SellersItemIdentification/cbc:ID", f"{f}.item_id"),
            "note": r.text(el, "cbc:Note", f"{f}.note"),
            **_allowances_and_charges(r, el, f"{f}.", document=False),
        }
    )


def _payment_means(r: XmlReader, root: etree._Element) -> dict[str, Any] | None:
    el = r.find(root, "cac:PaymentMeans")
    if el is None:
        return None
    f = "payment_means"
    account = "cac:PayeeFinancialAccount"
    return drop_none(
        {
            "code": r.text(el, "cbc:PaymentMeansCode", f"{f}.code", required="add the UNTDID 4461 code (BT-81)"),
            "text": r.attribute(el, "cbc:PaymentMeansCode", "name"),
            "payment_id": r.text(el, "cbc:PaymentID", f"{f}.payment_id"),
            "account_id": r.text(el, f"{account}/cbc:ID", f"{f}.account_id"),
            "account_name": r.text(el, f"{account}/cbc:Name", f"{f}.account_name"),
            "bank_id": r.text(el, f"{account}/cac:FinancialInstitutionBranch/cbc:ID", f"{f}.bank_id"),
        }
    )


def ubl_fields(r: XmlReader, *, seller_company_id: str | None, buyer_company_id: str | None) -> dict[str, Any]:
    """Every submission field a UBL document carries (partner_id is added by the caller)."""
    root = r.root
    credit_note = etree.QName(root).localname == "CreditNote"
    type_tag = "cbc:CreditNoteTypeCode" if credit_note else "cbc:InvoiceTypeCode"
    type_code = r.text(root, type_tag, "type_code") or ROOTS[root.tag]
    if type_code not in ("380", "381"):
        r.fail(
            "type_code",
            f"type code {type_code!r} is not accepted; Factora takes 380 (invoice) and 381 (credit note)",
            el=r.find(root, type_tag),
        )
    due = r.iso_date(root, "cbc:DueDate", "due_date") or r.iso_date(
        root, "cac:PaymentMeans/cbc:PaymentDueDate", "due_date"
    )
    preceding = r.find(root, "cac:BillingReference/cac:InvoiceDocumentReference")
    totals = r.find(root, "cac:LegalMonetaryTotal")
    line_tag = "cac:CreditNoteLine" if credit_note else "cac:InvoiceLine"
    lines = r.findall(root, line_tag)
    if not lines:
        r.fail("lines", f"the document has no {line_tag}; add at least one line", element=r.below(root, line_tag))
    notes = [(n.text or "").strip() for n in r.findall(root, "cbc:Note") if (n.text or "").strip()]
    data: dict[str, Any] = {
        "external_id": r.text(root, "cbc:ID", "external_id", required="add the invoice number (BT-1)"),
        "type_code": type_code,
        "issue_date": r.iso_date(root, "cbc:IssueDate", "issue_date", required="add the issue date (BT-2)"),
        "due_date": due,
        "currency": r.text(
            root, "cbc:DocumentCurrencyCode", "currency", required="add the ISO 4217 currency code (BT-5)"
        ),
        "note": "\n".join(notes) or None,
        "buyer_reference": r.text(root, "cbc:BuyerReference", "buyer_reference"),
        "purchase_order": r.text(root, "cac:OrderReference/cbc:ID", "purchase_order"),
        "payment_terms": r.text(root, "cac:PaymentTerms/cbc:Note", "payment_terms"),
        "payment_means": _payment_means(r, root),
        "seller": _party(r, root, "seller", "AccountingSupplierParty", seller_company_id),
        "buyer": _party(r, root, "buyer", "AccountingCustomerParty", buyer_company_id),
        "lines": [_line(r, el, i, credit_note) for i, el in enumerate(lines)],
        **_allowances_and_charges(r, root, "", document=True),
    }
    if preceding is not None:
        data["preceding_invoice"] = drop_none(
            {
                "number": r.text(preceding, "cbc:ID", "preceding_invoice.number", required="add the invoice number"),
                "issue_date": r.iso_date(preceding, "cbc:IssueDate", "preceding_invoice.issue_date"),
            }
        )
    if totals is not None:
        data["prepaid_amount"] = r.decimal(totals, "cbc:PrepaidAmount", "prepaid_amount")
        data["stated_totals"] = drop_none(
            {
                "tax_exclusive": r.decimal(totals, "cbc:TaxExclusiveAmount", "stated_totals.tax_exclusive"),
                "tax_total": r.decimal(root, "cac:TaxTotal/cbc:TaxAmount", "stated_totals.tax_total"),
                "tax_inclusive": r.decimal(totals, "cbc:TaxInclusiveAmount", "stated_totals.tax_inclusive"),
                "payable": r.decimal(totals, "cbc:PayableAmount", "stated_totals.payable"),
            }
        )
    return drop_none(data)
