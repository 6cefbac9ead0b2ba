"""The delivery ledger on real PostgreSQL and a real SMTP catcher: each message goes out once, or says why not."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlmodel import select

import notifications
from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import DeliveryStatus, SendRequested
from notifications.adapters import SendOutcome, SendResult
from notifications.adapters.mailer import OutgoingEmail, SmtpMailer, SmtpSettings
from notifications.adapters.tables import Delivery
from notifications.adapters.templating import TemplateRenderer
from notifications.service.handlers import record_send_request
from servicekit.db import make_engine, make_session_factory
from servicekit.messaging_tables import OutboxMessage, utcnow
from servicekit.migrations import upgrade_to_head

pytestmark = pytest.mark.integration

MIGRATIONS = Path(notifications.__file__).parent / "migrations"
MESSAGE_ID_DOMAIN = "notifications.factora.local"
RENDERER = TemplateRenderer()
INVOICE_PARAMS = {
    "seller_name": "Atelier Lumière SARL",
    "buyer_name": "Brasserie du Parc SA",
    "invoice_number": "F2026-000042",
    "amount": "1145.52",
    "currency": "EUR",
    "issue_date": "2026-01-02",
    "due_date": "2026-02-01",
    "document_url": "http://127.0.0.1:8003/archive/documents/5a0b3c1e",
}


@pytest.fixture
def catcher_mailer(smtp_catcher) -> SmtpMailer:
    return SmtpMailer(SmtpSettings(host=smtp_catcher.host, port=smtp_catcher.port, timeout_s=5))


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeMailer:
    """Counts sends and answers with a fixed outcome."""

    def __init__(self, outcome: SendOutcome = SendOutcome.SENT) -> None:
        self.outcome = outcome
        self.sent: list[OutgoingEmail] = []

    async def send(self, message: OutgoingEmail) -> SendResult:
        self.sent.append(message)
        await asyncio.sleep(0.01)
        return SendResult(self.outcome, f"fake {self.outcome}")


def request(recipient: str | None = None, **changes) -> SendRequested:
    return SendRequested(
        idempotency_key=changes.pop("idempotency_key", f"invoice-delivered:{uuid.uuid4()}:buyer"),
        channel=changes.pop("channel", "email"),
        recipient=recipient or f"buyer-{uuid.uuid4().hex[:10]}@example.com",
        locale="fr",
        template=changes.pop("template", "invoice-delivered"),
        params=changes.pop("params", INVOICE_PARAMS),
        tenant=changes.pop("tenant", "c-buyer"),
        **changes,
    )


async def record(sessions, event: SendRequested) -> None:
    envelope = Envelope.new(source="/factora/invoicing", type=catalogue.SEND_REQUESTED.schema_name, tenant="c-env")
    async with sessions() as session, session.begin():
        await record_send_request(event, envelope, session)


async def ledger(sessions) -> list[Delivery]:
    async with sessions() as session:
        return list((await session.exec(select(Delivery).order_by(Delivery.created_at))).all())


async def statuses(sessions) -> list[DeliveryStatus]:
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.created_at))).all()
    assert all(row.topic == catalogue.DELIVERY_STATUS.name for row in rows)
    return [DeliveryStatus.model_validate_json(row.payload) for row in rows]


async def make_due_now(sessions) -> None:
    async with sessions() as session, session.begin():
        await session.exec(update(Delivery).values(next_attempt_at=utcnow()))


async def test_the_same_idempotency_key_twice_makes_one_ledger_row(sessions):
    event = request()

    await record(sessions, event)
    await record(sessions, event)  # redelivered, or asked again by the producer under a new event id

    (row,) = await ledger(sessions)
    assert (row.idempotency_key, row.recipient, row.template) == (
        event.idempotency_key,
        event.recipient,
        event.template,
    )
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.params == INVOICE_PARAMS
    assert row.tenant == "c-buyer"


async def test_the_same_key_for_another_recipient_is_another_message(sessions):
    event = request()

    await record(sessions, event)
    await record(sessions, event.model_copy(update={"recipient": "accounts@example.com"}))

    assert len(await ledger(sessions)) == 2


async def test_a_request_without_tenant_takes_the_envelope_tenant(sessions):
    await record(sessions, request(tenant=None))

    (row,) = await ledger(sessions)
    assert row.tenant == "c-env"


async def test_a_pending_message_is_sent_once_with_a_message_id_from_its_ledger_id(
    sessions, catcher_mailer, mailbox, make_dispatcher
):
    event = request()
    await record(sessions, event)
    await record(sessions, event)
    worker = make_dispatcher(catcher_mailer)

    assert await worker.run_once() == 1
    assert await worker.run_once() == 0

    mail = await mailbox.wait_for(event.recipient)
    (row,) = await ledger(sessions)
    assert mail["Message-ID"] == f"<{row.id}@{MESSAGE_ID_DOMAIN}>"
    assert mail["X-Factora-Ledger-Id"] == str(row.id)
    assert "F2026-000042" in mail["Subject"]
    assert len(mailbox.to(event.recipient)) == 1
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)

    (status,) = await statuses(sessions)
    assert (status.ledger_id, status.outcome, status.attempts) == (str(row.id), "sent", 1)
    assert (status.idempotency_key, status.template, status.channel) == (event.idempotency_key, event.template, "email")


async def test_a_relay_that_cannot_be_reached_keeps_the_message_waiting_without_using_up_its_attempts(
    sessions, mailbox, catcher_mailer, make_dispatcher
):
    # Regression (fault suite, issue #10): a relay down for a minute used up the 6 attempts of every
    # waiting message and failed them for good. Nothing reached the relay, so nothing was attempted.
    unreachable = SmtpMailer(SmtpSettings(host="127.0.0.1", port=closed_port(), timeout_s=2))
    event = request()
    await record(sessions, event)
    worker = make_dispatcher(unreachable, max_attempts=3)
    before = utcnow()

    for _ in range(5):  # more passes than max_attempts
        await make_due_now(sessions)
        assert await worker.run_once() == 1
        (row,) = await ledger(sessions)
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.next_attempt_at > before
        assert row.last_error
    assert await statuses(sessions) == [], "waiting for the relay is not an outcome"

    # Not due yet: left alone.
    async with sessions() as session, session.begin():
        await session.exec(update(Delivery).values(next_attempt_at=utcnow() + timedelta(hours=1)))
    assert await worker.run_once() == 0

    # The relay is back: the message goes, once, at its first real attempt.
    await make_due_now(sessions)
    assert await make_dispatcher(catcher_mailer, max_attempts=3).run_once() == 1
    (row,) = await ledger(sessions)
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(mailbox.to(event.recipient)) == 1


async def test_a_template_parameter_missing_fails_the_message_without_sending(
    sessions, catcher_mailer, mailbox, make_dispatcher
):
    params = {k: v for k, v in INVOICE_PARAMS.items() if k != "document_url"}
    event = request(params=params)
    await record(sessions, event)
    worker = make_dispatcher(catcher_mailer)

    assert await worker.run_once() == 1

    (row,) = await ledger(sessions)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "document_url" in (row.last_error or "")
    (status,) = await statuses(sessions)
    assert status.outcome == "failed"
    await make_due_now(sessions)
    assert await worker.run_once() == 0
    await asyncio.sleep(0.2)
    assert mailbox.to(event.recipient) == []


async def add_sending_row(sessions, recipient: str, *, last_touched: datetime, handed_over: bool = True) -> Delivery:
    row = Delivery(
        idempotency_key=f"k-{uuid.uuid4()}",
        channel="email",
        recipient=recipient,
        locale="en",
        template="invoice-delivered",
        params=INVOICE_PARAMS,
        status="sending",
        attempts=1,
        next_attempt_at=last_touched,
        created_at=last_touched,
        updated_at=last_touched,
        handed_over_at=last_touched if handed_over else None,
    )
    async with sessions() as session, session.begin():
        session.add(row)
    return row


async def test_a_message_left_sending_by_a_crash_becomes_unknown_and_is_never_resent(
    sessions, catcher_mailer, mailbox, make_dispatcher
):
    stuck_to = f"stuck-{uuid.uuid4().hex[:8]}@example.com"
    busy_to = f"busy-{uuid.uuid4().hex[:8]}@example.com"
    stuck = await add_sending_row(sessions, stuck_to, last_touched=utcnow() - timedelta(minutes=10))
    busy = await add_sending_row(sessions, busy_to, last_touched=utcnow())
    worker = make_dispatcher(catcher_mailer, stuck_after_s=60)

    assert await worker.mark_stuck_unknown() == 1
    assert await worker.run_once() == 0

    rows = {row.id: row for row in await ledger(sessions)}
    assert rows[stuck.id].status == "unknown"
    assert rows[busy.id].status == "sending", "a send still in its time budget is left alone"
    (status,) = await statuses(sessions)
    assert (status.ledger_id, status.outcome) == (str(stuck.id), "unknown")
    await asyncio.sleep(0.2)
    assert mailbox.to(stuck_to) == []


async def test_a_message_a_crash_caught_before_its_hand_over_goes_back_to_pending_and_is_sent_once(
    sessions, catcher_mailer, mailbox, make_dispatcher
):
    # Claimed in a batch, never handed to the relay: a kill -9 of the worker must not lose it.
    waiting_to = f"waiting-{uuid.uuid4().hex[:8]}@example.com"
    waiting = await add_sending_row(
        sessions, waiting_to, last_touched=utcnow() - timedelta(minutes=10), handed_over=False
    )
    worker = make_dispatcher(catcher_mailer, stuck_after_s=60)

    assert await worker.mark_stuck_unknown() == 0, "nothing reached the provider: nothing is unknown"
    (row,) = [r for r in await ledger(sessions) if r.id == waiting.id]
    assert (row.status, row.attempts) == ("pending", 0)
    assert await worker.run_once() == 1
    await asyncio.sleep(0.2)

    assert len(mailbox.to(waiting_to)) == 1
    (row,) = [r for r in await ledger(sessions) if r.id == waiting.id]
    assert (row.status, row.attempts) == ("sent", 1)
    assert row.handed_over_at is not None, "the hand-over was recorded before the relay was called"


async def test_an_unknown_outcome_from_the_mailer_is_final_and_not_retried(sessions, make_dispatcher):
    mailer = FakeMailer(SendOutcome.UNKNOWN)
    await record(sessions, request())
    worker = make_dispatcher(mailer)

    assert await worker.run_once() == 1
    await make_due_now(sessions)
    assert await worker.run_once() == 0

    assert len(mailer.sent) == 1
    (row,) = await ledger(sessions)
    assert (row.status, row.attempts) == ("unknown", 1)
    (status,) = await statuses(sessions)
    assert status.outcome == "unknown"


async def warm_pool(sessions, connections: int) -> None:
    started = asyncio.Barrier(connections)

    async def hold() -> None:
        async with sessions() as session:
            await session.exec(text("SELECT 1"))
            await started.wait()

    await asyncio.gather(*(hold() for _ in range(connections)))


async def test_dispatchers_racing_for_the_same_rows_send_each_message_once(sessions, make_dispatcher):
    mailer = FakeMailer()
    for _ in range(6):
        await record(sessions, request())
    workers = [make_dispatcher(mailer) for _ in range(4)]
    await warm_pool(sessions, 4)  # so no worker is held back by a slow first connect and the claims overlap

    counts = await asyncio.gather(*(worker.run_once() for worker in workers))

    assert sum(counts) == 6
    assert sorted(m.ledger_id for m in mailer.sent) == sorted(str(row.id) for row in await ledger(sessions))
    assert {row.status for row in await ledger(sessions)} == {"sent"}


async def test_the_ledger_keeps_the_event_id_of_the_request_that_created_the_row(sessions):
    event = request()
    envelope = Envelope.new(source="/factora/invoicing", type=catalogue.SEND_REQUESTED.schema_name, tenant="c-env")

    async with sessions() as session, session.begin():
        await record_send_request(event, envelope, session)
    again = Envelope.new(source="/factora/invoicing", type=catalogue.SEND_REQUESTED.schema_name, tenant="c-env")
    async with sessions() as session, session.begin():
        await record_send_request(event, again, session)  # a new event asking for the same message

    (row,) = await ledger(sessions)
    assert row.request_event_id == envelope.id


async def test_recipients_are_recorded_in_one_spelling_so_a_repeat_is_recognised(sessions):
    key = f"mfa:{uuid.uuid4()}"
    sms = {"channel": "sms", "template": "mfa-code", "params": {"code": "482913", "expires_in_minutes": 10}}
    await record(sessions, request("06 12 34 56 78", idempotency_key=key, **sms))
    await record(sessions, request("+33 6 12 34 56 78", idempotency_key=key, **sms))
    await record(sessions, request("Buyer.Name@Example.COM", idempotency_key=key))
    await record(sessions, request("Buyer.Name@example.com", idempotency_key=key))

    rows = await ledger(sessions)
    assert sorted(row.recipient for row in rows) == ["+33612345678", "Buyer.Name@example.com"]


async def test_the_second_migration_keeps_the_rows_written_under_the_first(fresh_database):
    from alembic import command

    from servicekit.migrations import alembic_config

    url = await fresh_database("notifications_upgrade")
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), "0001")
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO delivery (id, idempotency_key, channel, recipient, locale, template, params, status,"
                    " attempts, next_attempt_at, created_at, updated_at) VALUES (gen_random_uuid(), 'k-old', 'email',"
                    " 'old@example.com', 'fr', 'invoice-delivered', '{}', 'sent', 1, now(), now(), now())"
                )
            )
        await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
        async with make_session_factory(engine)() as session:
            (row,) = (await session.exec(select(Delivery))).all()
    finally:
        await engine.dispose()
    assert (row.idempotency_key, row.status, row.request_event_id, row.completed_at) == ("k-old", "sent", None, None)
