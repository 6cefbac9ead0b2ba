"""Checks of what members type: e-mail, country, VAT id, phone number, locale."""

from __future__ import annotations

import re

import phonenumbers

LOCALES = ("fr", "en")
# EU VAT prefixes differ from ISO codes in two places: Greece (EL) and Northern Ireland (XI).
VAT_PREFIX = {"GR": "EL"}
# fmt: off
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
_VAT_BODY = re.compile(r"^[A-Z0-9+*]{2,12}$")


def normalise_email(email: str) -> str:
    """The login form of an address: trimmed and lower case (logins are case-insensitive)."""
    return email.strip().lower()


def country_problem(country: str) -> str | None:
    """Why `country` is not an ISO 3166-1 alpha-2 code we know, or None."""
    if country not in phonenumbers.SUPPORTED_REGIONS:
        return "use the two-letter ISO 3166-1 code of the country, e.g. FR, BE, DE, GB, US"
    return None


def normalise_vat_id(vat_id: str) -> str:
    """Upper case without spaces, dots or dashes (FR 40 303 265 045 -> FR40303265045)."""
    return re.sub(r"[\s.\-]", "", vat_id).upper()


def vat_problem(vat_id: str, country: str) -> str | None:
    """Why a VAT id cannot be right for a company of `country`, or None.

    A format check only (prefix and characters); checking it against VIES is left to a later version.
    """
    prefix = VAT_PREFIX.get(country, country)
    if country in EU_COUNTRIES or country in ("GB", "CH", "NO"):
        expected = ("XI", "GB") if country == "GB" else (prefix,)
        if not vat_id.startswith(expected):
            return (
                f"a VAT id of a company in {country} starts with {' or '.join(expected)}, e.g. {expected[0]}123456789"
            )
        if not _VAT_BODY.match(vat_id[2:]):
            return "after the country prefix, a VAT id has 2 to 12 letters or digits"
    elif not re.match(r"^[A-Z0-9+*]{4,20}$", vat_id):
        return "a VAT or GST id has 4 to 20 letters or digits"
    return None


def normalise_phone(phone: str, default_country: str | None = None) -> str | None:
    """E.164 form (+33612345678) of a valid number, or None; national forms need the country."""
    try:
        parsed = phonenumbers.parse(phone, default_country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str | None) -> str | None:
    """+33612345678 -> +33•••••5678, for screens and e-mails."""
    if not phone:
        return None
    return phone[:3] + "•" * max(0, len(phone) - 7) + phone[-4:]
