"""SmtpMailer against a real aiosmtpd server on 127.0.0.1: every outcome, TLS and AUTH."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from notifications.adapters import SendOutcome
from notifications.adapters.mailer import OutgoingEmail, SmtpMailer, SmtpSettings

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
LEDGER_ID = "0b7e51d2-5c4f-4d8e-9a51-2f0c6f3e8a77"
PASSWORD = "correct horse battery staple"


class Recorder:
    """Accepts everything and keeps what it was given."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.encrypted: list[bool] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 2.0.0 OK queued as T1"


class RefuseRecipient(Recorder):
    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return self.reply


class RefuseData(Recorder):
    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return self.reply


class DropAfterData(Recorder):
    """Takes the whole message, then the link dies before the 250: the client cannot know."""

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        server.transport.abort()
        return "250 never heard"


class SlowAfterData(Recorder):
    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        await asyncio.sleep(2)
        return "250 too late"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def smtp_server(handler: Any, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, server_hostname="smtp.factora.test", **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def settings(port: int, **changes: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": HOST,
        "port": port,
        "timeout_s": 5.0,
        "from_address": "no-reply@factora.test",
        "message_id_domain": "mail.factora.test",
        "local_hostname": "notifications.factora.test",
    }
    values.update(changes)
    return SmtpSettings(**values)


def outgoing() -> OutgoingEmail:
    return OutgoingEmail(
        ledger_id=LEDGER_ID,
        to="buyer@example.com",
        subject="Nouvelle facture F-1 émise par Atelier Durand",
        text="Bonjour,\nune facture vous attend.\n",
        html="<p>Bonjour, une facture vous attend.</p>",
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, also used as its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.factora.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


async def test_message_is_delivered_with_its_headers() -> None:
    handler = Recorder()
    with smtp_server(handler) as port:
        result = await SmtpMailer(settings(port)).send(outgoing())

    assert result.outcome is SendOutcome.SENT
    assert result.code == 250 and "queued as T1" in (result.detail or "")
    [envelope] = handler.envelopes
    assert envelope.mail_from == "no-reply@factora.test"
    assert envelope.rcpt_tos == ["buyer@example.com"]
    received = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert received["Message-ID"] == f"<{LEDGER_ID}@mail.factora.test>"
    assert received["X-Factora-Ledger-Id"] == LEDGER_ID
    assert received["Subject"] == "Nouvelle facture F-1 émise par Atelier Durand"
    assert received["From"] == "Factora <no-reply@factora.test>"
    assert received.get_content_type() == "multipart/alternative"
    assert handler.encrypted == [False]


async def test_recipient_refused_with_550_is_permanent() -> None:
    with smtp_server(RefuseRecipient("550 5.1.1 No such mailbox")) as port:
        result = await SmtpMailer(settings(port)).send(outgoing())

    assert (result.outcome, result.code, result.stage) == (SendOutcome.PERMANENT, 550, "rcpt")
    assert "No such mailbox" in (result.detail or "")


@pytest.mark.parametrize(
    ("handler", "stage"),
    [
        (RefuseRecipient("451 4.3.0 Mailbox busy, try later"), "rcpt"),
        (RefuseData("451 4.3.0 Local error, try later"), "data"),
    ],
)
async def test_451_is_transient(handler: Recorder, stage: str) -> None:
    with smtp_server(handler) as port:
        result = await SmtpMailer(settings(port)).send(outgoing())

    assert (result.outcome, result.code, result.stage) == (SendOutcome.TRANSIENT, 451, stage)


async def test_554_after_the_content_is_permanent() -> None:
    with smtp_server(RefuseData("554 5.6.0 Message rejected")) as port:
        result = await SmtpMailer(settings(port)).send(outgoing())

    assert (result.outcome, result.code, result.stage) == (SendOutcome.PERMANENT, 554, "data")


async def test_connection_refused_is_transient() -> None:
    result = await SmtpMailer(settings(free_port())).send(outgoing())

    assert (result.outcome, result.stage) == (SendOutcome.TRANSIENT, "connect")


async def test_server_that_never_greets_is_transient() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # say nothing until the client gives up and hangs up
        writer.close()

    server = await asyncio.start_server(silent, HOST, 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await SmtpMailer(settings(port, timeout_s=0.5)).send(outgoing())

    assert (result.outcome, result.stage) == (SendOutcome.TRANSIENT, "connect")


async def test_link_lost_after_data_is_unknown() -> None:
    handler = DropAfterData()
    with smtp_server(handler) as port:
        result = await SmtpMailer(settings(port)).send(outgoing())

    assert len(handler.envelopes) == 1  # the server did get the whole message
    assert (result.outcome, result.stage) == (SendOutcome.UNKNOWN, "data")


async def test_timeout_waiting_for_the_final_reply_is_unknown() -> None:
    handler = SlowAfterData()
    with smtp_server(handler) as port:
        result = await SmtpMailer(settings(port, timeout_s=0.5)).send(outgoing())

    assert len(handler.envelopes) == 1
    assert (result.outcome, result.stage) == (SendOutcome.UNKNOWN, "data")


async def test_starttls_with_a_trusted_self_signed_certificate(
    certificate: tuple[Path, Path], server_tls: ssl.SSLContext
) -> None:
    handler = Recorder()
    with smtp_server(handler, tls_context=server_tls, require_starttls=True) as port:
        result = await SmtpMailer(settings(port, tls="starttls", ca_file=str(certificate[0]))).send(outgoing())

    assert result.outcome is SendOutcome.SENT
    assert handler.encrypted == [True]


async def test_starttls_never_falls_back_to_plain_text(server_tls: ssl.SSLContext) -> None:
    handler = Recorder()
    with smtp_server(handler) as port:  # offers no STARTTLS
        result = await SmtpMailer(settings(port, tls="starttls")).send(outgoing())

    assert (result.outcome, result.stage) == (SendOutcome.TRANSIENT, "starttls")
    assert handler.envelopes == []


async def test_untrusted_certificate_stops_before_anything_is_sent(server_tls: ssl.SSLContext) -> None:
    handler = Recorder()
    with smtp_server(handler, tls_context=server_tls, require_starttls=True) as port:
        result = await SmtpMailer(settings(port, tls="starttls")).send(outgoing())

    assert (result.outcome, result.stage) == (SendOutcome.TRANSIENT, "starttls")
    assert "CERTIFICATE_VERIFY_FAILED" in (result.detail or "")
    assert handler.envelopes == []


async def test_implicit_tls(certificate: tuple[Path, Path], server_tls: ssl.SSLContext) -> None:
    handler = Recorder()
    with smtp_server(handler, ssl_context=server_tls) as port:
        result = await SmtpMailer(settings(port, tls="implicit", ca_file=str(certificate[0]))).send(outgoing())

    assert result.outcome is SendOutcome.SENT
    assert handler.encrypted == [True]


class Authenticator:
    def __init__(self) -> None:
        self.mechanisms: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.mechanisms.append(mechanism)
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"relay-user"
        ok = ok and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_auth_over_starttls(certificate: tuple[Path, Path], server_tls: ssl.SSLContext, mechanism: str) -> None:
    handler, authenticator = Recorder(), Authenticator()
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    server_options = {
        "tls_context": server_tls,
        "require_starttls": True,
        "auth_required": True,
        "authenticator": authenticator,
        "auth_exclude_mechanism": [other],
    }
    credentials = {"username": "relay-user", "password": SecretStr(PASSWORD)}
    with smtp_server(handler, **server_options) as port:
        client = settings(port, tls="starttls", ca_file=str(certificate[0]), **credentials)
        result = await SmtpMailer(client).send(outgoing())

    assert result.outcome is SendOutcome.SENT
    assert authenticator.mechanisms == [mechanism]
    assert len(handler.envelopes) == 1


async def test_wrong_password_is_transient_and_never_echoed(
    certificate: tuple[Path, Path], server_tls: ssl.SSLContext
) -> None:
    handler = Recorder()
    server_options = {
        "tls_context": server_tls,
        "require_starttls": True,
        "auth_required": True,
        "authenticator": Authenticator(),
    }
    wrong = "not-the-password-at-all"
    credentials = {"username": "relay-user", "password": SecretStr(wrong)}
    with smtp_server(handler, **server_options) as port:
        client = settings(port, tls="starttls", ca_file=str(certificate[0]), **credentials)
        result = await SmtpMailer(client).send(outgoing())

    assert (result.outcome, result.stage, result.code) == (SendOutcome.TRANSIENT, "auth", 535)
    assert wrong not in repr(result)
    assert handler.envelopes == []


# --- the hand-over stamp: after the relay accepted the recipient, right before DATA ---


async def test_before_data_runs_once_the_recipient_is_accepted_and_before_any_content_goes_out() -> None:
    handler = Recorder()
    seen_at_stamp: list[int] = []

    async def stamp() -> None:
        seen_at_stamp.append(len(handler.envelopes))

    with smtp_server(handler) as port:
        async with SmtpMailer(settings(port)).session() as session:
            first = await session.send(outgoing(), before_data=stamp)
            second = await session.send(outgoing(), before_data=stamp)
    assert (first.outcome, second.outcome) == (SendOutcome.SENT, SendOutcome.SENT)
    assert seen_at_stamp == [0, 1]  # each stamp came before its own message's DATA
    assert session.connections_opened == 1


async def test_before_data_is_not_run_when_the_recipient_is_refused() -> None:
    stamps: list[str] = []

    async def stamp() -> None:
        stamps.append("stamped")

    with smtp_server(RefuseRecipient("451 4.3.0 Mailbox busy, try later")) as port:
        async with SmtpMailer(settings(port)).session() as session:
            result = await session.send(outgoing(), before_data=stamp)
    assert (result.outcome, result.stage) == (SendOutcome.TRANSIENT, "rcpt")
    assert stamps == []


async def test_a_failed_stamp_sends_no_content_and_the_next_message_gets_a_fresh_connection() -> None:
    handler = Recorder()

    async def ledger_down() -> None:
        raise ConnectionRefusedError("ledger unreachable")

    with smtp_server(handler) as port:
        async with SmtpMailer(settings(port)).session() as session:
            refused = await session.send(outgoing(), before_data=ledger_down)
            sent = await session.send(outgoing())
    assert (refused.outcome, refused.stage) == (SendOutcome.TRANSIENT, "ledger")
    assert "ConnectionRefusedError" in (refused.detail or "")
    assert sent.outcome is SendOutcome.SENT
    assert len(handler.envelopes) == 1  # only the second message reached DATA
    assert session.connections_opened == 2
