"""Partner intake through the real broker: signed records issued once, forged ones rejected, garbage dead-lettered."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlmodel import select

from contracts import catalogue
from contracts.examples import signed_sample_record
from factora_testing.kafka_io import publish_raw, wait_for_record
from invoicing.adapters.tables import InvoiceRecord

pytestmark = pytest.mark.integration

SUBMITTED = catalogue.PARTNER_INVOICE_SUBMITTED


async def invoices_with(api, external_id: str) -> list[InvoiceRecord]:
    async with api.world.sessions() as session:
        query = select(InvoiceRecord).where(InvoiceRecord.external_id == external_id)
        return list((await session.exec(query)).all())


async def wait_for_invoice(api, external_id: str, timeout_s: float = 30.0) -> InvoiceRecord:
    for _ in range(int(timeout_s * 10)):
        if found := await invoices_with(api, external_id):
            return found[0]
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no invoice {external_id}")


async def test_signed_forged_replayed_and_unreadable_records_each_get_their_outcome(api, kafka_broker):
    world = api.world
    source = world.ctx.source  # this app's ce_source: other consumers of the shared topic answer under theirs
    seller, buyer = await world.trading_pair()
    key, key_id = await world.partner_key(seller)
    event = world.submission(seller, buyer)
    partition_key, headers, value = signed_sample_record(event, private_key=key, key_id=key_id)

    await publish_raw(kafka_broker.bootstrap, SUBMITTED.name, value, partition_key, headers)
    invoice = await wait_for_invoice(api, event.external_id)
    assert invoice.status == "issued" and invoice.number

    # Replays: the very same record, and the same invoice signed again under a new event id.
    await publish_raw(kafka_broker.bootstrap, SUBMITTED.name, value, partition_key, headers)
    _, resigned, revalue = signed_sample_record(event, private_key=key, key_id=key_id)
    await publish_raw(kafka_broker.bootstrap, SUBMITTED.name, revalue, partition_key, resigned)
    # Forged: someone changes the amount of a signed record.
    forged_event = world.submission(seller, buyer)
    forged_key, forged_headers, forged_value = signed_sample_record(forged_event, private_key=key, key_id=key_id)
    tampered = json.loads(forged_value)
    tampered["lines"][0]["quantity"] = "400"
    await publish_raw(kafka_broker.bootstrap, SUBMITTED.name, json.dumps(tampered).encode(), forged_key, forged_headers)
    # Unreadable: no envelope at all.
    marker = f"garbage-{uuid.uuid4().hex}"
    await publish_raw(kafka_broker.bootstrap, SUBMITTED.name, marker.encode(), forged_key, {})

    rejected, rejected_headers = await wait_for_record(
        kafka_broker.bootstrap,
        catalogue.PARTNER_INVOICE_REJECTED.name,
        lambda v, h: v.get("submission_event_id") == forged_headers["ce_id"] and h.get("ce_source") == source,
    )
    assert [r["rule"] for r in rejected["reasons"]] == ["FX-AUTH-5"]
    assert rejected_headers["factora_tenant"] == seller  # keyed and tagged so the partner finds its own
    _, dlq_headers = await wait_for_record(
        kafka_broker.bootstrap,
        SUBMITTED.dlq,
        lambda v, h: (
            v.get("_raw") == marker and h.get("dlq_consumer_group", "").startswith(world.ctx.source.rsplit("/", 1)[1])
        ),
    )
    assert "missing CloudEvents header" in dlq_headers["dlq_reason"]
    assert await invoices_with(api, forged_event.external_id) == []
    assert len(await invoices_with(api, event.external_id)) == 1
