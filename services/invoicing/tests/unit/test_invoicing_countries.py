"""Country packs: every country's rates, identifiers and retention as data, and the rules that read them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contracts.v1 import PartnerInvoiceSubmitted
from invoicing.domain.countries import all_packs, pack_for, retention_years
from invoicing.domain.validation import validate

pytestmark = pytest.mark.unit

EU_MEMBERS = set(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
# One standard rate per country (in force on 2026-03-02) and a VAT id in its format.
STANDARD = {
    "AT": ("20", "ATU12345678"),
    "BE": ("21", "BE0477472701"),
    "BG": ("20", "BG123456789"),
    "HR": ("25", "HR12345678901"),
    "CY": ("19", "CY12345678L"),
    "CZ": ("21", "CZ12345678"),
    "DK": ("25", "DK12345678"),
    "EE": ("24", "EE123456789"),
    "FI": ("25.5", "FI12345678"),
    "FR": ("20", "FR40303265045"),
    "DE": ("19", "DE123456789"),
    "GR": ("24", "EL123456789"),
    "HU": ("27", "HU12345678"),
    "IE": ("23", "IE1234567T"),
    "IT": ("22", "IT12345678901"),
    "LV": ("21", "LV12345678901"),
    "LT": ("21", "LT123456789"),
    "LU": ("17", "LU12345678"),
    "MT": ("18", "MT12345678"),
    "NL": ("21", "NL123456789B01"),
    "PL": ("23", "PL1234567890"),
    "PT": ("23", "PT123456789"),
    "RO": ("21", "RO1234567"),
    "SK": ("23", "SK1234567890"),
    "SI": ("22", "SI12345678"),
    "ES": ("21", "ESX1234567X"),
    "SE": ("25", "SE123456789001"),
    "GB": ("20", "GB123456789"),
    "CA": ("5", "CA123456789RT0001"),
    "AU": ("10", "AU51824753556"),
    "SG": ("9", "SG200312345A"),
    "JP": ("10", "JPT1234567890123"),
    "NZ": ("15", "NZ123456789"),
}


def invoice(
    seller_country: str,
    buyer_country: str,
    lines: list[dict[str, Any]],
    *,
    seller_vat: str | None = None,
    buyer_vat: str | None = None,
    issue_date: str = "2026-03-02",
    buyer_region: str | None = None,
    **extra: Any,
) -> PartnerInvoiceSubmitted:
    def party(cid: str, country: str, vat: str | None, region: str | None = None) -> dict[str, Any]:
        address = {"line1": "1 Main St", "city": "City", "postcode": "1000", "country": country, "region": region}
        return {"company_id": cid, "name": cid, "vat_id": vat, "address": address}

    default_vat = STANDARD.get(seller_country, ("", None))[1]
    return PartnerInvoiceSubmitted.model_validate(
        {
            "partner_id": "p",
            "external_id": "e",
            "issue_date": issue_date,
            "due_date": issue_date,
            "currency": "EUR",
            "seller": party("s", seller_country, seller_vat if seller_vat is not None else default_vat),
            "buyer": party("b", buyer_country, buyer_vat, buyer_region),
            "lines": lines,
            **extra,
        }
    )


def line(category: str = "S", rate: str = "20", price: str = "100") -> dict[str, str]:
    return {"description": "x", "quantity": "1", "unit_price": price, "vat_category": category, "vat_rate": rate}


def rules(sub: PartnerInvoiceSubmitted, severity: str = "error") -> set[tuple[str, str]]:
    return {(f.rule, f.field) for f in validate(sub).findings if f.severity == severity}


def test_there_is_a_pack_for_every_eu_member_state_the_uk_north_america_and_asia_pacific():
    packs = all_packs()
    assert {c for c, p in packs.items() if p.in_eu} == EU_MEMBERS
    assert {"GB", "US", "CA", "AU", "SG", "JP", "NZ"} <= set(packs)
    assert set(STANDARD) | {"US"} == set(packs), "a new pack needs its line in STANDARD"


@pytest.mark.parametrize("code", [*sorted(STANDARD), "US"])
def test_every_pack_states_its_retention_period_and_tax(code):
    pack = pack_for(code)
    assert pack is not None and 3 <= pack.retention_years <= 11
    assert pack.tax_system in ("vat", "sales_tax") and pack.tax_name


@pytest.mark.parametrize("code", sorted(STANDARD))
def test_a_domestic_invoice_at_the_standard_rate_passes_and_a_made_up_rate_fails(code):
    rate, vat_id = STANDARD[code]
    buyer_vat = vat_id
    assert rules(invoice(code, code, [line(rate=rate)], buyer_vat=buyer_vat)) == set()
    assert rules(invoice(code, code, [line(rate="3.3")], buyer_vat=buyer_vat)) == {
        (f"CTRY-{code}-RATE", "lines[0].vat_rate")
    }


@pytest.mark.parametrize("code", sorted(STANDARD))
def test_a_malformed_tax_identifier_is_refused_by_its_country_rule(code):
    prefix = STANDARD[code][1][:2]
    assert (f"CTRY-{code}-VATID", "seller.vat_id") in rules(
        invoice(code, code, [line(rate=STANDARD[code][0])], seller_vat=f"{prefix}0")
    )


def test_rates_follow_the_issue_date():
    # Estonia: 22 % until 30 June 2025, 24 % from 1 July 2025.
    assert rules(invoice("EE", "EE", [line(rate="22")], issue_date="2025-06-30")) == set()
    assert rules(invoice("EE", "EE", [line(rate="22")], issue_date="2025-07-01")) == {
        ("CTRY-EE-RATE", "lines[0].vat_rate")
    }
    assert rules(invoice("SG", "SG", [line(rate="8")], issue_date="2023-06-01")) == set()
    assert rules(invoice("SG", "SG", [line(rate="8")], issue_date="2024-06-01")) == {
        ("CTRY-SG-RATE", "lines[0].vat_rate")
    }


def test_canada_takes_gst_or_the_buyers_provinces_hst():
    assert rules(invoice("CA", "CA", [line(rate="13")], buyer_region="ON")) == set()
    assert rules(invoice("CA", "CA", [line(rate="5")], buyer_region="ON")) == {("CTRY-CA-RATE", "lines[0].vat_rate")}
    assert rules(invoice("CA", "CA", [line(rate="5")], buyer_region="QC")) == set()
    assert rules(invoice("CA", "CA", [line(rate="14")], buyer_region="NS", issue_date="2025-05-01")) == set()
    assert rules(invoice("CA", "CA", [line(rate="15")], buyer_region="NS", issue_date="2025-05-01")) != set()
    message = validate(invoice("CA", "CA", [line(rate="5")], buyer_region="ON")).errors[0].message("en")
    assert "ON" in message and "13" in message


def test_canadian_pst_is_carried_as_supplied():
    sub = invoice(
        "CA", "CA", [line(rate="5")], buyer_region="BC",
        sales_tax=[{"jurisdiction": "CA-BC", "name": "PST", "rate": "7", "taxable_amount": "100", "amount": "7.00"}],
    )  # fmt: skip
    assert rules(sub) == set()


def test_us_invoices_have_no_vat_and_carry_sales_tax_lines_as_supplied():
    taxed = {"sales_tax": [{"jurisdiction": "US-NY", "rate": "8.875", "taxable_amount": "100", "amount": "8.88"}]}
    assert rules(invoice("US", "US", [line("O", "0")], seller_vat="", **taxed)) == set()
    assert rules(invoice("US", "US", [line()], seller_vat="")) >= {("CTRY-US-NOVAT", "lines[0].vat_category")}
    odd = {"sales_tax": [{"jurisdiction": "US-NY", "rate": "8.875", "taxable_amount": "100", "amount": "5.00"}]}
    assert rules(invoice("US", "US", [line("O", "0")], seller_vat="", **odd), "warning") == {
        ("FX-STAX-3", "sales_tax[0].amount")
    }


def test_sales_tax_lines_are_refused_where_vat_applies():
    taxed = {"sales_tax": [{"jurisdiction": "FR", "amount": "1"}]}
    assert ("FX-STAX-1", "sales_tax") in rules(invoice("FR", "FR", [line()], buyer_vat="FR40303265045", **taxed))


def test_intra_eu_reverse_charge_needs_both_vat_ids_and_warns_when_vat_is_charged_across_the_border():
    assert rules(invoice("FR", "DE", [line("AE", "0")], buyer_vat="DE123456789")) == set()
    assert rules(invoice("FR", "DE", [line("AE", "0")])) == {("BR-AE-02", "buyer.vat_id")}
    charged = invoice("FR", "DE", [line(rate="20")], buyer_vat="DE123456789")
    assert rules(charged) == set() and rules(charged, "warning") == {("EU-RC-01", "lines[0].vat_category")}


def test_intra_community_supplies_need_two_member_states_and_exports_a_buyer_outside():
    assert rules(invoice("FR", "FR", [line("K", "0")], buyer_vat="FR40303265045")) == {
        ("EU-IC-01", "lines[0].vat_category")
    }
    assert rules(invoice("FR", "US", [line("K", "0")], buyer_vat="")) >= {("EU-IC-01", "lines[0].vat_category")}
    assert rules(invoice("FR", "DE", [line("G", "0")], buyer_vat="DE123456789")) == {
        ("EU-EXP-01", "lines[0].vat_category")
    }
    assert rules(invoice("FR", "US", [line("G", "0")])) == set()
    assert rules(invoice("FR", "CH", [line(rate="20")]), "warning") == {("EU-EXP-02", "lines[0].vat_category")}


def test_the_uk_is_outside_the_eu_for_vat():
    assert rules(invoice("GB", "FR", [line("G", "0")], buyer_vat="FR40303265045")) == set()
    assert rules(invoice("GB", "GB", [line("G", "0")], buyer_vat="GB123456789")) == {
        ("EU-EXP-01", "lines[0].vat_category")
    }
    assert rules(invoice("GB", "FR", [line("K", "0")], buyer_vat="FR40303265045")) == {
        ("EU-IC-01", "lines[0].vat_category")
    }


def test_japan_needs_a_qualified_invoice_registration_number():
    assert rules(invoice("JP", "JP", [line(rate="10"), line(rate="8")])) == set()
    assert ("CTRY-JP-VATID", "seller.vat_id") in rules(invoice("JP", "JP", [line(rate="10")], seller_vat="JP1234"))


def test_a_country_without_a_pack_is_checked_on_en_16931_only_and_says_so():
    sub = invoice("CH", "FR", [line(rate="8.1")], seller_vat="CHE123456789", buyer_vat="FR40303265045")
    assert rules(sub) == set()
    assert rules(sub, "warning") == {("CTRY-UNKNOWN", "seller.address.country")}


def test_the_retention_period_is_the_longest_of_the_countries_involved():
    assert retention_years("FR") == 10 and retention_years("DE") == 8 and retention_years("AU") == 5
    assert retention_years("AU", "FR") == 10
    assert retention_years("XX") == 10


def test_standard_rates_are_decimals_exactly_as_written():
    assert Decimal("5.5") in pack_for("FR").standard_rates_on(date(2026, 1, 1))  # type: ignore[union-attr]
    assert Decimal("25.5") in pack_for("FI").standard_rates_on(date(2026, 1, 1))  # type: ignore[union-attr]
