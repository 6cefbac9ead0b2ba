"""Locale formatting of amounts, numbers, rates and dates on invoices."""

from datetime import date
from decimal import Decimal

import pytest

from signing.documents import labels as lx

pytestmark = pytest.mark.unit


def _plain(text: str) -> str:
    # French output uses no-break spaces; compare with ordinary ones.
    return text.replace(lx.NBSP, " ").replace(lx.NNBSP, " ")


@pytest.mark.parametrize(
    ("value", "fr", "en"),
    [
        ("1234.56", "1 234,56 €", "€1,234.56"),
        ("0", "0,00 €", "€0.00"),
        ("-1234567.8", "-1 234 567,80 €", "-€1,234,567.80"),
        ("999.999", "1 000,00 €", "€1,000.00"),
    ],
)
def test_amounts_follow_the_reader_locale(value, fr, en):
    assert _plain(lx.format_amount("fr", Decimal(value), "EUR")) == fr
    assert _plain(lx.format_amount("en", Decimal(value), "EUR")) == en


def test_french_amounts_keep_digits_and_symbol_on_one_line():
    text = lx.format_amount("fr", Decimal("1234.56"), "EUR")
    assert text == f"1{lx.NNBSP}234,56{lx.NBSP}€"


def test_currencies_without_symbol_show_their_code_and_minor_units():
    assert _plain(lx.format_amount("en", Decimal("1500"), "CHF")) == "CHF 1,500.00"
    assert _plain(lx.format_amount("fr", Decimal("1500"), "JPY")) == "1 500 JPY"


def test_quantities_and_rates_drop_useless_zeros():
    assert lx.format_number("fr", Decimal("2.500")) == "2,5"
    assert lx.format_number("en", Decimal("3.000")) == "3"
    assert _plain(lx.format_rate("fr", Decimal("5.50"))) == "5,5 %"
    assert lx.format_rate("en", Decimal("20.00")) == "20%"


def test_dates_are_written_out_in_the_reader_language():
    assert lx.format_date("fr", date(2025, 2, 14)) == "14 février 2025"
    assert lx.format_date("en", date(2025, 2, 14)) == "14 February 2025"


def test_reverse_charge_mention_is_worded_per_locale():
    assert lx.vat_mention("fr", "AE", None).startswith("Autoliquidation")
    assert lx.vat_mention("en", "AE", None).startswith("Reverse charge")


def test_issuer_exemption_reason_is_added_unless_already_said():
    assert lx.vat_mention("en", "E", "Exempt from VAT.") == "Exempt from VAT."
    assert lx.vat_mention("en", "E", "Article 132(1)(g)").endswith("Article 132(1)(g)")


def test_every_label_exists_in_both_locales():
    assert lx.LABELS["fr"].keys() == lx.LABELS["en"].keys()
    assert lx.VAT_MENTION["fr"].keys() == lx.VAT_MENTION["en"].keys() == lx.EXEMPT_CATEGORIES


@pytest.mark.parametrize(
    ("postcode", "city", "country", "line"),
    [
        ("75005", "Paris", "FR", "75005 Paris (FR)"),
        ("1040", "Bruxelles", "BE", "1040 Bruxelles (BE)"),
        ("D02 X576", "Dublin", "IE", "Dublin D02 X576 (IE)"),
        ("SW1A 1AA", "London", "GB", "London SW1A 1AA (GB)"),
    ],
)
def test_the_town_line_puts_the_post_code_where_the_country_writes_it(postcode, city, country, line):
    assert lx.town_line(postcode, city, country) == line


def test_the_note_follows_each_language_s_punctuation():
    assert lx.label("fr", "note").format(note="Merci") == "Note\u00a0: Merci"
    assert lx.label("en", "note").format(note="Thanks") == "Note: Thanks"
