"""How long the archive keeps a sealed invoice: years per country, as data, and the date they end."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

# Years an invoice is kept, by ISO 3166-1 country code. These are OUR CHOSEN VALUES,
# set from the longest commercial or tax period we found for each country and rounded
# up; they are not legal advice, and a country pack may lengthen them. A change here
# applies to invoices sealed afterwards: stored entries keep the date they were given.
RETENTION_YEARS: Mapping[str, int] = MappingProxyType(
    {
        "FR": 10,
        "DE": 10,
        "BE": 7,
        "ES": 6,
        "IT": 10,
        "NL": 7,
        "GB": 6,
        "UK": 6,  # not an ISO code, but partners send it
        "US": 7,
        "CA": 6,
        "AU": 5,
        "SG": 5,
        "JP": 7,
        "NZ": 7,
    }
)
DEFAULT_RETENTION_YEARS = 10


def retention_years(country: str | None) -> int:
    """Years an invoice of `country` is kept; the default for a country we have no value for."""
    if not country:
        return DEFAULT_RETENTION_YEARS
    return RETENTION_YEARS.get(country.strip().upper(), DEFAULT_RETENTION_YEARS)


def retain_until(issue_date: date, seller_country: str, buyer_country: str | None) -> date:
    """The last day the archive must keep the invoice.

    Seller and buyer both rely on our copy, so the longer of their two periods applies.
    Periods run from the end of the financial year; since we do not know each party's
    year end, we count from the end of the calendar year of issue and add one year,
    which covers any financial year that closes after 31 December.
    """
    years = max(retention_years(seller_country), retention_years(buyer_country))
    return date(issue_date.year + years + 1, 12, 31)
