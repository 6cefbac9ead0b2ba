"""One trace per invoice on the real stack: partner event -> invoicing -> signing -> invoicing -> notifications.

The services export their spans over OTLP/HTTP to the session's trace receiver (devstack's
`trace_collector`); the partner system here starts the trace itself, as a traced ERP would, so
the test knows the trace id before anything happens.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.examples import partner_key, sample_partner_invoice, signed_partner_headers
from contracts.topics.identity import PARTNER_CREDENTIAL_REGISTERED
from contracts.v1.identity import PartnerCredentialRegistered
from devstack.trace_collector import CollectedSpan
from factora_testing.kafka_io import publish_raw, wait_for_record
from factora_testing.operator import fund_sample_seller

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# (topic, service that publishes it, service that consumes it) along the invoice's path, in order.
HOPS = [
    (catalogue.INVOICE_ISSUED.name, "invoicing", "signing"),
    (catalogue.INVOICE_SEALED.name, "signing", "invoicing"),
    (catalogue.SEND_REQUESTED.name, "invoicing", "notifications"),
]


def producer_spans(spans: list[CollectedSpan], service: str, topic: str) -> list[CollectedSpan]:
    return [
        s
        for s in spans
        if s.service == service and s.kind == "PRODUCER" and s.attributes.get("messaging.destination.name") == topic
    ]


def consumer_spans(spans: list[CollectedSpan], service: str, topic: str) -> list[CollectedSpan]:
    return [
        s
        for s in spans
        if s.service == service
        and s.kind == "CONSUMER"
        and s.attributes.get("messaging.destination_publish.name") == topic
    ]


def describe(spans: list[CollectedSpan]) -> str:
    return "\n".join(
        f"  {s.service:<14} {s.kind:<9} {s.name}  span={s.span_id} parent={s.parent_span_id}" for s in spans
    )


async def register_partner_key(
    bootstrap: str, company_id: str, partner_id: str, trace_collector
) -> tuple[Ed25519PrivateKey, str]:
    """Announce a partner key as identity does when an admin registers one; wait until invoicing has it."""
    private_key = Ed25519PrivateKey.generate()
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = f"pk-trace-{uuid.uuid4().hex[:10]}"
    credential = PartnerCredentialRegistered(
        company_id=company_id,
        partner_id=partner_id,
        partner_name="Traced ERP",
        key_id=key_id,
        public_key=base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        registered_at=datetime.now(UTC),
    )
    trace_id = secrets.token_hex(16)
    envelope = Envelope.new(
        source="/factora/identity",
        type=PARTNER_CREDENTIAL_REGISTERED.schema_name,
        subject=key_id,
        tenant=company_id,
        traceparent=f"00-{trace_id}-{secrets.token_hex(8)}-01",
    )
    await publish_raw(
        bootstrap,
        PARTNER_CREDENTIAL_REGISTERED.name,
        credential.model_dump_json().encode(),
        key_id,
        envelope.to_headers(),
    )
    # invoicing's CONSUMER span of that event ends once its read model has the key.
    await trace_collector.wait_for_async(
        lambda spans: any(s.trace_id == trace_id and s.service == "invoicing" and s.kind == "CONSUMER" for s in spans),
        timeout=60,
    )
    return private_key, key_id


async def until_delivered_or_rejected(kafka_broker, smtp_catcher, trace_collector, trace_id, event_id, email) -> None:
    """Wait for the buyer's e-mail; fail at once, with the reasons, if invoicing rejected the submission."""
    rejected = f"{catalogue.PARTNER_INVOICE_REJECTED.name} publish"
    deadline = asyncio.get_running_loop().time() + 90
    while not any(email in m.get("To", "") for m in smtp_catcher.messages()):
        if any(s.name == rejected for s in trace_collector.trace(trace_id)):
            value, _ = await wait_for_record(
                kafka_broker.bootstrap,
                catalogue.PARTNER_INVOICE_REJECTED.name,
                lambda v, h: v.get("submission_event_id") == event_id,
            )
            pytest.fail(f"invoicing rejected the traced submission: {value.get('reasons')}")
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(
                f"no e-mail to {email} after 90 s; spans of the trace:\n{describe(trace_collector.trace(trace_id))}"
            )
        await asyncio.sleep(0.25)


async def test_a_partner_invoice_is_one_trace_across_invoicing_signing_and_notifications(
    running_network, kafka_broker, smtp_catcher, trace_collector
):
    fund_sample_seller(running_network)
    trace_id, partner_span_id = secrets.token_hex(16), secrets.token_hex(8)
    buyer_email = f"traced-{uuid.uuid4().hex[:8]}@example.com"
    event = sample_partner_invoice(buyer_email=buyer_email)
    private_key, key_id = await register_partner_key(
        kafka_broker.bootstrap, event.seller.company_id, event.partner_id, trace_collector
    )
    spec = catalogue.PARTNER_INVOICE_SUBMITTED
    # A traced partner ERP: its own span is the parent of everything the network does with the invoice.
    envelope = Envelope.new(
        source="/partners/traced-erp",
        type=spec.schema_name,
        subject=partner_key(event),
        tenant=event.seller.company_id,
        traceparent=f"00-{trace_id}-{partner_span_id}-01",
    )
    payload = event.model_dump_json().encode()
    headers = signed_partner_headers(payload, envelope, private_key=private_key, key_id=key_id)
    await publish_raw(kafka_broker.bootstrap, spec.name, payload, partner_key(event), headers)
    await until_delivered_or_rejected(kafka_broker, smtp_catcher, trace_collector, trace_id, envelope.id, buyer_email)

    def complete(spans: list[CollectedSpan]) -> bool:
        # Each service exports in its own batches: wait for every hop, not just the last one.
        mine = [s for s in spans if s.trace_id == trace_id]
        return bool(consumer_spans(mine, "invoicing", spec.name)) and all(
            producer_spans(mine, sender, topic) and consumer_spans(mine, receiver, topic)
            for topic, sender, receiver in HOPS
        )

    try:
        await trace_collector.wait_for_async(complete, timeout=30)
    except TimeoutError:
        pytest.fail(
            f"the trace is missing hops; spans of trace {trace_id}:\n" + describe(trace_collector.trace(trace_id))
        )
    spans = trace_collector.trace(trace_id)
    by_id = {s.span_id: s for s in spans}

    # The intake: invoicing's consumer span is the child of the partner's span.
    (intake,) = consumer_spans(spans, "invoicing", spec.name)
    assert intake.parent_span_id == partner_span_id

    # Every Kafka hop is a PRODUCER span in the sender and a CONSUMER span in the receiver, the
    # consumer's parent being the producer (its traceparent travelled in the record's headers).
    for topic, sender, receiver in HOPS:
        producers = producer_spans(spans, sender, topic)
        consumers = consumer_spans(spans, receiver, topic)
        assert producers, f"no PRODUCER span of {sender} for {topic}:\n{describe(spans)}"
        assert consumers, f"no CONSUMER span of {receiver} for {topic}:\n{describe(spans)}"
        producer_ids = {p.span_id for p in producers}
        assert all(c.parent_span_id in producer_ids for c in consumers), describe(spans)
        # The relay's PRODUCER span hangs under the span of the transaction that wrote the outbox row.
        for producer in producers:
            assert producer.parent_span_id in by_id, f"{producer.name} has no parent in the trace"

    # The three services of the pipeline share the one trace.
    assert {"invoicing", "signing", "notifications"} <= {s.service for s in spans}
    # Their database work is in it too (asyncpg instrumentation), as children of the handlers.
    queries = [s for s in spans if s.kind == "CLIENT" and s.attributes.get("db.system") == "postgresql"]
    assert {q.service for q in queries} >= {"invoicing", "signing", "notifications"}
    assert all(q.parent_span_id in by_id for q in queries)
