"""Every template renders in both languages; escaping, strictness and formatting hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from notifications.adapters.templating import (
    LOCALES,
    InvalidTemplateParameter,
    MissingTemplateParameter,
    TemplateRenderer,
    UnknownTemplate,
    long_date,
    long_datetime,
    money,
    plural,
)

pytestmark = pytest.mark.unit

PORTAL = "https://portal.factora.test"
SECURITY_EVENTS = [
    "password_changed",
    "email_changed",
    "mfa_changed",
    "mfa_reset",
    "recovery_codes_regenerated",
    "admin_rights_transferred",
    "rights_changed",
    "access_removed",
    "invoice_withdrawn",
    "new_device_sign_in",
]
INVOICE_STATUSES = ["delivered", "sealing_failed", "in_review", "approved", "rejected", "paid"]

# One realistic parameter set per template; keys must equal required_params() exactly.
SAMPLES: dict[str, dict[str, object]] = {
    "email-verification": {
        "recipient_name": "Camille Martin",
        "verification_url": f"{PORTAL}/verify?token=abc",
        "expires_in_hours": 24,
    },
    "invitation": {
        "inviter_name": "Camille Martin",
        "company_name": "Atelier Durand SARL",
        "invitation_url": f"{PORTAL}/invitations/xyz",
        "expires_in_days": 7,
    },
    "password-reset": {
        "recipient_name": "Camille Martin",
        "reset_url": f"{PORTAL}/reset?token=abc",
        "expires_in_minutes": 30,
    },
    "username-reminder": {
        "recipient_name": "Camille Martin",
        "username": "camille.martin@atelier-durand.fr",
        "login_url": f"{PORTAL}/login",
    },
    "mfa-code": {"code": "482913", "expires_in_minutes": 10},
    "recovery-code-used": {
        "recipient_name": "Camille Martin",
        "used_at": "2025-08-01T09:30:00Z",
        "codes_remaining": 2,
        "security_url": f"{PORTAL}/security",
    },
    "security-alert": {
        "recipient_name": "Camille Martin",
        "event": "mfa_changed",
        "occurred_at": datetime(2025, 8, 1, 9, 30, tzinfo=UTC),
        "ip_address": "203.0.113.7",
        "security_url": f"{PORTAL}/security",
    },
    "invoice-delivered": {
        "seller_name": "Atelier Durand SARL",
        "invoice_number": "F-2025-0042",
        "amount": Decimal("1234.50"),
        "currency": "EUR",
        "due_date": date(2025, 9, 1),
        "document_url": f"{PORTAL}/archive/inv-42",
    },
    "invoice-status-changed": {
        "buyer_name": "Boulangerie Petit SAS",
        "invoice_number": "F-2025-0042",
        "status": "rejected",
        "reason": "Purchase order number missing",
        "invoice_url": f"{PORTAL}/invoices/inv-42",
    },
    "credit-note-received": {
        "seller_name": "Atelier Durand SARL",
        "credit_note_number": "AV-2025-0003",
        "invoice_number": "F-2025-0042",
        "amount": "200.00",
        "currency": "EUR",
        "document_url": f"{PORTAL}/archive/cn-3",
    },
    "invoice-withdrawn": {
        "seller_name": "Atelier Durand SARL",
        "invoice_number": "F-2025-0042",
        "reason": "Sent to the wrong customer",
        "invoice_url": f"{PORTAL}/invoices/inv-42",
    },
    "support-case-opened": {
        "recipient_name": "Camille Martin",
        "case_reference": "CS-10087",
        "case_subject": "Cannot download my archive",
        "case_url": f"{PORTAL}/support/cases/10087",
    },
    "support-case-answered": {
        "recipient_name": "Camille Martin",
        "case_reference": "CS-10087",
        "case_subject": "Cannot download my archive",
        "case_url": f"{PORTAL}/support/cases/10087",
    },
    "support-case-resolved": {
        "recipient_name": "Camille Martin",
        "case_reference": "CS-10087",
        "case_subject": "Cannot download my archive",
        "case_url": f"{PORTAL}/support/cases/10087",
    },
    "low-credits": {
        "recipient_name": "Camille Martin",
        "company_name": "Atelier Durand SARL",
        "credits_remaining": 5,
        "billing_url": f"{PORTAL}/billing",
    },
    "purchase-receipt": {
        "recipient_name": "Camille Martin",
        "company_name": "Atelier Durand SARL",
        "credits_purchased": 1000,
        "amount": "250",
        "currency": "EUR",
        "purchased_at": "2025-08-01T09:30:00+02:00",
        "receipt_number": "R-2025-0815",
        "billing_url": f"{PORTAL}/billing",
    },
}
# Parameters drawn from a fixed vocabulary or parsed as numbers, dates or links.
STRUCTURED = {"event", "status", "currency", "amount"}
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def test_every_template_has_a_sample_matching_its_required_params(renderer: TemplateRenderer) -> None:
    assert set(SAMPLES) == renderer.template_ids
    for template_id, params in SAMPLES.items():
        assert renderer.required_params(template_id) == set(params), template_id
        assert renderer.locales(template_id) == LOCALES


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template_id", sorted(SAMPLES))
def test_every_template_renders_subject_text_and_html(
    renderer: TemplateRenderer, template_id: str, locale: str
) -> None:
    message = renderer.render(template_id, locale, SAMPLES[template_id])

    assert message.locale == locale
    assert message.subject and "\n" not in message.subject and len(message.subject) < 120
    assert message.text.strip() and message.html.strip()
    assert f'<html lang="{locale}">' in message.html
    assert "Factora" in message.text and "Factora" in message.html
    for part in (message.subject, message.text, message.html):
        assert "{{" not in part and "{%" not in part and "None" not in part


@pytest.mark.parametrize("template_id", sorted(SAMPLES))
def test_html_escapes_every_free_text_parameter(renderer: TemplateRenderer, template_id: str) -> None:
    attack = "<script>alert(1)</script>"
    params = {
        key: attack if isinstance(value, str) and key not in STRUCTURED and not key.endswith(("_url", "_at")) else value
        for key, value in SAMPLES[template_id].items()
    }
    for locale in LOCALES:
        html = renderer.render(template_id, locale, params).html
        assert "<script>" not in html
        if params != SAMPLES[template_id]:
            assert "&lt;script&gt;" in html


def test_missing_parameter_names_template_locale_and_parameter(renderer: TemplateRenderer) -> None:
    params = dict(SAMPLES["invoice-delivered"])
    del params["due_date"]

    with pytest.raises(MissingTemplateParameter) as caught:
        renderer.render("invoice-delivered", "en", params)

    assert (caught.value.template_id, caught.value.locale, caught.value.parameter) == (
        "invoice-delivered",
        "en",
        "due_date",
    )
    assert "due_date" in str(caught.value)


def test_unknown_template_or_locale_is_refused(renderer: TemplateRenderer) -> None:
    with pytest.raises(UnknownTemplate):
        renderer.render("invoice-teleported", "fr", {})
    with pytest.raises(UnknownTemplate):
        renderer.render("mfa-code", "de", SAMPLES["mfa-code"])
    with pytest.raises(UnknownTemplate):
        renderer.required_params("invoice-teleported")


def test_optional_facts_accept_none(renderer: TemplateRenderer) -> None:
    delivered = renderer.render("invoice-delivered", "fr", {**SAMPLES["invoice-delivered"], "due_date": None})
    alert = renderer.render("security-alert", "en", {**SAMPLES["security-alert"], "ip_address": None})

    assert "Échéance" not in delivered.text and "Échéance" not in delivered.html
    assert "IP address" not in alert.text


def test_invoice_delivered_shows_amount_due_date_and_link(renderer: TemplateRenderer) -> None:
    fr = renderer.render("invoice-delivered", "fr", SAMPLES["invoice-delivered"])
    en = renderer.render("invoice-delivered", "en", SAMPLES["invoice-delivered"])

    assert "1\u00a0234,50\u00a0EUR" in fr.text and "1er septembre 2025" in fr.text
    assert "EUR\u00a01,234.50" in en.text and "1 September 2025" in en.text
    assert f"{PORTAL}/archive/inv-42" in fr.text
    assert f'href="{PORTAL}/archive/inv-42"' in fr.html
    assert fr.subject == "Nouvelle facture F-2025-0042 émise par Atelier Durand SARL"


@pytest.mark.parametrize("status", INVOICE_STATUSES)
def test_every_invoice_status_has_wording(renderer: TemplateRenderer, status: str) -> None:
    for locale in LOCALES:
        message = renderer.render(
            "invoice-status-changed", locale, {**SAMPLES["invoice-status-changed"], "status": status}
        )
        assert message.subject.startswith(("Facture F-2025-0042 : ", "Invoice F-2025-0042: "))


@pytest.mark.parametrize(
    ("template_id", "key", "value", "hint"),
    [
        ("security-alert", "event", "account_hacked", "event"),
        ("invoice-status-changed", "status", "lost", "status"),
        ("invoice-delivered", "amount", "a lot", "a lot"),
        ("invoice-delivered", "currency", "euros", "ISO 4217"),
        ("invoice-delivered", "document_url", "javascript:alert(1)", "http(s) URL"),
        ("invoice-delivered", "due_date", "next week", "next week"),
        ("mfa-code", "expires_in_minutes", "ten", "ten"),
    ],
)
def test_unusable_values_raise_invalid_parameter(
    renderer: TemplateRenderer, template_id: str, key: str, value: object, hint: str
) -> None:
    with pytest.raises(InvalidTemplateParameter) as caught:
        renderer.render(template_id, "en", {**SAMPLES[template_id], key: value})
    assert hint in str(caught.value)


def test_sms_parts_exist_only_where_messages_may_go_by_sms(renderer: TemplateRenderer) -> None:
    with_sms = {t for t in SAMPLES if renderer.render(t, "fr", SAMPLES[t]).sms is not None}
    assert with_sms == {"mfa-code", "security-alert"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("event", SECURITY_EVENTS)
def test_sms_fit_one_gsm7_segment(renderer: TemplateRenderer, locale: str, event: str) -> None:
    # August and the 1st are the longest month and the French "1er" day.
    alert = {**SAMPLES["security-alert"], "event": event, "occurred_at": "2025-08-01T23:59:00Z"}
    for template_id, params in (("security-alert", alert), ("mfa-code", SAMPLES["mfa-code"])):
        sms = renderer.render(template_id, locale, params).sms
        assert sms is not None
        assert len(sms) <= 160, sms
        assert set(sms) <= GSM7, set(sms) - GSM7


def test_locale_falls_back_to_the_other_language(tmp_path) -> None:
    folder = tmp_path / "only-french"
    folder.mkdir()
    (folder / "fr.subject.txt").write_text("Sujet {{ name }}")
    (folder / "fr.text.txt").write_text("Texte {{ name }}")
    (folder / "fr.html").write_text("<p>{{ name }}</p>")

    message = TemplateRenderer(tmp_path).render("only-french", "en", {"name": "A&B"})

    assert (message.locale, message.subject, message.html) == ("fr", "Sujet A&B", "<p>A&amp;B</p>")


def test_money_formats_by_locale_and_currency() -> None:
    assert money("1234567.891", "eur", "fr") == "1\u00a0234\u00a0567,89\u00a0EUR"
    assert money(Decimal("-5"), "USD", "en") == "USD\u00a0-5.00"
    assert money(1500, "JPY", "en") == "JPY\u00a01,500"
    assert money("0.005", "EUR", "en") == "EUR\u00a00.01"


def test_dates_are_long_and_times_are_utc() -> None:
    paris = timezone(timedelta(hours=2))
    assert long_date("2025-08-01", "fr") == "1er août 2025"
    assert long_date(date(2025, 8, 2), "en") == "2 August 2025"
    assert long_datetime(datetime(2025, 8, 1, 11, 5, tzinfo=paris), "fr") == "1er août 2025 à 9 h 05 UTC"
    assert long_datetime("2025-12-31T23:30:00Z", "en") == "31 December 2025 at 23:30 UTC"


def test_plural_follows_each_language() -> None:
    assert plural(0, "jour", "jours", "fr") == "0 jour"
    assert plural(0, "day", "days", "en") == "0 days"
    assert plural(1, "day", "days", "en") == "1 day"
    assert plural(10000, "transaction", "transactions", "fr") == "10\u00a0000 transactions"
