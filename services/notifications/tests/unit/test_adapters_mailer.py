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
    raw = build_message(outgoing(), SETTINGS).as_bytes(policy=email.policy.SMTP)
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
    parsed = reparse(build_message(msg, SETTINGS).as_bytes(policy=email.policy.SMTP))

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
