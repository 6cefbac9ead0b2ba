"""Sealed documents fetched from a signing archive over HTTP and attached to the e-mail in the real catcher."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest
from pydantic import SecretStr
from sqlmodel import select

from contracts.v1 import DeliveryStatus, SendRequested
from notifications.adapters.documents import SigningArchive
from notifications.adapters.mailer import SmtpMailer, SmtpSettings
from notifications.adapters.tables import Delivery
from servicekit.messaging_tables import OutboxMessage

pytestmark = pytest.mark.integration

TOKEN = "notifications-service-token"
LIMIT = 64 * 1024
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


class SigningStub:
    """Signing's archive as far as notifications sees it: bearer token, PDF bodies, refusals, outages."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.fail_next: dict[str, int] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                stub.requests.append((self.path, self.headers.get("Authorization")))
                name = self.path.rsplit("/", 1)[-1]
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self.reply(401, b'{"detail": "send an access token"}')
                if stub.fail_next.get(name, 0) > 0:
                    stub.fail_next[name] -= 1
                    return self.reply(503, b'{"detail": "busy"}')
                if name.startswith("pdf-"):
                    return self.reply(200, PDF, filename=f"{name}.pdf")
                if name.startswith("big-"):
                    return self.reply(200, b"%PDF" + b"0" * (LIMIT * 2))
                if name.startswith("stream-"):
                    return self.stream(LIMIT * 4)
                return self.reply(404, b'{"detail": "no such document for your company"}')

            def reply(self, status: int, body: bytes, filename: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/pdf" if status == 200 else "application/json")
                self.send_header("Content-Length", str(len(body)))
                if filename:
                    self.send_header("Content-Disposition", f'attachment; filename="{filename}"')
                self.end_headers()
                self.wfile.write(body)

            def stream(self, size: int) -> None:
                """Chunked, no Content-Length: only counting while reading can stop it."""
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"1" * 8192
                try:
                    for _ in range(size // len(chunk)):
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading at its limit: expected

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="module")
def signing() -> Iterator[SigningStub]:
    stub = SigningStub()
    yield stub
    stub.close()


@pytest.fixture
def worker(make_dispatcher, smtp_catcher, signing):
    def make(token: str = TOKEN, **options):
        archive = SigningArchive(signing.base_url, SecretStr(token), max_bytes=LIMIT, timeout_s=5)
        mailer = SmtpMailer(SmtpSettings(host=smtp_catcher.host, port=smtp_catcher.port, timeout_s=5))
        return make_dispatcher(mailer, documents=archive, **options)

    return make


def invoice_request(document: str, **changes) -> SendRequested:
    ref = f"/archive/documents/{document}"
    return SendRequested(
        idempotency_key=f"invoice-delivered:{uuid.uuid4()}:buyer",
        channel="email",
        recipient=f"pdf-{uuid.uuid4().hex[:10]}@example.com",
        locale=changes.pop("locale", "en"),
        template="invoice-delivered",
        params={
            "seller_name": "Atelier Lumière SARL",
            "invoice_number": "F2026-000042",
            "amount": "1145.52",
            "currency": "EUR",
            "due_date": None,
            "document_url": f"https://portal.factora.test{ref}",
        },
        document_ref=ref,
        **changes,
    )


async def the_row(sessions, recipient: str) -> Delivery:
    async with sessions() as session:
        return (await session.exec(select(Delivery).where(Delivery.recipient == recipient))).one()


async def the_status(sessions) -> DeliveryStatus:
    async with sessions() as session:
        (row,) = (await session.exec(select(OutboxMessage))).all()
    return DeliveryStatus.model_validate_json(row.payload)


async def test_the_sealed_pdf_is_fetched_with_the_service_token_and_attached(
    record_request, worker, signing, sessions, mailbox
):
    document = f"pdf-{uuid.uuid4().hex[:8]}"
    event = invoice_request(document)
    await record_request(event)

    assert await worker().run_once() == 1

    mail = await mailbox.wait_for(event.recipient)
    (attached,) = list(mail.iter_attachments())
    assert (attached.get_filename(), attached.get_content_type()) == (f"{document}.pdf", "application/pdf")
    assert attached.get_content() == PDF
    assert "The signed PDF is attached to this e-mail." in mail.get_body(("plain",)).get_content()
    assert (f"/archive/documents/{document}", f"Bearer {TOKEN}") in signing.requests
    row = await the_row(sessions, event.recipient)
    assert (row.status, row.document_attached) == ("sent", True)
    assert (await the_status(sessions)).document_attached is True


@pytest.mark.parametrize(
    "document",
    ["big-declared", "stream-endless", "missing-document"],
    ids=["too-large-by-content-length", "too-large-while-streaming", "not-found"],
)
async def test_a_document_that_cannot_be_attached_leaves_the_link_alone(
    record_request, worker, sessions, mailbox, document
):
    event = invoice_request(f"{document}-{uuid.uuid4().hex[:6]}", locale="fr")
    await record_request(event)

    assert await worker().run_once() == 1

    mail = await mailbox.wait_for(event.recipient)
    assert list(mail.iter_attachments()) == []
    text = mail.get_body(("plain",)).get_content()
    assert event.params["document_url"] in text
    assert "joint" not in text
    row = await the_row(sessions, event.recipient)
    assert (row.status, row.attempts, row.document_attached) == ("sent", 1, False)


async def test_a_refused_credential_sends_the_link_rather_than_holding_the_message(
    record_request, worker, sessions, mailbox
):
    event = invoice_request(f"pdf-{uuid.uuid4().hex[:8]}")
    await record_request(event)

    assert await worker(token="not-the-token").run_once() == 1

    mail = await mailbox.wait_for(event.recipient)
    assert list(mail.iter_attachments()) == []
    assert (await the_row(sessions, event.recipient)).document_attached is False


async def test_signing_briefly_unavailable_delays_the_message_until_the_pdf_can_go(
    record_request, worker, signing, sessions, mailbox
):
    document = f"pdf-{uuid.uuid4().hex[:8]}"
    signing.fail_next[document] = 1
    event = invoice_request(document)
    await record_request(event)
    dispatcher = worker(max_attempts=4)

    assert await dispatcher.run_once() == 1
    row = await the_row(sessions, event.recipient)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "503" in (row.last_error or "")
    assert mailbox.to(event.recipient) == []

    async with sessions() as session, session.begin():
        row.next_attempt_at = row.created_at
        session.add(row)
    assert await dispatcher.run_once() == 1

    mail = await mailbox.wait_for(event.recipient)
    assert [a.get_content() for a in mail.iter_attachments()] == [PDF]
    assert (await the_row(sessions, event.recipient)).attempts == 2
