"""One delivery attempt without a database: render, route to the channel, and never let an error escape."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from notifications.adapters import SendOutcome, SendResult
from notifications.adapters.mailer import OutgoingEmail
from notifications.adapters.tables import Delivery
from notifications.adapters.templating import TemplateRenderer
from notifications.service.dispatcher import DeliveryDispatcher, RetryPolicy
from notifications.service.sending import Attempt

pytestmark = pytest.mark.unit

RENDERER = TemplateRenderer()
INVOICE_PARAMS = {
    "seller_name": "Atelier Lumière SARL",
    "invoice_number": "F2026-000042",
    "amount": "1145.52",
    "currency": "EUR",
    "due_date": None,
    "document_url": "https://signing.factora.test/archive/documents/5a0b3c1e",
}


class RecordingMailer:
    def __init__(self, result: SendResult | Exception = SendResult(SendOutcome.SENT)) -> None:
        self.result = result
        self.sent: list[OutgoingEmail] = []

    async def send(self, message: OutgoingEmail) -> SendResult:
        self.sent.append(message)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to_e164: str, text: str, idempotency_key: str) -> SendResult:
        self.sent.append((to_e164, text, idempotency_key))
        return SendResult(SendOutcome.SENT)


def worker(mailer: RecordingMailer, sms: RecordingSms | None = None) -> DeliveryDispatcher:
    return DeliveryDispatcher(
        None,  # type: ignore[arg-type]  # attempt() never touches the database
        RENDERER,
        mailer,
        sms or RecordingSms(),
        source="/factora/notifications",
        retry=RetryPolicy(max_attempts=3, base_delay_s=1, max_delay_s=2, stuck_after_s=60),
    )


def delivery(**changes) -> Delivery:
    values = {
        "id": uuid.uuid4(),
        "idempotency_key": "k-1",
        "channel": "email",
        "recipient": "buyer@example.com",
        "locale": "en",
        "template": "invoice-delivered",
        "params": INVOICE_PARAMS,
        "status": "sending",
        "attempts": 1,
    }
    values.update(changes)
    return Delivery(**values)


async def test_an_email_is_rendered_in_the_asked_language_and_carries_the_ledger_id():
    mailer = RecordingMailer()
    row = delivery()

    result = (await worker(mailer).attempt(row)).result

    assert result.outcome is SendOutcome.SENT
    (message,) = mailer.sent
    assert message.ledger_id == str(row.id)
    assert message.to == "buyer@example.com"
    assert message.subject == "New invoice F2026-000042 from Atelier Lumière SARL"
    assert "https://signing.factora.test/archive/documents/5a0b3c1e" in message.text
    assert "F2026-000042" in message.html


async def test_a_missing_parameter_is_a_permanent_failure_and_nothing_is_handed_over():
    mailer = RecordingMailer()
    params = {k: v for k, v in INVOICE_PARAMS.items() if k != "amount"}

    result = (await worker(mailer).attempt(delivery(params=params))).result

    assert result.outcome is SendOutcome.PERMANENT
    assert "amount" in (result.detail or "")
    assert mailer.sent == []


async def test_an_unknown_template_is_a_permanent_failure():
    mailer = RecordingMailer()

    result = (await worker(mailer).attempt(delivery(template="no-such-template"))).result

    assert result.outcome is SendOutcome.PERMANENT
    assert mailer.sent == []


async def test_an_adapter_that_crashes_is_recorded_as_unknown_because_the_message_may_have_left():
    mailer = RecordingMailer(RuntimeError("socket closed after DATA"))

    result = (await worker(mailer).attempt(delivery())).result

    assert result.outcome is SendOutcome.UNKNOWN
    assert "RuntimeError" in (result.detail or "")


async def test_an_sms_goes_to_the_sms_gateway_with_its_short_text_and_the_ledger_id_as_key():
    mailer, sms = RecordingMailer(), RecordingSms()
    row = delivery(
        channel="sms",
        recipient="+33612345678",
        template="mfa-code",
        params={"code": "482913", "expires_in_minutes": 10},
    )

    result = (await worker(mailer, sms).attempt(row)).result

    assert result.outcome is SendOutcome.SENT
    assert mailer.sent == []
    ((to, text, key),) = sms.sent
    assert (to, key) == ("+33612345678", str(row.id))
    assert "482913" in text and "\n" not in text


# --- recording outcomes through a database outage ---


async def test_outcomes_are_recorded_again_through_a_database_outage_and_a_bug_is_not_retried(monkeypatch):
    dispatcher = worker(RecordingMailer())
    calls: list[int] = []
    failures: list[BaseException] = [ConnectionRefusedError("database restarting"), OSError("reset by peer")]

    async def record_many(attempts, released=()):
        calls.append(len(attempts))
        if failures:
            raise failures.pop(0)

    monkeypatch.setattr(dispatcher, "record_many", record_many)
    row = delivery()
    await dispatcher.record_outcomes([(row, Attempt(SendResult(SendOutcome.SENT)))])
    assert calls == [1, 1, 1]  # two outage failures, then recorded

    async def buggy(attempts, released=()):
        calls.append(-1)
        raise KeyError("bug")

    monkeypatch.setattr(dispatcher, "record_many", buggy)
    with pytest.raises(KeyError):
        await dispatcher.record_outcomes([(row, Attempt(SendResult(SendOutcome.SENT)))])
    assert calls[-1:] == [-1] and len(calls) == 4


async def test_recording_gives_up_before_the_sweep_could_call_the_message_unknown(monkeypatch):
    dispatcher = DeliveryDispatcher(
        None,  # type: ignore[arg-type]
        RENDERER,
        RecordingMailer(),
        RecordingSms(),
        source="/factora/notifications",
        retry=RetryPolicy(max_attempts=3, base_delay_s=1, max_delay_s=2, stuck_after_s=0.6),
    )

    async def database_down(attempts, released=()):
        raise ConnectionRefusedError("database down")

    monkeypatch.setattr(dispatcher, "record_many", database_down)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(ConnectionRefusedError):
        await dispatcher.record_outcomes([(delivery(), Attempt(SendResult(SendOutcome.SENT)))])
    assert loop.time() - began < 0.6  # within half the stuck timeout, plus one last try
