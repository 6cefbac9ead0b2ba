"""Country packs: tax rates, identifier formats and retention periods per country, kept as data.

Each country is one TOML file in `packs/` (see fr.toml or ca.toml for the fields). Adding a
country is adding its file and a test; the rules in `invoicing.domain.countries.rules` read
only what the packs say.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

PACKS_DIR = Path(__file__).parent / "packs"


@dataclass(frozen=True)
class DatedRate:
    """A VAT/GST rate in percent, valid for issue dates from `since` to `until` (both inclusive, open if None)."""

    rate: Decimal
    since: date | None = None
    until: date | None = None
    region: str | None = None

    def applies_on(self, day: date) -> bool:
        return (self.since is None or self.since <= day) and (self.until is None or day <= self.until)


@dataclass(frozen=True)
class CountryPack:
    """What Factora knows about invoicing in one country."""

    code: str
    name: str
    vat_area: str  # "EU" for member states, else the country's own code
    tax_name: str
    tax_system: str  # "vat": EN 16931 VAT categories; "sales_tax": no VAT, sales taxes supplied
    retention_years: int
    vat_id_prefix: str | None = None
    vat_id_pattern: str | None = None
    sales_tax_supplied: bool = False
    rates: tuple[DatedRate, ...] = ()
    regional_rates: tuple[DatedRate, ...] = field(default=())

    @property
    def in_eu(self) -> bool:
        return self.vat_area == "EU"

    def standard_rates_on(self, day: date, region: str | None = None) -> set[Decimal]:
        """Rates a standard-rated (S) line may carry on `day`; a region with its own rate uses only that."""
        if region:
            regional = {r.rate for r in self.regional_rates if r.region == region.upper() and r.applies_on(day)}
            if regional:
                return regional
            if any(r.region == region.upper() for r in self.regional_rates):
                return set()
            return {r.rate for r in self.rates if r.applies_on(day)}
        return {r.rate for r in (*self.rates, *self.regional_rates) if r.applies_on(day)}

    def vat_id_is_valid(self, vat_id: str) -> bool:
        return self.vat_id_pattern is None or re.fullmatch(self.vat_id_pattern, vat_id) is not None


def _dated(entry: dict, region: str | None = None) -> DatedRate:
    return DatedRate(
        rate=Decimal(str(entry["rate"])),
        since=entry.get("since"),
        until=entry.get("until"),
        region=entry.get("region", region),
    )


def load_pack(path: Path) -> CountryPack:
    """One country pack from its TOML file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return CountryPack(
        code=data["code"],
        name=data["name"],
        vat_area=data["vat_area"],
        tax_name=data["tax_name"],
        tax_system=data["tax_system"],
        retention_years=int(data["retention_years"]),
        vat_id_prefix=data.get("vat_id_prefix"),
        vat_id_pattern=data.get("vat_id_pattern"),
        sales_tax_supplied=bool(data.get("sales_tax_supplied", False)),
        rates=tuple(_dated(r) for r in data.get("rates", [])),
        regional_rates=tuple(_dated(r) for r in data.get("regional_rates", [])),
    )


@cache
def all_packs() -> dict[str, CountryPack]:
    """Every country pack by ISO 3166-1 alpha-2 code."""
    packs = (load_pack(path) for path in sorted(PACKS_DIR.glob("*.toml")))
    return {pack.code: pack for pack in packs}


def pack_for(country: str) -> CountryPack | None:
    """The pack of a country, or None when Factora has none for it."""
    return all_packs().get(country.upper())


def pack_for_vat_id(vat_id: str) -> CountryPack | None:
    """The pack whose VAT identifier prefix `vat_id` carries (EL for Greece), or None."""
    prefix = vat_id[:2].upper()
    return next((p for p in all_packs().values() if p.vat_id_prefix == prefix), None)


DEFAULT_RETENTION_YEARS = 10


def retention_years(*countries: str) -> int:
    """The longest retention period among the countries involved (unknown countries count as 10 years)."""
    return max((p.retention_years if (p := pack_for(c)) else DEFAULT_RETENTION_YEARS) for c in countries)
