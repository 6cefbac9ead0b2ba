"""Partner SDK against a real Kafka broker: batches are acknowledged, the feed starts where it is told to."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest

from contracts.examples import sample_partner_invoice
from contracts.topics.invoicing import PARTNER_INVOICE_REJECTED
from contracts.v1 import PartnerInvoiceRejected, RejectionReason
from factora_partner import PartnerCredential, PartnerFeed, PartnerPublisher, generate_key_files
from factora_testing.kafka_io import publish_event

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def reject(bootstrap: str, partner_id: str, external_id: str, *, company: str = "c-1") -> None:
    """A rejection as invoicing publishes it (all on one key, so on one partition, in order)."""
    event = PartnerInvoiceRejected(
        partner_id=partner_id,
        external_id=external_id,
        submission_event_id=str(uuid.uuid4()),
        reasons=[RejectionReason(rule="BR-16", field="lines", message="add a line")],
    )
    await publish_event(bootstrap, PARTNER_INVOICE_REJECTED, event, key=f"{company}:{partner_id}", tenant=company)


async def rejected_ids(**feed_options) -> list[str]:
    async with PartnerFeed(kinds=("rejection",), **feed_options) as feed:
        return [item.event.external_id async for item in feed]


async def test_a_batch_is_acknowledged_with_progress_and_lands_on_the_partner_topic(kafka_broker, tmp_path):
    key = generate_key_files(tmp_path).private_key_path
    credential = PartnerCredential.from_file(key, partner_id="erp-int", key_id="k-int")
    invoices = [
        json.loads(sample_partner_invoice(external_id=f"INT-{i}").model_dump_json()) | {"partner_id": "erp-int"}
        for i in range(40)
    ]
    seen: list[int] = []

    async with PartnerPublisher(credential, bootstrap_servers=kafka_broker.bootstrap) as publisher:
        results = await publisher.send_many(invoices, progress=lambda done, total, r: seen.append(done))

    assert all(r.ok for r in results) and len(results) == 40
    assert sorted(seen) == list(range(1, 41))
    assert len({(r.partition, r.offset) for r in results}) == 40
    for partition in {r.partition for r in results}:
        offsets = [r.offset for r in results if r.partition == partition]
        assert offsets == sorted(offsets)  # idempotent producer: sent order kept within a partition


async def test_the_feed_shows_only_this_partners_rejections_and_stops_at_the_end(kafka_broker):
    bootstrap, mine, other = kafka_broker.bootstrap, f"p-{uuid.uuid4().hex[:6]}", f"p-{uuid.uuid4().hex[:6]}"
    for ref in ("A", "B"):
        await reject(bootstrap, mine, ref)
    await reject(bootstrap, other, "X")

    assert await rejected_ids(partner_id=mine, bootstrap_servers=bootstrap) == ["A", "B"]
    assert await rejected_ids(partner_id=mine, company_id="c-2", bootstrap_servers=bootstrap) == []


async def test_the_feed_starts_at_a_time_or_at_given_offsets(kafka_broker):
    bootstrap, mine = kafka_broker.bootstrap, f"p-{uuid.uuid4().hex[:6]}"
    await reject(bootstrap, mine, "old")
    await asyncio.sleep(1.2)
    cut = datetime.now(UTC)
    await asyncio.sleep(0.2)
    await reject(bootstrap, mine, "new")

    assert await rejected_ids(partner_id=mine, bootstrap_servers=bootstrap, since=cut) == ["new"]
    async with PartnerFeed(partner_id=mine, bootstrap_servers=bootstrap, kinds=("rejection",)) as feed:
        first = await anext(aiter(feed))
    resume = {(first.topic, first.partition): first.offset + 1}
    assert await rejected_ids(partner_id=mine, bootstrap_servers=bootstrap, from_offsets=resume) == ["new"]


async def test_a_group_resumes_after_the_last_item_it_finished(kafka_broker):
    bootstrap, mine, group = kafka_broker.bootstrap, f"p-{uuid.uuid4().hex[:6]}", f"g-{uuid.uuid4().hex[:6]}"
    for ref in ("1", "2", "3"):
        await reject(bootstrap, mine, ref)

    async with PartnerFeed(partner_id=mine, bootstrap_servers=bootstrap, kinds=("rejection",), group_id=group) as feed:
        taken = []
        async for item in feed:
            taken.append(item.event.external_id)
            if len(taken) == 2:
                break  # "2" was handed out but not finished: it comes again

    assert taken == ["1", "2"]
    assert await rejected_ids(partner_id=mine, bootstrap_servers=bootstrap, group_id=group) == ["2", "3"]


async def test_following_from_the_end_sees_a_rejection_published_afterwards(kafka_broker):
    bootstrap, mine = kafka_broker.bootstrap, f"p-{uuid.uuid4().hex[:6]}"
    await reject(bootstrap, mine, "before")

    async with PartnerFeed(
        partner_id=mine, bootstrap_servers=bootstrap, kinds=("rejection",), start="end", follow=True
    ) as feed:
        await reject(bootstrap, mine, "after")
        async with asyncio.timeout(30):
            item = await anext(aiter(feed))

    assert item.event.external_id == "after"
