"""Message building, address checks and settings rules of the SMTP adapter (no network)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from pydantic import SecretStr, ValidationError

from notifications.adapters import SendOutcome, SendResult
from notifications.adapters.mailer import (
    Attachment,
    OutgoingEmail,
    SmtpMailer,
    SmtpSettings,
    address_is_valid,
    build_message,
    message_bytes,
    message_id,
)

pytestmark = pytest.mark.unit

SETTINGS = SmtpSettings(from_address="no-reply@factora.test", message_id_domain="mail.factora.test")
LEDGER_ID = "6f1c2a4e-9d0b-4c57-8a55-3e2f7b1d9c10"


def outgoing(**changes: object) -> OutgoingEmail:
    fields: dict[str, object] = {
        "ledger_id": LEDGER_ID,
        "to": "buyer@example.com",
        "subject": "Nouvelle facture F-1 émise par Atelier Durand",
        "text": "Bonjour,\nvoici votre facture à régler.\n",
        "html": "<p>Bonjour, voici votre facture à régler.</p>",
    }
    fields.update(changes)
    return OutgoingEmail(**fields)  # type: ignore[arg-type]


def reparse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_message_id_and_ledger_header_come_from_the_ledger_id() -> None:
    msg = build_message(outgoing(), SETTINGS, now=datetime(2025, 8, 1, 9, 30, tzinfo=UTC))

    assert msg["Message-ID"] == f"<{LEDGER_ID}@mail.factora.test>"
    assert msg["X-Factora-Ledger-Id"] == LEDGER_ID
    assert msg["Date"] == "Fri, 01 Aug 2025 09:30:00 +0000"
    assert msg["From"] == "Factora <no-reply@factora.test>"
    assert msg["To"] == "buyer@example.com"
    assert msg["Auto-Submitted"] == "auto-generated"


def test_body_is_multipart_alternative_text_then_html_and_seven_bit_on_the_wire() -> None:
    raw = message_bytes(outgoing(), SETTINGS)
    parsed = reparse(raw)

    raw.decode("ascii")  # no 8BITMIME needed from the relay
    assert b"\r\n" in raw
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Subject"] == "Nouvelle facture F-1 émise par Atelier Durand"
    text = parsed.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text == "Bonjour,\nvoici votre facture à régler.\n"
    assert "à régler" in parsed.get_body(("html",)).get_content()


def test_attachment_turns_the_message_into_multipart_mixed() -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 4
    msg = outgoing(attachment=Attachment("Facture F-1.pdf", pdf, "application/pdf"))
    parsed = reparse(message_bytes(msg, SETTINGS))

    assert parsed.get_content_type() == "multipart/mixed"
    body, attached = list(parsed.iter_parts())
    assert body.get_content_type() == "multipart/alternative"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == "Facture F-1.pdf"
    assert attached.get_content() == pdf


@pytest.mark.parametrize("ledger_id", ["", "a b", "x>y", "a@b", "é"])
def test_ledger_ids_that_cannot_form_a_message_id_are_refused(ledger_id: str) -> None:
    with pytest.raises(ValueError, match="Message-ID"):
        message_id(ledger_id, "mail.factora.test")


@pytest.mark.parametrize(
    "address",
    ["buyer@example.com", "a.b+invoices@sub.example.co.uk", "o'neil@example.ie", "x_y-z@xn--bcher-kva.example"],
)
def test_plain_addresses_are_valid(address: str) -> None:
    assert address_is_valid(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "buyer",
        "buyer@localhost",
        "Buyer <buyer@example.com>",
        "buyer@example.com, other@example.com",
        "buyer @example.com",
        "buyer@example.com\r\nBcc: x@evil.test",
        "a..b@example.com",
        ".a@example.com",
        "bücher@example.com",
        "buyer@-example.com",
        "buyer@example.123",
        "buyer@@example.com",
        "x" * 65 + "@example.com",
    ],
)
def test_malformed_addresses_are_invalid(address: str) -> None:
    assert not address_is_valid(address)


def test_credentials_require_tls_unless_explicitly_allowed() -> None:
    with pytest.raises(ValidationError, match="clear"):
        SmtpSettings(username="relay", password=SecretStr("pw"), tls="none")
    with pytest.raises(ValidationError, match="both"):
        SmtpSettings(username="relay", tls="starttls")
    assert SmtpSettings(username="relay", password=SecretStr("pw"), tls="none", allow_auth_without_tls=True)


def test_a_bad_from_address_fails_at_start_up() -> None:
    with pytest.raises(ValidationError, match="from_address"):
        SmtpSettings(from_address="not an address")


def test_mailer_accepts_any_settings_object_with_the_same_fields() -> None:
    foreign = SimpleNamespace(
        host="smtp.example.com",
        port=2525,
        username=None,
        password=None,
        tls="starttls",
        timeout_s=3.0,
        from_address="no-reply@factora.test",
        from_name="Factora",
        message_id_domain="mail.factora.test",
    )
    mailer = SmtpMailer(foreign)
    assert mailer._settings.port == 2525 and mailer._settings.validate_certs is True


async def test_invalid_recipient_is_permanent_without_touching_the_network() -> None:
    mailer = SmtpMailer(SmtpSettings(host="192.0.2.1", port=9, timeout_s=0.1))

    result = await mailer.send(outgoing(to="not-an-address"))

    assert (result.outcome, result.stage) == (SendOutcome.PERMANENT, "address")


def test_only_transient_results_are_retryable() -> None:
    assert SendResult(SendOutcome.TRANSIENT).retryable
    assert not any(SendResult(o).retryable for o in (SendOutcome.SENT, SendOutcome.PERMANENT, SendOutcome.UNKNOWN))


def test_a_subject_in_any_script_survives_the_trip_in_encoded_words_under_78_columns() -> None:
    subject = "Facture F-1 émise par Atelier Lumière — 日本語の件名もあります, et un nom vraiment très long"
    raw = message_bytes(outgoing(subject=subject), SETTINGS)

    parsed = reparse(raw)
    assert parsed["Subject"] == subject
    headers = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    start = next(i for i, h in enumerate(headers) if h.startswith(b"Subject:"))
    folded = [headers[start]] + [h for h in headers[start + 1 :] if h.startswith(b" ")]
    assert len(folded) > 1
    assert all(len(line) <= 78 for line in folded)


def test_a_long_plain_subject_is_folded_at_spaces_and_reads_back_whole() -> None:
    subject = "New invoice F2026-000042 from a supplier whose registered name is long enough to need folding"
    raw = message_bytes(outgoing(subject=subject), SETTINGS)

    assert reparse(raw)["Subject"] == subject
    assert b"Subject: New invoice F2026-000042 from a supplier whose registered name is\r\n long" in raw


def test_a_sender_name_and_a_file_name_outside_ascii_are_encoded_not_mangled() -> None:
    settings = SmtpSettings(from_address="no-reply@factora.test", from_name="Factora — réseau")
    message = outgoing(attachment=Attachment("Facture n°42.pdf", b"%PDF-1.7 x", "application/pdf"))

    parsed = reparse(message_bytes(message, settings))

    assert parsed["From"] == "Factora — réseau <no-reply@factora.test>"
    (attached,) = list(parsed.iter_attachments())
    assert attached.get_filename() == "Facture n°42.pdf"


def test_the_language_of_the_text_is_declared() -> None:
    assert reparse(message_bytes(outgoing(language="fr"), SETTINGS))["Content-Language"] == "fr"
    assert reparse(message_bytes(outgoing(), SETTINGS))["Content-Language"] is None


@pytest.mark.parametrize("field", ["subject", "ledger_id"])
def test_a_header_value_cannot_start_a_new_header(field: str) -> None:
    with pytest.raises(ValueError):
        message_bytes(outgoing(**{field: "x\r\nBcc: victim@example.com"}), SETTINGS)


async def test_a_message_that_cannot_be_built_is_permanent_without_touching_the_network() -> None:
    mailer = SmtpMailer(SmtpSettings(host="192.0.2.1", port=9, timeout_s=0.1))

    result = await mailer.send(outgoing(subject="a\nb"))

    assert (result.outcome, result.stage) == (SendOutcome.PERMANENT, "build")
