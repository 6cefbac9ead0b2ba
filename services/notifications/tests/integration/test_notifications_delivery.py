"""Delivery on real SMTP servers: relays that fail on cue, connection reuse, a burst, SMS, metrics."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import update
from sqlmodel import select

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import DeliveryStatus, SendRequested
from notifications.adapters.mailer import SmtpMailer, SmtpSettings
from notifications.adapters.sms import FileSmsSink
from notifications.adapters.tables import Delivery
from notifications.service.handlers import record_send_request
from servicekit.messaging_tables import OutboxMessage, utcnow

pytestmark = pytest.mark.integration

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
SUBJECT_MARKER = {"fr": "Nouvelle facture ", "en": "New invoice "}


def request(recipient: str, *, locale: str = "fr", **changes) -> SendRequested:
    params = {**INVOICE_PARAMS, **changes.pop("params", {})}
    return SendRequested(
        idempotency_key=changes.pop("idempotency_key", f"invoice-delivered:{uuid.uuid4()}:buyer"),
        channel=changes.pop("channel", "email"),
        recipient=recipient,
        locale=locale,
        template=changes.pop("template", "invoice-delivered"),
        params=params,
        tenant="c-buyer",
        **changes,
    )


def mailer_for(port: int, **changes) -> SmtpMailer:
    values = {"host": "127.0.0.1", "port": port, "timeout_s": 5.0, "connections": 1}
    values.update(changes)
    return SmtpMailer(SmtpSettings(**values))


async def rows_by_recipient(sessions) -> dict[str, Delivery]:
    async with sessions() as session:
        return {row.recipient: row for row in (await session.exec(select(Delivery))).all()}


async def statuses(sessions) -> dict[str, DeliveryStatus]:
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    events = [DeliveryStatus.model_validate_json(row.payload) for row in rows]
    return {event.ledger_id: event for event in events}


async def eventually(check, what: str, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def record_all(sessions, events: list[SendRequested]) -> None:
    async with sessions() as session, session.begin():
        for event in events:
            envelope = Envelope.new(source="/factora/invoicing", type=catalogue.SEND_REQUESTED.schema_name)
            await record_send_request(event, envelope, session)


async def make_due_now(sessions) -> None:
    async with sessions() as session, session.begin():
        await session.exec(update(Delivery).where(Delivery.status == "pending").values(next_attempt_at=utcnow()))


async def test_a_4xx_answer_is_retried_with_back_off_and_the_message_then_goes_once(
    record_request, make_dispatcher, scripted_relay, sessions, address
):
    to = address("busy")
    relay = scripted_relay({to: ["rcpt:451 4.3.0 Mailbox busy, try later", "ok"]})
    await record_request(request(to))
    worker = make_dispatcher(mailer_for(relay.port))

    assert await worker.run_once() == 1
    row = (await rows_by_recipient(sessions))[to]
    assert (row.status, row.attempts) == ("pending", 1)
    assert "451" in (row.last_error or "")
    assert row.next_attempt_at > row.updated_at, "the retry waits for its back-off"
    assert await statuses(sessions) == {}, "a retry is not an outcome"

    await make_due_now(sessions)
    assert await worker.run_once() == 1

    row = (await rows_by_recipient(sessions))[to]
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert relay.accepted_for(to) == 1
    assert [s.outcome for s in (await statuses(sessions)).values()] == ["sent"]


@pytest.mark.parametrize(
    "action", ["rcpt:550 5.1.1 No such mailbox", "data:554 5.6.0 Message rejected as spam"], ids=["rcpt", "data"]
)
async def test_a_5xx_answer_fails_the_message_at_once_and_it_is_never_tried_again(
    record_request, make_dispatcher, scripted_relay, sessions, address, action
):
    to = address("gone")
    relay = scripted_relay({to: [action]})
    await record_request(request(to))
    worker = make_dispatcher(mailer_for(relay.port), max_attempts=5)

    assert await worker.run_once() == 1
    await make_due_now(sessions)
    assert await worker.run_once() == 0

    row = (await rows_by_recipient(sessions))[to]
    assert (row.status, row.attempts) == ("failed", 1)
    assert action.split(":", 1)[1].split()[0] in (row.last_error or "")
    (status,) = (await statuses(sessions)).values()
    assert (status.outcome, status.attempts) == ("failed", 1)
    assert relay.accepted_for(to) == 0


async def test_a_link_cut_after_data_is_recorded_unknown_and_the_message_is_not_sent_again(
    record_request, make_dispatcher, scripted_relay, sessions, address
):
    to = address("cut")
    relay = scripted_relay({to: ["drop", "ok"]})
    await record_request(request(to))
    worker = make_dispatcher(mailer_for(relay.port), max_attempts=5)

    assert await worker.run_once() == 1
    await make_due_now(sessions)
    assert await worker.run_once() == 0

    row = (await rows_by_recipient(sessions))[to]
    assert (row.status, row.attempts) == ("unknown", 1)
    assert relay.received == [to], "the relay got the whole message exactly once"
    (status,) = (await statuses(sessions)).values()
    assert status.outcome == "unknown"


async def test_each_message_on_a_shared_connection_gets_its_own_outcome(
    record_request, make_dispatcher, scripted_relay, sessions, address
):
    first, refused, busy, cut, after_cut, last = (address(n) for n in ("a", "refused", "busy", "cut", "b", "c"))
    relay = scripted_relay(
        {
            refused: ["rcpt:550 5.1.1 No such mailbox"],
            busy: ["data:452 4.3.1 Insufficient storage"],
            cut: ["drop"],
        }
    )
    for to in (first, refused, busy, cut, after_cut, last):
        await record_request(request(to))
        await asyncio.sleep(0.002)  # claimed in this order
    worker = make_dispatcher(mailer_for(relay.port), max_attempts=5)

    assert await worker.run_once() == 6

    rows = await rows_by_recipient(sessions)
    assert {to: rows[to].status for to in rows} == {
        first: "sent",
        refused: "failed",
        busy: "pending",
        cut: "unknown",
        after_cut: "sent",
        last: "sent",
    }
    assert all(rows[to].attempts == 1 for to in rows)
    assert sorted(to for to, _ in relay.accepted) == sorted([first, after_cut, last])
    # One connection until the cut, a second one after it: the refusals did not cost a connection.
    assert relay.connections == 2


async def test_a_batch_goes_over_one_authenticated_connection_with_rset_between_messages(
    record_request, make_dispatcher, scripted_relay, sessions, address
):
    relay = scripted_relay(require_auth=True)
    recipients = [address(f"batch{i}") for i in range(20)]
    for to in recipients:
        await record_request(request(to))
    mailer = mailer_for(
        relay.port,
        username="relay-user",
        password=SecretStr("relay-password-for-tests"),
        allow_auth_without_tls=True,
    )
    worker = make_dispatcher(mailer, claim_size=7)

    assert await worker.run_once() == 20

    assert sorted(to for to, _ in relay.accepted) == sorted(recipients)
    assert (relay.connections, relay.auths, relay.rsets) == (1, 1, 19)
    assert {row.status for row in (await rows_by_recipient(sessions)).values()} == {"sent"}


async def test_a_relay_hanging_up_between_messages_is_reconnected_without_charging_any_message(
    record_request, make_dispatcher, scripted_relay, sessions, address
):
    relay = scripted_relay(close_after=3)
    recipients = [address(f"hangup{i}") for i in range(10)]
    for to in recipients:
        await record_request(request(to))
    worker = make_dispatcher(mailer_for(relay.port))

    assert await worker.run_once() == 10

    rows = await rows_by_recipient(sessions)
    assert {(row.status, row.attempts) for row in rows.values()} == {("sent", 1)}
    assert sorted(to for to, _ in relay.accepted) == sorted(recipients)
    assert relay.connections == 4


async def test_a_relay_that_turns_connections_away_is_tried_once_per_batch_not_once_per_message(
    record_request, make_dispatcher, sessions, address
):
    greetings = 0

    async def busy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal greetings
        greetings += 1
        writer.write(b"421 4.3.2 Too busy, try later\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(busy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for i in range(5):
        await record_request(request(address(f"down{i}")))
    worker = make_dispatcher(mailer_for(port, timeout_s=2))

    async with server:
        assert await worker.run_once() == 5

    rows = (await rows_by_recipient(sessions)).values()
    # Turned away before anything was handed over: no attempt used (the relay's outage, not the message's).
    assert {(row.status, row.attempts) for row in rows} == {("pending", 0)}
    assert sum("relay unavailable" in (row.last_error or "") for row in rows) == 4
    assert greetings == 1


async def test_a_stopping_dispatcher_finishes_the_message_in_flight_and_gives_the_rest_back(
    record_request, make_dispatcher, scripted_relay, sessions, address
):
    recipients = [address(f"stop{i}") for i in range(4)]
    relay = scripted_relay({to: ["slow:0.3"] for to in recipients})
    for to in recipients:
        await record_request(request(to))
        await asyncio.sleep(0.002)
    worker = make_dispatcher(mailer_for(relay.port))

    await worker.start()
    await eventually(lambda: bool(relay.received), "the first message to be under way")
    await worker.stop()

    rows = await rows_by_recipient(sessions)
    assert relay.accepted_for(recipients[0]) == 1
    assert (rows[recipients[0]].status, rows[recipients[0]].attempts) == ("sent", 1)
    assert {(rows[to].status, rows[to].attempts) for to in recipients[1:]} == {("pending", 0)}
    assert len(relay.received) == 1


async def test_rows_held_too_long_in_a_batch_go_back_unsent_before_anyone_could_call_them_stuck(
    record_request, make_dispatcher, scripted_relay, sessions, address
):
    recipients = [address(f"late{i}") for i in range(4)]
    relay = scripted_relay({to: ["slow:0.3"] for to in recipients})
    for to in recipients:
        await record_request(request(to))
        await asyncio.sleep(0.002)
    # Half of stuck_after_s is the most a claimed row may wait for its turn.
    worker = make_dispatcher(mailer_for(relay.port), stuck_after_s=0.4)

    assert await worker.run_once() == 4

    rows = await rows_by_recipient(sessions)
    assert (rows[recipients[0]].status, rows[recipients[0]].attempts) == ("sent", 1)
    assert {(rows[to].status, rows[to].attempts) for to in recipients[1:]} == {("pending", 0)}
    assert relay.received == recipients[:1]


@pytest.mark.slow
async def test_a_thousand_requests_make_a_thousand_emails_to_the_right_people_in_their_language(
    sessions, make_dispatcher, smtp_catcher, mailbox
):
    run = uuid.uuid4().hex[:8]
    requests = []
    for i in range(1000):
        locale = "fr" if i % 3 else "en"
        to = f"bulk-{run}-{i:04d}@example.com"
        requests.append(request(to, locale=locale, params={"invoice_number": f"F-{run}-{i:04d}"}))
    expected = {event.recipient: event.locale for event in requests}
    # Recorded by the consumer's handler, in four transactions at a time as a consumer group would.
    await asyncio.gather(*(record_all(sessions, requests[part::4]) for part in range(4)))
    mailer = SmtpMailer(SmtpSettings(host=smtp_catcher.host, port=smtp_catcher.port, timeout_s=10, connections=4))
    worker = make_dispatcher(mailer, lanes=4, claim_size=25)
    started = time.monotonic()

    sent = 0
    while sent < 1000 and time.monotonic() - started < 60:
        sent += await worker.run_once()
    elapsed = time.monotonic() - started

    rows = await rows_by_recipient(sessions)
    assert sent == 1000
    assert {row.status for row in rows.values()} == {"sent"}
    stored = await asyncio.to_thread(mailbox.files_mentioning, f"bulk-{run}-", headers_only=True)
    # The folder is shared with the rest of the session: leave it as it was.
    await asyncio.to_thread(lambda: [path.unlink() for path, _ in stored])
    assert len(stored) == 1000, "one .eml file per request"
    by_recipient = {str(mail["To"]): mail for _, mail in stored}
    assert set(by_recipient) == set(expected), "each recipient got exactly one e-mail"
    for to, mail in by_recipient.items():
        locale = expected[to]
        number = f"F-{run}-{to.split('-')[-1].split('@')[0]}"
        assert mail["Subject"].startswith(SUBJECT_MARKER[locale] + number), (to, mail["Subject"])
        assert mail["Content-Language"] == locale
        assert mail["Message-ID"] == f"<{rows[to].id}@notifications.factora.local>"
    print(f"1000 e-mails delivered in {elapsed:.2f} s ({1000 / elapsed:.0f}/s)")


async def test_an_sms_number_is_normalised_to_e164_and_written_to_the_sink(
    record_request, make_dispatcher, sessions, tmp_path
):
    sink = FileSmsSink(tmp_path / "phones.jsonl")
    params = {"code": "482913", "expires_in_minutes": 10}
    sms = {"channel": "sms", "template": "mfa-code", "params": params, "locale": "en"}
    await record_request(request("06 12 34 56 78", **sms))
    await record_request(request("06 12 34", **sms))  # too short to exist
    worker = make_dispatcher(mailer_for(1), sms=sink)

    assert await worker.run_once() == 2

    rows = await rows_by_recipient(sessions)
    assert (rows["+33612345678"].status, rows["+33612345678"].last_error) == ("sent", None)
    assert rows["06 12 34"].status == "failed"
    assert rows["06 12 34"].last_error == "recipient is not a valid phone number"
    (line,) = sink.read_all()
    assert (line["to"], line["idempotency_key"]) == ("+33612345678", str(rows["+33612345678"].id))
    assert "482913" in line["text"] and "\n" not in line["text"]


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_outcomes_are_counted_per_template_channel_and_outcome_with_their_latency(
    record_request, make_dispatcher, scripted_relay, address
):
    ok, gone = address("counted"), address("counted-gone")
    relay = scripted_relay({gone: ["rcpt:550 5.1.1 No such mailbox"]})
    labels = {"template": "invoice-delivered", "channel": "email"}
    before = {
        outcome: sample("factora_notifications_deliveries_total", {**labels, "outcome": outcome})
        for outcome in ("sent", "failed")
    }
    latency_before = sample(
        "factora_notifications_delivery_latency_seconds_count", {"channel": "email", "outcome": "sent"}
    )
    await record_request(request(ok))
    await record_request(request(gone))

    await make_dispatcher(mailer_for(relay.port)).run_once()

    for outcome in ("sent", "failed"):
        after = sample("factora_notifications_deliveries_total", {**labels, "outcome": outcome})
        assert after == before[outcome] + 1, outcome
    latency_after = sample(
        "factora_notifications_delivery_latency_seconds_count", {"channel": "email", "outcome": "sent"}
    )
    assert latency_after == latency_before + 1


async def test_statuses_carry_the_request_event_id(record_request, make_dispatcher, scripted_relay, sessions, address):
    relay = scripted_relay()
    envelope = await record_request(request(address("traced")))

    await make_dispatcher(mailer_for(relay.port)).run_once()

    (status,) = (await statuses(sessions)).values()
    assert status.request_event_id == envelope.id
    assert status.document_attached is None
    raw = json.loads(status.model_dump_json())
    assert "recipient" not in raw and "params" not in raw
