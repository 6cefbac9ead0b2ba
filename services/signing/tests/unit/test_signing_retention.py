"""Retention: years per country as data, and the day an archive entry may first be deleted."""

from __future__ import annotations

from datetime import date

import pytest

from signing.domain.retention import DEFAULT_RETENTION_YEARS, RETENTION_YEARS, retain_until, retention_years

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("country", "years"),
    [
        ("FR", 10), ("DE", 10), ("BE", 7), ("ES", 6), ("IT", 10), ("NL", 7), ("GB", 6), ("UK", 6),
        ("US", 7), ("CA", 6), ("AU", 5), ("SG", 5), ("JP", 7), ("NZ", 7),
    ],
)  # fmt: skip
def test_each_country_of_the_table_has_our_chosen_period(country, years):
    assert retention_years(country) == years


def test_a_country_without_a_value_and_a_missing_country_get_the_default_of_ten_years():
    assert DEFAULT_RETENTION_YEARS == 10
    assert retention_years("BR") == retention_years(None) == retention_years("") == 10


def test_country_codes_are_read_without_regard_to_case_or_spaces():
    assert retention_years(" au ") == 5


def test_the_table_cannot_be_changed_at_run_time():
    with pytest.raises(TypeError):
        RETENTION_YEARS["FR"] = 1  # type: ignore[index]


def test_the_longer_period_of_seller_and_buyer_applies_from_the_end_of_the_issue_year_plus_one():
    # Australia keeps 5 years, Germany 10: the German buyer's period wins.
    assert retain_until(date(2025, 3, 1), "AU", "DE") == date(2036, 12, 31)
    assert retain_until(date(2025, 12, 31), "SG", "AU") == date(2031, 12, 31)


def test_an_unknown_buyer_country_falls_back_to_the_default():
    assert retain_until(date(2024, 6, 1), "SG", None) == date(2035, 12, 31)
