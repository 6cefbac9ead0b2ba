"""Country rules: rates in force, identifier formats, cross-border treatment, read from the country packs."""

from __future__ import annotations

from decimal import Decimal

from invoicing.domain.countries import CountryPack, all_packs, pack_for, pack_for_vat_id
from invoicing.domain.findings import Collector
from invoicing.domain.model import InvoiceContent, money


def _plain(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def _allowed(rates: set[Decimal]) -> str:
    return ", ".join(_plain(r) for r in sorted(rates, reverse=True))


def check_country_rules(content: InvoiceContent, out: Collector) -> None:
    """Every country rule that applies to this seller and buyer."""
    seller_country = content.seller.address.country.upper()
    buyer_country = content.buyer.address.country.upper()
    seller = pack_for(seller_country)
    buyer = pack_for(buyer_country)
    if seller is None:
        out.warn("CTRY-UNKNOWN", "seller.address.country", country=seller_country)
    _check_vat_ids(content, out)
    _check_sales_tax(content, seller, out)
    if seller is None:
        return
    if seller.tax_system == "sales_tax":
        taxed = [i for i, line in enumerate(content.lines) if line.vat_category != "O"]
        for i in taxed:
            out.fail(f"CTRY-{seller.code}-NOVAT", f"lines[{i}].vat_category", "CTRY-NOVAT", country_name=seller.name)
        return
    _check_rates(content, seller, buyer, out)
    _check_cross_border(content, seller, buyer, buyer_country, out)


def _check_vat_ids(content: InvoiceContent, out: Collector) -> None:
    for role, party in (("seller", content.seller), ("buyer", content.buyer)):
        if not party.vat_id:
            continue
        pack = pack_for_vat_id(party.vat_id)
        if pack is not None and not pack.vat_id_is_valid(party.vat_id.replace(" ", "").upper()):
            out.fail(
                f"CTRY-{pack.code}-VATID", f"{role}.vat_id", "CTRY-VATID", vat_id=party.vat_id, country_name=pack.name
            )


def _check_sales_tax(content: InvoiceContent, seller: CountryPack | None, out: Collector) -> None:
    if not content.sales_tax:
        return
    if seller is None or not seller.sales_tax_supplied:
        where = ", ".join(sorted(p.name for p in all_packs().values() if p.sales_tax_supplied))
        out.fail("FX-STAX-1", "sales_tax", countries=where)
        return
    for i, tax in enumerate(content.sales_tax):
        if not tax.jurisdiction.strip() or tax.amount < 0:
            out.fail("FX-STAX-2", f"sales_tax[{i}]")
        elif tax.rate is not None and tax.taxable_amount is not None:
            expected = money(tax.taxable_amount * tax.rate / 100)
            if abs(money(tax.amount) - expected) > Decimal("0.01"):
                out.warn(
                    "FX-STAX-3", f"sales_tax[{i}].amount", found=money(tax.amount), rate=_plain(tax.rate),
                    base=money(tax.taxable_amount), expected=expected,
                )  # fmt: skip


def _check_rates(content: InvoiceContent, seller: CountryPack, buyer: CountryPack | None, out: Collector) -> None:
    """Standard-rated lines carry a rate in force on the issue date: the seller's, or within the EU the buyer's."""
    day = content.issue_date
    region = content.buyer.address.region if seller.regional_rates else None
    allowed = seller.standard_rates_on(day, region)
    if buyer is not None and buyer.in_eu and seller.in_eu and buyer.code != seller.code:
        # Distance sales and some services are taxed where the buyer is.
        allowed = allowed | buyer.standard_rates_on(day)
    rated = [(f"lines[{i}].vat_rate", ln.vat_category, ln.vat_rate) for i, ln in enumerate(content.lines)]
    rated += [(f"allowances[{i}].vat_rate", a.vat_category, a.vat_rate) for i, a in enumerate(content.allowances)]
    rated += [(f"charges[{i}].vat_rate", c.vat_category, c.vat_rate) for i, c in enumerate(content.charges)]
    for field, category, rate in rated:
        if category != "S" or rate is None or rate <= 0 or rate in allowed:
            continue
        if region and seller.standard_rates_on(day, region) and len(allowed) == 1:
            out.fail(
                f"CTRY-{seller.code}-RATE", field, "CTRY-RATE-REGION", rate=_plain(rate), allowed=_allowed(allowed),
                region=region.upper(), country_name=seller.name, tax_name=seller.tax_name, day=day.isoformat(),
            )  # fmt: skip
        else:
            out.fail(
                f"CTRY-{seller.code}-RATE", field, "CTRY-RATE", rate=_plain(rate), allowed=_allowed(allowed),
                country_name=seller.name, tax_name=seller.tax_name, day=day.isoformat(),
            )  # fmt: skip


def _check_cross_border(
    content: InvoiceContent, seller: CountryPack, buyer: CountryPack | None, buyer_country: str, out: Collector
) -> None:
    same_area = buyer is not None and buyer.vat_area == seller.vat_area
    intra_eu = seller.in_eu and buyer is not None and buyer.in_eu and buyer.code != seller.code
    categories = {(i, line.vat_category) for i, line in enumerate(content.lines)}
    for i, category in sorted(categories):
        where = f"lines[{i}].vat_category"
        if category == "K" and not intra_eu:
            out.fail("EU-IC-01", where)
        if category == "G" and same_area:
            area = "EU" if seller.in_eu else seller.name
            out.fail("EU-EXP-01", where, area=area)
        if category == "S" and intra_eu and content.buyer.vat_id:
            out.warn("EU-RC-01", where)
        if category == "S" and not same_area and buyer_country != seller.code:
            out.warn("EU-EXP-02", where)
