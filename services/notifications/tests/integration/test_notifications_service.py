"""The whole service on real Kafka, PostgreSQL and SMTP: exactly-once by event and by key, and the operator API."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlalchemy import text
from sqlmodel import select

import notifications
from contracts import catalogue
from contracts.v1 import SendRequested
from devstack.local_jwks import LocalJwks
from factora_testing.kafka_io import publish_event
from notifications.adapters.tables import Delivery
from notifications.bootstrap import build_app
from notifications.settings import Settings, SmtpSettings
from servicekit.auth import Right
from servicekit.migrations import upgrade_to_head
from servicekit.settings import KafkaSettings

pytestmark = pytest.mark.integration

MIGRATIONS = notifications.__file__.rsplit("/", 1)[0] + "/migrations"
TOPIC = catalogue.SEND_REQUESTED.name
PARAMS = {
    "seller_name": "Atelier Lumière SARL",
    "invoice_number": "F2026-000042",
    "amount": "1145.52",
    "currency": "EUR",
    "due_date": None,
    "document_url": "http://127.0.0.1:8003/archive/documents/5a0b3c1e",
}


class JwksServer(LocalJwks):
    """Identity's JWKS, with operator tokens signed by its key."""

    def token(self, *rights: str, company_id: str = "c-factora") -> str:  # type: ignore[override]
        return super().token(company_id, rights, user_id="u-operator", ttl_s=300)


@pytest.fixture(scope="module")
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


async def start_group_at_the_end(bootstrap: str, group_id: str) -> None:
    """Commit the group's offsets at the topic's end: the service consumes only what this module publishes."""
    spec = catalogue.SEND_REQUESTED
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(spec.name, p) for p in range(spec.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
async def service(fresh_database, kafka_broker, smtp_catcher, jwks, tmp_path_factory):
    """The notifications app with its lifespan (consumer, dispatcher, relay) behind httpx."""
    url = await fresh_database("notifications_service")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    # A name of its own: its consumer group never shares partitions with a running notifications.
    name = f"notifications-it-{uuid.uuid4().hex[:8]}"
    await start_group_at_the_end(kafka_broker.bootstrap, f"{name}.{TOPIC}")
    settings = Settings(
        database_url=SecretStr(url),
        service_name=name,
        kafka=KafkaSettings(bootstrap_servers=kafka_broker.bootstrap, retry_attempts=2, retry_base_delay_s=0.05),
        smtp=SmtpSettings(host=smtp_catcher.host, port=smtp_catcher.port, timeout_s=10),
        sms_sink_path=tmp_path_factory.mktemp("sms") / "outbox.jsonl",
        outbox_poll_interval_s=0.2,
        **{"IDENTITY_JWKS_URL": jwks.url},
    )
    app = build_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as client:
            yield SimpleNamespace(
                app=app, client=client, sessions=app.state.runtime.sessions, bootstrap=kafka_broker.bootstrap
            )


async def eventually(check, what: str, timeout_s: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def send_request(recipient: str, key: str) -> SendRequested:
    return SendRequested(
        idempotency_key=key,
        channel="email",
        recipient=recipient,
        locale="en",
        template="invoice-delivered",
        params=PARAMS,
        tenant="c-buyer",
    )


async def delivered(service, recipient: str) -> Delivery | None:
    async with service.sessions() as session:
        rows = (await session.exec(select(Delivery).where(Delivery.recipient == recipient))).all()
    assert len(rows) <= 1
    return rows[0] if rows and rows[0].status == "sent" else None


async def consumed(service, *event_ids: str) -> bool:
    async with service.sessions() as session:
        seen = (await session.exec(text("SELECT message_id FROM inbox"))).all()  # type: ignore[call-overload]
    return set(event_ids) <= {row[0] for row in seen}


@pytest.fixture(scope="module")
async def delivered_twice(service):
    """One request published three times: the same event twice, then a new event with the same key."""
    recipient = f"twice-{uuid.uuid4().hex[:8]}@example.com"
    key = f"invoice-delivered:{uuid.uuid4()}:buyer"
    event = send_request(recipient, key)
    first = await publish_event(service.bootstrap, catalogue.SEND_REQUESTED, event, key=key, tenant="c-buyer")
    await publish_event(
        service.bootstrap, catalogue.SEND_REQUESTED, event, key=key, tenant="c-buyer", event_id=first.id
    )
    second = await publish_event(service.bootstrap, catalogue.SEND_REQUESTED, event, key=key, tenant="c-buyer")
    row = await eventually(lambda: delivered(service, recipient), "the e-mail to be sent")
    await eventually(lambda: consumed(service, first.id, second.id), "all three events to be consumed")
    await asyncio.sleep(0.5)  # a second e-mail, if there were one, would have gone by now
    return SimpleNamespace(recipient=recipient, key=key, first=first.id, second=second.id, row=row)


async def test_the_same_event_twice_and_a_new_event_with_the_same_key_make_one_email(delivered_twice, mailbox):
    mails = mailbox.to(delivered_twice.recipient)

    assert len(mails) == 1
    assert mails[0]["Message-ID"].startswith(f"<{delivered_twice.row.id}@")
    assert delivered_twice.row.request_event_id == delivered_twice.first


def operator(jwks: JwksServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwks.token(Right.OPERATOR)}"}


async def test_an_operator_finds_the_deliveries_of_a_recipient_without_their_contents(service, jwks, delivered_twice):
    response = await service.client.get(
        "/deliveries", params={"recipient": delivered_twice.recipient.upper()}, headers=operator(jwks)
    )

    assert response.status_code == 200, response.text
    body = response.json()
    (row,) = body["deliveries"]
    assert row["id"] == str(delivered_twice.row.id)
    assert (row["recipient"], row["status"], row["attempts"]) == (delivered_twice.recipient, "sent", 1)
    assert (row["idempotency_key"], row["request_event_id"]) == (delivered_twice.key, delivered_twice.first)
    assert row["completed_at"] is not None
    assert "params" not in row and PARAMS["invoice_number"] not in response.text


@pytest.mark.parametrize("by", ["idempotency_key", "event_id"])
async def test_an_operator_finds_a_delivery_by_its_key_or_by_the_event_that_asked_for_it(
    service, jwks, delivered_twice, by
):
    value = delivered_twice.key if by == "idempotency_key" else delivered_twice.first

    response = await service.client.get("/deliveries", params={by: value}, headers=operator(jwks))

    assert response.status_code == 200, response.text
    assert [row["id"] for row in response.json()["deliveries"]] == [str(delivered_twice.row.id)]


async def test_a_look_up_needs_a_filter(service, jwks):
    response = await service.client.get("/deliveries", headers=operator(jwks))

    assert response.status_code == 422
    assert "recipient" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/deliveries?recipient=someone@example.com", "/deliveries/summary"])
async def test_the_ledger_is_for_operators_only(service, jwks, path):
    company_admin = {"Authorization": f"Bearer {jwks.token(Right.ADMIN, Right.SUPPORT_AGENT, Right.VIEW_INVOICES)}"}

    anonymous = await service.client.get(path)
    refused = await service.client.get(path, headers=company_admin)
    allowed = await service.client.get(path, headers=operator(jwks))

    assert anonymous.status_code == 401
    assert refused.status_code == 403
    assert Right.OPERATOR in refused.json()["detail"]
    assert allowed.status_code == 200


async def test_the_summary_counts_deliveries_per_channel_and_state(service, jwks, delivered_twice):
    response = await service.client.get("/deliveries/summary", headers=operator(jwks))

    assert response.status_code == 200
    assert response.json()["email"]["sent"] >= 1


async def test_metrics_expose_deliveries_per_template_channel_and_outcome(service, delivered_twice):
    response = await service.client.get("/metrics")

    assert response.status_code == 200
    lines = response.text.splitlines()
    assert any(
        line.startswith("factora_notifications_deliveries_total{")
        and 'template="invoice-delivered"' in line
        and 'channel="email"' in line
        and 'outcome="sent"' in line
        for line in lines
    )
    assert any(line.startswith("factora_notifications_delivery_latency_seconds_bucket{") for line in lines)
