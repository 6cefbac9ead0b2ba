"""add_to_outbox: what it stages in the caller's session (no database is touched)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.catalogue import DELIVERY_STATUS
from contracts.envelope import Envelope
from contracts.v1 import DeliveryStatus, SendRequested
from servicekit.messaging_tables import OutboxMessage
from servicekit.outbox import add_to_outbox

pytestmark = pytest.mark.unit


def _status() -> DeliveryStatus:
    return DeliveryStatus(
        ledger_id="led-1",
        idempotency_key="idem-1",
        channel="email",
        template="invoice-delivered",
        outcome="sent",
        attempts=1,
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def _staged(session: AsyncSession) -> list[OutboxMessage]:
    return [obj for obj in session.sync_session.new if isinstance(obj, OutboxMessage)]


def test_add_to_outbox_refuses_an_event_of_another_topic_and_stages_nothing():
    session = AsyncSession()
    wrong = SendRequested(idempotency_key="k", channel="sms", recipient="+33600000000", template="t")
    with pytest.raises(
        TypeError, match=r"notifications\.delivery-status\.v1 carries DeliveryStatus, not SendRequested"
    ):
        add_to_outbox(session, DELIVERY_STATUS, wrong, source="/factora/notifications", key="led-1")
    assert _staged(session) == []


def test_add_to_outbox_stages_one_row_whose_headers_are_the_cloudevents_envelope():
    session = AsyncSession()
    envelope = add_to_outbox(
        session,
        DELIVERY_STATUS,
        _status(),
        source="/factora/notifications",
        key="led-1",
        subject="invoice-42",
        tenant="c-seller",
    )
    [row] = _staged(session)
    assert row.topic == DELIVERY_STATUS.name
    assert row.key == "led-1"
    assert row.published_at is None
    assert row.headers["ce_type"] == DELIVERY_STATUS.name
    assert row.headers["ce_source"] == "/factora/notifications"
    assert row.headers["ce_subject"] == "invoice-42"
    assert row.headers["factora_tenant"] == "c-seller"
    assert row.headers["ce_id"] == envelope.id
    assert row.headers == envelope.to_headers()
    # The consumer side reads back exactly what was staged.
    assert Envelope.from_headers(row.headers) == envelope
    assert DeliveryStatus.model_validate_json(row.payload) == _status()


def test_add_to_outbox_uses_the_key_as_subject_and_keeps_a_given_event_id():
    session = AsyncSession()
    envelope = add_to_outbox(
        session, DELIVERY_STATUS, _status(), source="/factora/notifications", key="led-9", event_id="evt-fixed"
    )
    [row] = _staged(session)
    assert envelope.id == "evt-fixed" == row.headers["ce_id"]
    assert row.headers["ce_subject"] == "led-9"
    assert "factora_tenant" not in row.headers
    assert "traceparent" not in row.headers  # no active span, nothing to propagate


def test_add_to_outbox_inside_a_span_carries_its_trace_context():
    tracer = TracerProvider().get_tracer("servicekit-tests")
    session = AsyncSession()
    with tracer.start_as_current_span("issue-invoice") as span:
        add_to_outbox(session, DELIVERY_STATUS, _status(), source="/factora/notifications", key="led-1")
        trace_id = f"{span.get_span_context().trace_id:032x}"
    [row] = _staged(session)
    version, carried_trace_id, _span_id, _flags = row.headers["traceparent"].split("-")
    assert (version, carried_trace_id) == ("00", trace_id)


def test_each_staged_event_gets_its_own_id():
    session = AsyncSession()
    first = add_to_outbox(session, DELIVERY_STATUS, _status(), source="/factora/notifications", key="a")
    second = add_to_outbox(session, DELIVERY_STATUS, _status(), source="/factora/notifications", key="a")
    assert first.id != second.id
    assert len(_staged(session)) == 2
