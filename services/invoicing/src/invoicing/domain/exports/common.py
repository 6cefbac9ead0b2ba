"""Number and date formatting shared by the XML serialisations."""

from __future__ import annotations

from decimal import Decimal

from contracts.v1 import AllowanceCharge, VatBreakdown
from invoicing.domain.model import ZERO, money

# VATEX codes (BT-121) for the categories with a single EU-wide code; E has several, so none by default.
VATEX = {"AE": "VATEX-EU-AE", "K": "VATEX-EU-IC", "G": "VATEX-EU-G", "O": "VATEX-EU-O"}
EXEMPT_CATEGORIES = {"E", "AE", "K", "G", "O"}


def amount(value: Decimal | None) -> str:
    """Amounts carry exactly two decimals."""
    return f"{money(value if value is not None else ZERO):.2f}"


def plain(value: Decimal) -> str:
    """Quantities, prices and rates as written: '20', '0.335', never '2E+1'."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def category_of(item: AllowanceCharge) -> tuple[str, Decimal]:
    return item.vat_category or "S", item.vat_rate if item.vat_rate is not None else ZERO


def exemption_text(row: VatBreakdown) -> str | None:
    """BT-120: required for exempt and reverse-charge rows, forbidden for S and Z."""
    if row.category not in EXEMPT_CATEGORIES:
        return None
    return row.exemption_reason or row.category
