"""Render the fr/en message templates (subject, plain text, HTML, optional SMS) with Jinja2."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from jinja2 import meta

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
LOCALES: tuple[str, ...] = ("fr", "en")
# File of each part inside templates/<template-id>/; "sms" exists only for SMS-capable messages.
PARTS: dict[str, str] = {
    "subject": "{locale}.subject.txt",
    "text": "{locale}.text.txt",
    "html": "{locale}.html",
    "sms": "{locale}.sms.txt",
}
REQUIRED_PARTS = ("subject", "text", "html")
# Names the renderer supplies itself; a producer never sends them.
PROVIDED_NAMES = frozenset({"subject", "document_attached"})
# Messages about a sealed document attach it by default when the request has a document_ref
# (a request's attach_document overrides this either way).
ATTACHING_TEMPLATES = frozenset({"invoice-delivered", "credit-note-received"})


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One message ready to send; `locale` is the language actually used."""

    subject: str
    text: str
    html: str
    locale: str
    sms: str | None = None


class TemplateError(Exception):
    """Base of the errors raised while rendering a message."""


class UnknownTemplate(TemplateError):
    """No template has this id, or the locale is not one we write in."""

    def __init__(self, template_id: str, locale: str | None = None) -> None:
        self.template_id, self.locale = template_id, locale
        what = f"locale {locale!r} (we write in {', '.join(LOCALES)})" if locale else "template"
        super().__init__(f"unknown {what}: {template_id!r}")


class MissingTemplateParameter(TemplateError):
    """A parameter the template reads was not sent."""

    def __init__(self, template_id: str, locale: str, missing: list[str]) -> None:
        self.template_id, self.locale, self.missing = template_id, locale, missing
        self.parameter = missing[0]
        super().__init__(
            f"template {template_id!r} ({locale}) needs parameter {self.parameter!r} (missing: {', '.join(missing)})"
        )


class InvalidTemplateParameter(TemplateError):
    """A parameter was sent but its value cannot be shown (bad amount, date, URL or key)."""

    def __init__(self, template_id: str, locale: str, detail: str) -> None:
        self.template_id, self.locale, self.detail = template_id, locale, detail
        super().__init__(f"template {template_id!r} ({locale}): {detail}")


# --- filters: the templates pass their own locale, so each file reads as it renders ---

MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "en": "January February March April May June July August September October November December",
}
# ISO 4217 currencies without minor units, so 1500 JPY is never shown as 1,500.00.
ZERO_DECIMAL_CURRENCIES = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW"})
ZERO_DECIMAL_CURRENCIES |= {"PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
NBSP = "\u00a0"


def _group(number: str, locale: str) -> str:
    """Swap Python's en-style separators for the locale's (fr: 1 234,56)."""
    if locale == "fr":
        return number.replace(",", NBSP).replace(".", ",")
    return number


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError(f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def money(amount: object, currency: object, locale: str) -> str:
    """1234.5 EUR → '1 234,50 EUR' (fr) or 'EUR 1,234.50' (en); ISO codes are unambiguous."""
    code = str(currency).upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"currency must be an ISO 4217 code, got {currency!r}")
    places = 0 if code in ZERO_DECIMAL_CURRENCIES else 2
    value = _decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    number = _group(f"{value:,.{places}f}", locale)
    return f"{number}{NBSP}{code}" if locale == "fr" else f"{code}{NBSP}{number}"


def plural(count: object, one: str, other: str, locale: str) -> str:
    """'1 heure', '24 heures'; French treats 0 as singular, English does not."""
    value = _decimal(count)
    if value != value.to_integral_value():
        raise ValueError(f"expected a whole number, got {count!r}")
    n = int(value)
    singular = abs(n) < 2 if locale == "fr" else abs(n) == 1
    return f"{_group(f'{n:,}', locale)} {one if singular else other}"


def _as_date(value: object) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    raise ValueError(f"expected a date, got {value!r}")


def long_date(value: object, locale: str) -> str:
    """2025-07-01 → '1er juillet 2025' (fr) or '1 July 2025' (en)."""
    day = _as_date(value)
    month = MONTHS[locale].split()[day.month - 1]
    number = "1er" if locale == "fr" and day.day == 1 else str(day.day)
    return f"{number} {month} {day.year}"


def _as_utc(value: object) -> datetime:
    """Naive values are taken as UTC, which is what every producer stores."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise ValueError(f"expected a date and time, got {value!r}")
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def long_datetime(value: object, locale: str) -> str:
    """Shown in UTC so a reader in any country can compare it with their own logs."""
    moment = _as_utc(value)
    if locale == "fr":
        return f"{long_date(moment, locale)} à {moment.hour} h {moment:%M} UTC"
    return f"{long_date(moment, locale)} at {moment:%H:%M} UTC"


def compact_datetime(value: object) -> str:
    """ISO-like '2025-07-31 14:05 UTC': short, unambiguous, and plain ASCII for SMS."""
    moment = _as_utc(value)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def web_url(value: object) -> str:
    """Only http(s) links reach a message, so a bad parameter cannot smuggle javascript: in."""
    url = str(value)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or any(c.isspace() for c in url):
        raise ValueError(f"expected an http(s) URL, got {url[:80]!r}")
    return url


def pick(options: Mapping[str, str], key: object, parameter: str) -> str:
    """Look a key up in a template's label table, naming the parameter when it is unknown."""
    if not isinstance(key, str) or key not in options:
        raise ValueError(f"parameter {parameter!r} must be one of {sorted(options)}, got {key!r}")
    return options[key]


FILTERS = {
    "money": money,
    "plural": plural,
    "long_date": long_date,
    "long_datetime": long_datetime,
    "compact_datetime": compact_datetime,
    "web_url": web_url,
}


class TemplateRenderer:
    """Loads and compiles every template once at start-up; rendering is then pure CPU."""

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",)),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self._env.filters.update(FILTERS)
        self._env.globals["pick"] = pick
        self._names = frozenset(self._env.list_templates())
        self._locales: dict[str, tuple[str, ...]] = {}
        self._required: dict[str, frozenset[str]] = {}
        for template_id in sorted({n.split("/", 1)[0] for n in self._names if "/" in n}):
            if template_id.startswith("_"):
                continue
            locales = tuple(
                loc
                for loc in LOCALES
                if all(self._file(template_id, loc, part) in self._names for part in REQUIRED_PARTS)
            )
            if locales:
                self._locales[template_id] = locales
                self._required[template_id] = self._find_required(template_id, locales)

    @property
    def template_ids(self) -> frozenset[str]:
        return frozenset(self._locales)

    def locales(self, template_id: str) -> tuple[str, ...]:
        if template_id not in self._locales:
            raise UnknownTemplate(template_id)
        return self._locales[template_id]

    def required_params(self, template_id: str) -> set[str]:
        """Every parameter any part reads, in any locale; None is accepted for optional facts."""
        if template_id not in self._required:
            raise UnknownTemplate(template_id)
        return set(self._required[template_id])

    def render(
        self, template_id: str, locale: str, params: Mapping[str, Any], *, document_attached: bool = False
    ) -> RenderedMessage:
        """All parts in `locale`; `document_attached` lets a template say the document is attached."""
        if locale not in LOCALES:
            raise UnknownTemplate(template_id, locale)
        available = self.locales(template_id)
        used = locale if locale in available else available[0]
        missing = sorted(self._required[template_id] - params.keys())
        if missing:
            raise MissingTemplateParameter(template_id, used, missing)
        context = {k: v for k, v in params.items() if k not in PROVIDED_NAMES}
        context["document_attached"] = document_attached
        try:
            # A subject is one header line: collapsing whitespace also rules out header injection.
            subject = " ".join(self._render(template_id, used, "subject", context).split())
            text = self._render(template_id, used, "text", context).strip() + "\n"
            html = self._render(template_id, used, "html", {**context, "subject": subject})
            sms = None
            if self._file(template_id, used, "sms") in self._names:
                sms = " ".join(self._render(template_id, used, "sms", context).split())
        except (ValueError, TypeError, ArithmeticError, jinja2.UndefinedError) as exc:
            raise InvalidTemplateParameter(template_id, used, str(exc)) from exc
        return RenderedMessage(subject=subject, text=text, html=html, locale=used, sms=sms)

    @staticmethod
    def _file(template_id: str, locale: str, part: str) -> str:
        return f"{template_id}/{PARTS[part].format(locale=locale)}"

    def _render(self, template_id: str, locale: str, part: str, context: Mapping[str, Any]) -> str:
        return self._env.get_template(self._file(template_id, locale, part)).render(context)

    def _find_required(self, template_id: str, locales: tuple[str, ...]) -> frozenset[str]:
        names: set[str] = set()
        for loc in locales:
            for part in PARTS:
                if (name := self._file(template_id, loc, part)) in self._names:
                    names |= self._undeclared(name, set())
        return frozenset(names - PROVIDED_NAMES - set(self._env.globals))

    def _undeclared(self, name: str, seen: set[str]) -> set[str]:
        """Variables a template reads, following extends/include/import; compiles it on the way."""
        seen.add(name)
        source, _, _ = self._env.loader.get_source(self._env, name)  # type: ignore[union-attr]
        ast = self._env.parse(source)
        self._env.get_template(name)  # a syntax error fails start-up, not the first message
        found = set(meta.find_undeclared_variables(ast))
        for ref in meta.find_referenced_templates(ast):
            if ref is None:
                raise TemplateError(f"{name}: template references must be literal strings")
            if ref not in seen:
                found |= self._undeclared(ref, seen)
        return found
