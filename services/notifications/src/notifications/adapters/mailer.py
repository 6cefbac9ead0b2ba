"""Send e-mail over SMTP with aiosmtplib, classifying each failure by the step it happened at."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

import aiosmtplib
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from notifications.adapters import SendOutcome, SendResult
from notifications.adapters.message import (
    Attachment,
    OutgoingEmail,
    address_is_valid,
    build_message,
    message_bytes,
    message_id,
)
from notifications.metrics import SMTP_CONNECTIONS

__all__ = [
    "Attachment",
    "MailSession",
    "Mailer",
    "OutgoingEmail",
    "SmtpMailer",
    "SmtpSession",
    "SmtpSettings",
    "address_is_valid",
    "build_message",
    "message_bytes",
    "message_id",
]

log = logging.getLogger(__name__)

TlsMode = Literal["none", "starttls", "implicit"]
# Steps before MAIL concern the relay (or our settings for it), never the message itself.
SESSION_STAGES = frozenset({"connect", "ehlo", "starttls", "auth"})
DETAIL_LIMIT = 300


class SmtpSettings(BaseModel):
    """How to reach the SMTP relay; the service reads it from SMTP_* variables (see settings.py)."""

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
        default=15.0,
        gt=0,
        description="Upper bound on each SMTP step, on opening a connection and on one message's transaction.",
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
    connections: int = Field(
        default=4, ge=1, le=64, description="SMTP connections used at once (each sends its messages one by one)."
    )
    max_messages_per_connection: int = Field(
        default=100, ge=1, description="Messages sent over one connection before it is closed and reopened."
    )
    idle_close_s: float = Field(default=10.0, gt=0, description="An open connection unused this long is closed (QUIT).")

    @field_validator("from_address")
    @classmethod
    def _from_is_an_address(cls, value: str) -> str:
        if not address_is_valid(value):
            raise ValueError(f"not a usable e-mail address: {value!r}")
        return value

    @field_validator("from_name", "message_id_domain")
    @classmethod
    def _one_printable_line(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError(f"must be one line of printable characters: {value!r}")
        return value

    @model_validator(mode="after")
    def _credentials_travel_encrypted(self) -> SmtpSettings:
        if (self.password is None) != (self.username is None):
            raise ValueError("set both username and password for SMTP AUTH, or neither")
        if self.username and self.tls == "none" and not self.allow_auth_without_tls:
            raise ValueError("SMTP AUTH over tls=none sends the password in clear; use TLS")
        return self


# Run once the relay has accepted the recipient, just before the message content goes out.
BeforeData = Callable[[], Awaitable[None]]


def not_handed_over(exc: BaseException) -> SendResult:
    """The result when `before_data` failed: the relay never got the content, so it may be sent later."""
    return SendResult(
        SendOutcome.TRANSIENT, f"not sent: the hand-over could not be recorded ({type(exc).__name__})", stage="ledger"
    )


class MailSession(Protocol):
    """Sends several e-mails in turn over one connection; never raises, each result is its message's own."""

    last_used: float  # time.monotonic() of the last message

    @property
    def is_open(self) -> bool: ...

    async def send(self, message: OutgoingEmail, before_data: BeforeData | None = None) -> SendResult: ...

    async def close(self) -> None: ...


class Mailer(Protocol):
    """Hands one e-mail to a relay; never raises, the result says what happened."""

    async def send(self, message: OutgoingEmail) -> SendResult: ...


class SmtpMailer:
    """Drives the SMTP dialogue step by step so a failure is known to be before or after DATA.

    `send` opens a connection for one message; `session()` gives a connection that is reused for
    many messages (the dispatcher keeps a few of them open), each message in its own transaction.
    """

    def __init__(self, settings: object, *, tls_context: ssl.SSLContext | None = None) -> None:
        # Any settings object with these attribute names will do (e.g. a BaseSettings twin).
        self._settings = (
            settings
            if isinstance(settings, SmtpSettings)
            else SmtpSettings.model_validate(settings, from_attributes=True)
        )
        self._tls_context = tls_context
        self._secrets = _secret_forms(self._settings)

    @property
    def settings(self) -> SmtpSettings:
        return self._settings

    def session(self) -> SmtpSession:
        """A reusable connection, opened on its first message; close() it (or use `async with`)."""
        return SmtpSession(self)

    async def send(self, message: OutgoingEmail) -> SendResult:
        async with self.session() as session:
            return await session.send(message)

    def prepare(self, message: OutgoingEmail) -> bytes | SendResult:
        """The bytes to send, or the permanent failure that makes sending pointless."""
        if not address_is_valid(message.to):
            return SendResult(SendOutcome.PERMANENT, "invalid recipient address", stage="address")
        try:
            return message_bytes(message, self._settings)
        except (ValueError, TypeError) as exc:
            return SendResult(SendOutcome.PERMANENT, self.clean(str(exc)), stage="build")

    def client(self) -> aiosmtplib.SMTP:
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

    def classify(self, exc: Exception, stage: str) -> SendResult:
        code = exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else None
        detail = self.clean(f"{type(exc).__name__}: {exc}")
        if stage == "data" and code is None:
            # DATA went out: the relay may have queued the message before the link failed.
            return SendResult(SendOutcome.UNKNOWN, detail, stage=stage)
        if code is None or stage in SESSION_STAGES:
            return SendResult(SendOutcome.TRANSIENT, detail, code=code, stage=stage)
        outcome = SendOutcome.PERMANENT if 500 <= code < 600 else SendOutcome.TRANSIENT
        return SendResult(outcome, detail, code=code, stage=stage)

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text[:DETAIL_LIMIT]

    @staticmethod
    def done(message: OutgoingEmail, result: SendResult) -> SendResult:
        # Recipient addresses are personal data: the ledger id is enough to trace a message.
        level = logging.INFO if result.outcome is SendOutcome.SENT else logging.WARNING
        log.log(level, "e-mail %s %s at %s (code %s)", message.ledger_id, result.outcome, result.stage, result.code)
        return result


class SmtpSession:
    """One SMTP connection reused for a series of messages, each its own MAIL/RCPT/DATA transaction.

    A reused connection gets RSET first: whatever the previous message left behind is cleared, and
    a connection the relay dropped while idle is found out before this message's MAIL, then
    replaced, so the drop is never charged to it. A failure without an SMTP reply code, a timeout
    or a 421 makes the connection unusable: it is closed and the next message opens a new one.
    Only the message whose transaction was under way gets that failure.
    """

    def __init__(self, mailer: SmtpMailer) -> None:
        self._mailer = mailer
        self._client: aiosmtplib.SMTP | None = None
        self._sent_here = 0
        self._stage = "connect"
        self.connections_opened = 0
        self.last_used = time.monotonic()

    async def __aenter__(self) -> SmtpSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def is_open(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def send(self, message: OutgoingEmail, before_data: BeforeData | None = None) -> SendResult:
        """Send one message; `before_data` runs after RCPT is accepted and right before DATA.

        If `before_data` fails, DATA is never sent: the connection is dropped (its transaction is
        half done) and the result is transient.
        """
        mailer, s = self._mailer, self._mailer.settings
        raw = mailer.prepare(message)
        if isinstance(raw, SendResult):
            return mailer.done(message, raw)
        self.last_used = time.monotonic()
        client = await self._reusable()
        if client is None:
            client = mailer.client()
            self._stage = "connect"
            try:
                async with asyncio.timeout(s.timeout_s):
                    await self._open(client)
            except Exception as exc:  # every failure is classified; none may escape as a crash
                client.close()
                return mailer.done(message, mailer.classify(exc, self._stage))
            except asyncio.CancelledError:
                client.close()
                raise
            self._client, self._sent_here = client, 0
            self.connections_opened += 1
            SMTP_CONNECTIONS.inc()
        stage = "mail"
        try:
            # timeout_s bounds each step (inside aiosmtplib) and the whole transaction (here).
            async with asyncio.timeout(s.timeout_s):
                limit = _size_limit(client)
                if limit and len(raw) > limit:
                    return mailer.done(message, _too_big(len(raw), limit))
                size = [f"SIZE={len(raw)}"] if client.supports_extension("size") else []
                await client.mail(s.from_address, options=size)
                stage = "rcpt"
                await client.rcpt(message.to)
                if before_data is not None:
                    try:
                        await before_data()
                    except Exception as exc:
                        self._discard()
                        return mailer.done(message, not_handed_over(exc))
                stage = "data"
                response = await client.data(raw)
        except Exception as exc:
            result = mailer.classify(exc, stage)
            if result.code is None or result.code == 421 or not client.is_connected:
                self._discard()
            return mailer.done(message, result)
        except asyncio.CancelledError:
            self._discard()  # cut off mid-command: the connection's state is unknown
            raise
        self._sent_here += 1
        self.last_used = time.monotonic()
        result = SendResult(SendOutcome.SENT, mailer.clean(response.message), code=response.code, stage="data")
        return mailer.done(message, result)

    async def _reusable(self) -> aiosmtplib.SMTP | None:
        """The open connection, reset and still answering, or None when a new one is needed."""
        client = self._client
        if client is None:
            return None
        if not client.is_connected:
            self._discard()
            return None
        if self._sent_here >= self._mailer.settings.max_messages_per_connection:
            await self.close()
            return None
        try:
            await client.rset(timeout=min(5.0, self._mailer.settings.timeout_s))
        except Exception as exc:
            log.info("SMTP connection not reusable (%s); opening another", type(exc).__name__)
            self._discard()
            return None
        return client

    async def _open(self, client: aiosmtplib.SMTP) -> None:
        """Connect, EHLO, STARTTLS, AUTH as configured; `_stage` names the step under way."""
        s = self._mailer.settings
        self._stage = "connect"
        await client.connect()
        self._stage = "ehlo"
        await client.ehlo()
        if s.tls == "starttls":
            self._stage = "starttls"
            await client.starttls()  # raises if not offered: never fall back to plain text
            self._stage = "ehlo"
            await client.ehlo()
        if s.username is not None and s.password is not None:
            self._stage = "auth"
            await client.login(s.username, s.password.get_secret_value())

    def _discard(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    async def close(self) -> None:
        """QUIT politely; the messages already sent are the relay's, so a failed goodbye is harmless."""
        client, self._client = self._client, None
        if client is None:
            return
        if client.is_connected:
            with contextlib.suppress(Exception):
                await client.quit(timeout=2)
        client.close()


def _size_limit(client: aiosmtplib.SMTP) -> int:
    """The relay's SIZE limit from EHLO (0: none announced)."""
    value = str(client.esmtp_extensions.get("size", "")).strip()
    return int(value) if value.isdigit() else 0


def _too_big(size: int, limit: int) -> SendResult:
    detail = f"message of {size} bytes exceeds the relay's SIZE limit of {limit} bytes"
    return SendResult(SendOutcome.PERMANENT, detail, code=552, stage="size")


def _secret_forms(settings: SmtpSettings) -> tuple[str, ...]:
    """The password as typed and as AUTH PLAIN/LOGIN encode it, for scrubbing error details."""
    if settings.password is None or not settings.password.get_secret_value():
        return ()
    password = settings.password.get_secret_value()
    plain = f"\0{settings.username}\0{password}".encode()
    forms = (password, base64.b64encode(password.encode()).decode())
    forms += (base64.b64encode(plain).decode(),)
    return tuple(sorted(forms, key=len, reverse=True))
