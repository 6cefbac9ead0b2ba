"""Send e-mail over SMTP with aiosmtplib, classifying each failure by the step it happened at."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.policy
import email.utils
import logging
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Literal, Protocol

import aiosmtplib
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from notifications.adapters import SendOutcome, SendResult

log = logging.getLogger(__name__)

TlsMode = Literal["none", "starttls", "implicit"]
LEDGER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# Steps before MAIL concern the relay (or our settings for it), never the message itself.
SESSION_STAGES = frozenset({"connect", "ehlo", "starttls", "auth"})
DETAIL_LIMIT = 300


def address_is_valid(address: str) -> bool:
    """A plain ASCII addr-spec with a dotted domain: what we can hand to a relay without SMTPUTF8."""
    if not isinstance(address, str) or not address.isascii() or len(address) > 254:
        return False
    if any(c.isspace() or not c.isprintable() for c in address):
        return False
    name, parsed = email.utils.parseaddr(address)
    if name or parsed != address:
        return False
    try:
        parts = Address(addr_spec=address)
    except (ValueError, IndexError, HeaderParseError):
        return False
    local, domain = parts.username, parts.domain
    if not local or len(local) > 64 or not DOT_ATOM.match(local):
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(DOMAIN_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


class SmtpSettings(BaseModel):
    """How to reach the SMTP relay; nest it in the service settings (env NOTIFICATIONS_SMTP__*)."""

    model_config = ConfigDict(frozen=True)

    host: str = Field(default="localhost", description="SMTP relay host name or IP address.")
    port: int = Field(default=1025, ge=1, le=65535, description="SMTP relay port.")
    username: str | None = Field(default=None, description="Login for SMTP AUTH; none skips AUTH.")
    password: SecretStr | None = Field(default=None, description="Password for SMTP AUTH.")
    tls: TlsMode = Field(
        default="none",
        description="none, starttls (upgrade on a plain port, required) or implicit (SMTPS, 465).",
    )
    timeout_s: float = Field(
        default=15.0, gt=0, description="Upper bound on each SMTP step and on one whole conversation."
    )
    from_address: str = Field(default="no-reply@factora.local", description="Envelope and From.")
    from_name: str = Field(default="Factora", description="Display name shown in From.")
    message_id_domain: str = Field(
        default="notifications.factora.local", description="Right-hand side of every Message-ID."
    )
    validate_certs: bool = Field(default=True, description="Check the relay's TLS certificate.")
    ca_file: str | None = Field(default=None, description="Extra CA bundle (PEM) to trust, e.g. a private relay's CA.")
    local_hostname: str | None = Field(
        default=None, description="Name sent with EHLO; defaults to this machine's FQDN."
    )
    allow_auth_without_tls: bool = Field(
        default=False, description="Permit AUTH over an unencrypted link (local relays only)."
    )

    @field_validator("from_address")
    @classmethod
    def _from_is_an_address(cls, value: str) -> str:
        if not address_is_valid(value):
            raise ValueError(f"not a usable e-mail address: {value!r}")
        return value

    @model_validator(mode="after")
    def _credentials_travel_encrypted(self) -> SmtpSettings:
        if (self.password is None) != (self.username is None):
            raise ValueError("set both username and password for SMTP AUTH, or neither")
        if self.username and self.tls == "none" and not self.allow_auth_without_tls:
            raise ValueError("SMTP AUTH over tls=none sends the password in clear; use TLS")
        return self


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent along, e.g. the sealed PDF of an invoice."""

    filename: str
    content: bytes
    content_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One rendered e-mail for one recipient; the ledger id makes it recognisable everywhere."""

    ledger_id: str
    to: str
    subject: str
    text: str
    html: str
    attachment: Attachment | None = None


class Mailer(Protocol):
    """Hands one e-mail to a relay; never raises, the result says what happened."""

    async def send(self, message: OutgoingEmail) -> SendResult: ...


def message_id(ledger_id: str, domain: str) -> str:
    """The same ledger row always yields the same Message-ID, so a resend is recognisable."""
    if not LEDGER_ID.match(ledger_id):
        raise ValueError(f"ledger id {ledger_id!r} cannot form a Message-ID")
    return f"<{ledger_id}@{domain}>"


def build_message(message: OutgoingEmail, settings: SmtpSettings, *, now: datetime | None = None) -> EmailMessage:
    """multipart/alternative (text, html), wrapped in multipart/mixed when a file is attached."""
    msg = EmailMessage()
    msg["Message-ID"] = message_id(message.ledger_id, settings.message_id_domain)
    msg["Date"] = email.utils.format_datetime(now or datetime.now(UTC))
    msg["From"] = Address(display_name=settings.from_name, addr_spec=settings.from_address)
    msg["To"] = Address(addr_spec=message.to)
    msg["Subject"] = message.subject
    msg["X-Factora-Ledger-Id"] = message.ledger_id
    # RFC 3834: tells out-of-office robots not to answer a notification.
    msg["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps every part 7-bit, so no relay needs 8BITMIME.
    msg.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(message.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if message.attachment is not None:
        maintype, _, subtype = message.attachment.content_type.partition("/")
        if not maintype or not subtype:
            raise ValueError(f"bad content type {message.attachment.content_type!r}")
        msg.add_attachment(
            message.attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=message.attachment.filename,
        )
    return msg


class SmtpMailer:
    """Drives the SMTP dialogue step by step so a failure is known to be before or after DATA."""

    def __init__(self, settings: object, *, tls_context: ssl.SSLContext | None = None) -> None:
        # Any settings object with these attribute names will do (e.g. a BaseSettings twin).
        self._settings = (
            settings
            if isinstance(settings, SmtpSettings)
            else SmtpSettings.model_validate(settings, from_attributes=True)
        )
        self._tls_context = tls_context
        self._secrets = _secret_forms(self._settings)

    async def send(self, message: OutgoingEmail) -> SendResult:
        if not address_is_valid(message.to):
            result = SendResult(SendOutcome.PERMANENT, "invalid recipient address", stage="address")
            return self._done(message, result)
        try:
            raw = build_message(message, self._settings).as_bytes(policy=email.policy.SMTP)
        except (ValueError, TypeError) as exc:
            result = SendResult(SendOutcome.PERMANENT, self._clean(str(exc)), stage="build")
            return self._done(message, result)
        s = self._settings
        client = self._client()
        stage = "connect"
        try:
            # timeout_s bounds each step (inside aiosmtplib) and the whole conversation (here).
            async with asyncio.timeout(s.timeout_s):
                await client.connect()
                stage = "ehlo"
                await client.ehlo()
                if s.tls == "starttls":
                    stage = "starttls"
                    await client.starttls()  # raises if not offered: never fall back to plain text
                    stage = "ehlo"
                    await client.ehlo()
                if s.username is not None and s.password is not None:
                    stage = "auth"
                    await client.login(s.username, s.password.get_secret_value())
                stage = "mail"
                size = [f"SIZE={len(raw)}"] if client.supports_extension("size") else []
                await client.mail(s.from_address, options=size)
                stage = "rcpt"
                await client.rcpt(message.to)
                stage = "data"
                response = await client.data(raw)
        except Exception as exc:  # every failure is classified; none may escape as a crash
            client.close()
            return self._done(message, self._classify(exc, stage))
        with contextlib.suppress(Exception):
            await client.quit(timeout=2)  # the relay has the message; a failed goodbye is harmless
        client.close()
        result = SendResult(SendOutcome.SENT, self._clean(response.message), code=response.code, stage="data")
        return self._done(message, result)

    def _client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout_s,
            use_tls=s.tls == "implicit",
            start_tls=False,
            validate_certs=s.validate_certs,
            cert_bundle=None if self._tls_context else s.ca_file,
            tls_context=self._tls_context,
            local_hostname=s.local_hostname,
        )

    def _classify(self, exc: Exception, stage: str) -> SendResult:
        code = exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else None
        detail = self._clean(f"{type(exc).__name__}: {exc}")
        if stage == "data" and code is None:
            # DATA went out: the relay may have queued the message before the link failed.
            return SendResult(SendOutcome.UNKNOWN, detail, stage=stage)
        if code is None or stage in SESSION_STAGES:
            return SendResult(SendOutcome.TRANSIENT, detail, code=code, stage=stage)
        outcome = SendOutcome.PERMANENT if 500 <= code < 600 else SendOutcome.TRANSIENT
        return SendResult(outcome, detail, code=code, stage=stage)

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text[:DETAIL_LIMIT]

    @staticmethod
    def _done(message: OutgoingEmail, result: SendResult) -> SendResult:
        # Recipient addresses are personal data: the ledger id is enough to trace a message.
        level = logging.INFO if result.outcome is SendOutcome.SENT else logging.WARNING
        log.log(level, "e-mail %s %s at %s (code %s)", message.ledger_id, result.outcome, result.stage, result.code)
        return result


def _secret_forms(settings: SmtpSettings) -> tuple[str, ...]:
    """The password as typed and as AUTH PLAIN/LOGIN encode it, for scrubbing error details."""
    if settings.password is None or not settings.password.get_secret_value():
        return ()
    password = settings.password.get_secret_value()
    plain = f"\0{settings.username}\0{password}".encode()
    forms = (password, base64.b64encode(password.encode()).decode())
    forms += (base64.b64encode(plain).decode(),)
    return tuple(sorted(forms, key=len, reverse=True))
