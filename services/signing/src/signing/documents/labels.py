"""Invoice wording and number, date and amount formatting for the "fr" and "en" locales."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Locale = Literal["fr", "en"]

NBSP = "\u00a0"
# French groups thousands with a narrow no-break space (CLDR), and keeps the unit on the line.
NNBSP = "\u202f"

LABELS: dict[Locale, dict[str, str]] = {
    "fr": {
        "380": "Facture",
        "381": "Avoir",
        "number": "Numéro",
        "issue_date": "Date d'émission",
        "due_date": "Date d'échéance",
        "purchase_order": "Votre commande",
        "buyer": "Destinataire",
        "vat_id": "N° TVA",
        "description": "Désignation",
        "quantity": "Qté",
        "unit": "Unité",
        "unit_price": "Prix unit. HT",
        "vat_rate": "TVA",
        "net": "Montant HT",
        "vat_breakdown": "Détail de la TVA",
        "taxable": "Base HT",
        "tax": "TVA",
        "line_total": "Total des lignes HT",
        "tax_exclusive": "Total HT",
        "tax_total": "Total TVA",
        "tax_inclusive": "Total TTC",
        "payable": "Net à payer",
        "pay_by": "À régler au plus tard le {date}.",
        # French puts a (no-break) space before a colon; English does not.
        "note": "Note\u00a0: {note}",
        "page": "Page {page}/{pages}",
    },
    "en": {
        "380": "Invoice",
        "381": "Credit note",
        "number": "Number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "purchase_order": "Your order",
        "buyer": "Bill to",
        "vat_id": "VAT no.",
        "description": "Description",
        "quantity": "Qty",
        "unit": "Unit",
        "unit_price": "Unit price",
        "vat_rate": "VAT",
        "net": "Net amount",
        "vat_breakdown": "VAT summary",
        "taxable": "Taxable amount",
        "tax": "VAT",
        "line_total": "Lines total (net)",
        "tax_exclusive": "Total excl. VAT",
        "tax_total": "Total VAT",
        "tax_inclusive": "Total incl. VAT",
        "payable": "Amount due",
        "pay_by": "Please pay by {date}.",
        "note": "Note: {note}",
        "page": "Page {page}/{pages}",
    },
}

# Short names of the VAT categories (BT-118), for the VAT summary table.
VAT_CATEGORY_TEXT: dict[Locale, dict[str, str]] = {
    "fr": {
        "S": "Taux normal",
        "Z": "Taux zéro",
        "E": "Exonération",
        "AE": "Autoliquidation",
        "K": "Livraison intracommunautaire",
        "G": "Exportation",
        "O": "Hors champ de la TVA",
    },
    "en": {
        "S": "Standard rate",
        "Z": "Zero rated",
        "E": "Exempt",
        "AE": "Reverse charge",
        "K": "Intra-Community supply",
        "G": "Export",
        "O": "Not subject to VAT",
    },
}
# What the reader must be told when a line carries no VAT, and why (printed and BT-120).
VAT_MENTION: dict[Locale, dict[str, str]] = {
    "fr": {
        "E": "Exonération de TVA.",
        "AE": "Autoliquidation : la TVA est due par le preneur (art. 196 directive 2006/112/CE).",
        "K": "Exonération de TVA, livraison intracommunautaire (art. 138 directive 2006/112/CE).",
        "G": "Exonération de TVA, exportation hors de l'UE (art. 146 directive 2006/112/CE).",
        "O": "Opération hors du champ d'application de la TVA.",
    },
    "en": {
        "E": "Exempt from VAT.",
        "AE": "Reverse charge: VAT to be accounted for by the customer (Art. 196 Dir. 2006/112/EC).",
        "K": "VAT exempt intra-Community supply (Art. 138 Directive 2006/112/EC).",
        "G": "VAT exempt export outside the EU (Art. 146 Directive 2006/112/EC).",
        "O": "Not subject to VAT.",
    },
}
EXEMPT_CATEGORIES = frozenset({"E", "AE", "K", "G", "O"})

# fmt: off
_MONTHS: dict[Locale, tuple[str, ...]] = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}

# Common UN/ECE Rec 20 codes (BT-130); any other code is shown as is.
_UNITS: dict[Locale, dict[str, str]] = {
    "fr": {"C62": "u.", "H87": "pièce", "EA": "u.", "HUR": "h", "DAY": "jour", "MON": "mois",
           "ANN": "an", "KGM": "kg", "GRM": "g", "MTR": "m", "MTK": "m²", "LTR": "l",
           "KWH": "kWh", "SET": "lot"},
    "en": {"C62": "unit", "H87": "piece", "EA": "each", "HUR": "h", "DAY": "day", "MON": "month",
           "ANN": "year", "KGM": "kg", "GRM": "g", "MTR": "m", "MTK": "m²", "LTR": "l",
           "KWH": "kWh", "SET": "set"},
}
# fmt: on

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "HUF": 2}


# Where the post code follows the town on an address line ("Dublin D02 X576"); elsewhere it leads.
_POSTCODE_AFTER_TOWN = frozenset({"GB", "UK", "IE", "US", "CA", "AU", "NZ", "SG"})


def town_line(postcode: str, city: str, country: str) -> str:
    """The town line of an address as its country writes it, with the country code: "75005 Paris (FR)"."""
    if country.upper() in _POSTCODE_AFTER_TOWN:
        return f"{city} {postcode} ({country})"
    return f"{postcode} {city} ({country})"


def label(locale: Locale, key: str) -> str:
    return LABELS[locale][key]


def unit_name(locale: Locale, code: str) -> str:
    return _UNITS[locale].get(code, code)


def format_date(locale: Locale, value: date) -> str:
    return f"{value.day} {_MONTHS[locale][value.month - 1]} {value.year}"


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


def format_number(locale: Locale, value: Decimal, places: int | None = None) -> str:
    """Locale digits: fr "1 234,5", en "1,234.5"; `places` fixes decimals, else trims zeros."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        text = f"{abs(value):.{places}f}"
    else:
        text = f"{abs(value.normalize()):f}"
    whole, _, frac = text.partition(".")
    sep, point = (NNBSP, ",") if locale == "fr" else (",", ".")
    out = _group(whole, sep) + (point + frac if frac else "")
    return ("-" if value < 0 else "") + out


def format_amount(locale: Locale, value: Decimal, currency: str) -> str:
    """fr "1 234,56 €", en "€1,234.56"; currencies without a symbol keep their ISO code."""
    number = format_number(locale, value, _MINOR_UNITS.get(currency, 2))
    symbol = _SYMBOLS.get(currency)
    if locale == "fr":
        return f"{number}{NBSP}{symbol or currency}"
    if symbol:
        sign, digits = ("-", number[1:]) if number.startswith("-") else ("", number)
        return f"{sign}{symbol}{digits}"
    return f"{currency}{NBSP}{number}"


def format_rate(locale: Locale, rate: Decimal) -> str:
    number = format_number(locale, rate)
    return f"{number}{NBSP}%" if locale == "fr" else f"{number}%"


def vat_mention(locale: Locale, category: str, reason: str | None) -> str:
    """The sentence printed for an exempt or reverse-charge category, plus the issuer's reason."""
    mention = VAT_MENTION[locale][category]
    if reason and reason.strip().casefold() not in mention.casefold():
        return f"{mention} {reason.strip()}"
    return mention
