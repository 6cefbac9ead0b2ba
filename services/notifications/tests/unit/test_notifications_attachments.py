"""Documents from the signing archive: streamed under a size limit, attached when asked, else linked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from notifications.adapters import SendOutcome, SendResult
from notifications.adapters.documents import FetchedDocument, FetchOutcome, SigningArchive
from notifications.adapters.mailer import Attachment, OutgoingEmail
from notifications.adapters.tables import Delivery
from notifications.adapters.templating import TemplateRenderer
from notifications.service.dispatcher import DeliveryDispatcher, RetryPolicy

pytestmark = pytest.mark.unit

RENDERER = TemplateRenderer()
TOKEN = "svc-notifications-token-42"
BASE = "https://signing.factora.test"
REF = "/archive/documents/5a0b3c1e-0000-4000-8000-000000000001"
PDF = b"%PDF-1.7\n" + b"x" * 2000
INVOICE_PARAMS = {
    "seller_name": "Atelier Lumière SARL",
    "invoice_number": "F2026-000042",
    "amount": "1145.52",
    "currency": "EUR",
    "due_date": None,
    "document_url": f"{BASE}{REF}",
}


def archive(handler, max_bytes: int = 10_000) -> SigningArchive:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return SigningArchive(BASE, SecretStr(TOKEN), max_bytes=max_bytes, timeout_s=5, client=client)


def pdf_answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        content=PDF,
        headers={"Content-Type": "application/pdf", "Content-Disposition": 'attachment; filename="F2026-000042.pdf"'},
    )


async def test_a_document_is_fetched_with_the_bearer_token_and_its_file_name():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return pdf_answer(request)

    fetched = await archive(handler).fetch(REF)

    assert fetched.outcome is FetchOutcome.FETCHED
    assert fetched.attachment == Attachment("F2026-000042.pdf", PDF, "application/pdf")
    (request,) = seen
    assert str(request.url) == f"{BASE}{REF}"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PDF, headers={"Content-Length": str(len(PDF))})

    fetched = await archive(handler, max_bytes=1000).fetch(REF)

    assert fetched.outcome is FetchOutcome.TOO_LARGE
    assert fetched.attachment is None
    assert "1000" in (fetched.detail or "")


async def test_a_streamed_body_is_abandoned_as_soon_as_it_passes_the_limit():
    chunks_sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(10_000):
            chunks_sent += 1
            yield b"y" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())  # chunked: no Content-Length to go by

    fetched = await archive(handler, max_bytes=8 * 1024).fetch(REF)

    assert fetched.outcome is FetchOutcome.TOO_LARGE
    assert chunks_sent <= 10, "reading stopped right after the limit, not at the end of the stream"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (404, FetchOutcome.UNAVAILABLE),
        (401, FetchOutcome.UNAVAILABLE),
        (403, FetchOutcome.UNAVAILABLE),
        (302, FetchOutcome.UNAVAILABLE),
        (429, FetchOutcome.TRANSIENT),
        (503, FetchOutcome.TRANSIENT),
    ],
)
async def test_refusals_are_final_and_outages_are_transient(status: int, outcome: FetchOutcome):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"Location": "https://elsewhere.example/steal"})

    fetched = await archive(handler).fetch(REF)

    assert fetched.outcome is outcome
    assert str(status) in (fetched.detail or "")


async def test_signing_unreachable_is_transient_and_never_echoes_the_token():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"connection refused ({TOKEN}?)", request=request)

    fetched = await archive(handler).fetch(REF)

    assert fetched.outcome is FetchOutcome.TRANSIENT
    assert TOKEN not in repr(fetched)


@pytest.mark.parametrize(
    "ref",
    [
        "https://evil.example/archive/documents/x",
        "/archive/documents/../../admin",
        "/other/path",
        "",
        "//evil.example/x",
    ],
)
async def test_only_signing_archive_paths_are_fetched(ref: str):
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return pdf_answer(request)

    fetched = await archive(handler).fetch(ref)

    assert fetched.outcome is FetchOutcome.UNAVAILABLE
    assert calls == 0


async def test_a_file_name_from_the_server_cannot_climb_out_of_its_folder():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PDF, headers={"Content-Disposition": 'attachment; filename="../../x\r.pdf"'})

    fetched = await archive(handler).fetch(REF)

    assert fetched.attachment is not None
    assert "/" not in fetched.attachment.filename and "\r" not in fetched.attachment.filename
    assert fetched.attachment.filename.endswith(".pdf")


# --- the dispatcher's choice: attach, link only, or wait ---


class RecordingMailer:
    def __init__(self, *results: SendResult) -> None:
        self.results = list(results)
        self.sent: list[OutgoingEmail] = []

    async def send(self, message: OutgoingEmail) -> SendResult:
        self.sent.append(message)
        return self.results.pop(0) if self.results else SendResult(SendOutcome.SENT)


class NoSms:
    async def send(self, to_e164: str, text: str, idempotency_key: str) -> SendResult:
        raise AssertionError("no SMS expected")


class FixedDocuments:
    def __init__(self, outcome: FetchOutcome) -> None:
        self.outcome = outcome
        self.asked: list[str] = []

    async def fetch(self, document_ref: str) -> FetchedDocument:
        self.asked.append(document_ref)
        if self.outcome is FetchOutcome.FETCHED:
            return FetchedDocument(self.outcome, Attachment("F2026-000042.pdf", PDF))
        return FetchedDocument(self.outcome, detail=f"signing said {self.outcome}")


def worker(mailer: RecordingMailer, documents: FixedDocuments | None, max_attempts: int = 3) -> DeliveryDispatcher:
    return DeliveryDispatcher(
        None,  # type: ignore[arg-type]  # attempt() never touches the database
        RENDERER,
        mailer,
        NoSms(),
        source="/factora/notifications",
        retry=RetryPolicy(max_attempts=max_attempts, base_delay_s=1, max_delay_s=2, stuck_after_s=60),
        documents=documents,
    )


def delivery(**changes) -> Delivery:
    values = {
        "id": uuid.uuid4(),
        "idempotency_key": "invoice-delivered:1:buyer",
        "channel": "email",
        "recipient": "buyer@example.com",
        "locale": "en",
        "template": "invoice-delivered",
        "params": INVOICE_PARAMS,
        "document_ref": REF,
        "status": "sending",
        "attempts": 1,
    }
    values.update(changes)
    return Delivery(**values)


async def test_an_invoice_e_mail_carries_its_sealed_pdf_and_says_so():
    mailer, documents = RecordingMailer(), FixedDocuments(FetchOutcome.FETCHED)

    attempt = await worker(mailer, documents).attempt(delivery())

    assert (attempt.result.outcome, attempt.document_attached) == (SendOutcome.SENT, True)
    (message,) = mailer.sent
    assert message.attachment == Attachment("F2026-000042.pdf", PDF)
    assert "The signed PDF is attached to this e-mail." in message.text
    assert INVOICE_PARAMS["document_url"] in message.text, "the link stays, for later"
    assert documents.asked == [REF]


async def test_french_messages_say_it_in_french():
    mailer = RecordingMailer()

    await worker(mailer, FixedDocuments(FetchOutcome.FETCHED)).attempt(delivery(locale="fr"))

    assert "Le PDF signé est joint à ce message." in mailer.sent[0].text


@pytest.mark.parametrize("outcome", [FetchOutcome.TOO_LARGE, FetchOutcome.UNAVAILABLE])
async def test_a_document_too_large_or_unavailable_is_linked_instead(outcome: FetchOutcome):
    mailer = RecordingMailer()

    attempt = await worker(mailer, FixedDocuments(outcome)).attempt(delivery())

    assert (attempt.result.outcome, attempt.document_attached) == (SendOutcome.SENT, False)
    (message,) = mailer.sent
    assert message.attachment is None
    assert "attached" not in message.text
    assert INVOICE_PARAMS["document_url"] in message.text


async def test_signing_briefly_unreachable_delays_the_message_then_links_on_the_last_attempt():
    mailer, documents = RecordingMailer(), FixedDocuments(FetchOutcome.TRANSIENT)
    dispatcher = worker(mailer, documents, max_attempts=3)

    early = await dispatcher.attempt(delivery(attempts=1))
    last = await dispatcher.attempt(delivery(attempts=3))

    assert (early.result.outcome, early.result.stage) == (SendOutcome.TRANSIENT, "attachment")
    assert (last.result.outcome, last.document_attached) == (SendOutcome.SENT, False)
    assert len(mailer.sent) == 1 and mailer.sent[0].attachment is None


async def test_without_a_signing_credential_nothing_is_fetched_and_the_link_is_sent():
    mailer = RecordingMailer()

    attempt = await worker(mailer, None).attempt(delivery())

    assert (attempt.result.outcome, attempt.document_attached) == (SendOutcome.SENT, False)
    assert mailer.sent[0].attachment is None


async def test_the_request_can_decline_the_attachment_a_template_would_add():
    mailer, documents = RecordingMailer(), FixedDocuments(FetchOutcome.FETCHED)

    attempt = await worker(mailer, documents).attempt(delivery(attach_document=False))

    assert attempt.document_attached is None
    assert documents.asked == [] and mailer.sent[0].attachment is None


async def test_a_template_that_does_not_attach_by_default_sends_only_what_it_was_asked():
    mailer, documents = RecordingMailer(), FixedDocuments(FetchOutcome.FETCHED)
    params = {
        "recipient_name": "Camille Martin",
        "company_name": "Atelier Durand SARL",
        "credits_purchased": 500,
        "amount": "120.00",
        "currency": "EUR",
        "purchased_at": "2026-01-02T10:00:00Z",
        "receipt_number": "R-2026-0001",
        "billing_url": "https://portal.factora.test/billing",
    }

    await worker(mailer, documents).attempt(delivery(template="purchase-receipt", params=params))
    asked = await worker(mailer, documents).attempt(
        delivery(template="purchase-receipt", params=params, attach_document=True)
    )

    assert documents.asked == [REF]
    assert asked.document_attached is True


async def test_a_relay_refusing_the_size_gets_the_same_message_with_the_link_only():
    too_big = SendResult(SendOutcome.PERMANENT, "552 5.3.4 Message size exceeds fixed limit", code=552, stage="mail")
    mailer = RecordingMailer(too_big, SendResult(SendOutcome.SENT))

    attempt = await worker(mailer, FixedDocuments(FetchOutcome.FETCHED)).attempt(delivery())

    assert (attempt.result.outcome, attempt.document_attached) == (SendOutcome.SENT, False)
    first, second = mailer.sent
    assert first.attachment is not None and second.attachment is None
    assert first.ledger_id == second.ledger_id
