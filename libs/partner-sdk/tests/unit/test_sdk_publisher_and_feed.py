"""Partner SDK: producer settings, batch results and progress (fake producer), and the feed's partner filter."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest
from aiokafka.errors import KafkaTimeoutError

from contracts.envelope import Envelope
from contracts.examples import sample_partner_invoice
from contracts.v1 import InvoiceStatusChanged, PartnerInvoiceRejected, RejectionReason
from factora_partner import (
    PartnerCredential,
    PartnerPublisher,
    PartnerSdkError,
    ProducerSettings,
    PublishError,
    SyncPartnerPublisher,
    generate_key_files,
)
from factora_partner.feed import PartnerFeed, matches

pytestmark = pytest.mark.unit


class FakeProducer:
    """Acknowledges records like a broker would, failing those whose key contains 'FAIL'."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes, list]] = []

    async def send(self, topic, value, key=None, headers=None):
        self.sent.append((topic, value, key, headers))
        ack: asyncio.Future = asyncio.get_running_loop().create_future()
        if b"FAIL" in key:
            ack.set_exception(KafkaTimeoutError())
        else:
            ack.set_result(SimpleNamespace(partition=len(self.sent) % 3, offset=len(self.sent) - 1))
        return ack


@pytest.fixture
def publisher(tmp_path) -> tuple[PartnerPublisher, FakeProducer]:
    key = generate_key_files(tmp_path).private_key_path
    pub = PartnerPublisher(PartnerCredential.from_file(key, partner_id="erp-7", key_id="k1"), bootstrap_servers="x:1")
    fake = FakeProducer()
    pub._producer = fake  # type: ignore[assignment]
    return pub, fake


def invoice_dict(external_id: str) -> dict:
    return json.loads(sample_partner_invoice(external_id=external_id).model_dump_json()) | {"partner_id": "erp-7"}


async def test_one_invoice_is_sent_signed_and_keyed_by_seller_and_reference(publisher):
    pub, fake = publisher

    result = await pub.send(invoice_dict("ERP-1"))

    assert result.ok and result.offset == 0 and result.external_id == "ERP-1"
    topic, _, key, headers = fake.sent[0]
    assert topic == "invoicing.partner-invoice-submitted.v1" and key == b"c-sample-seller:ERP-1"
    assert {"factora_signature", "factora_key_id", "ce_id"} <= {name for name, _ in headers}


async def test_a_dict_without_partner_id_is_sent_as_the_credentials_partner(publisher):
    pub, fake = publisher
    data = invoice_dict("ERP-2")
    del data["partner_id"]

    await pub.send(data)

    assert json.loads(fake.sent[0][1])["partner_id"] == "erp-7"


async def test_an_unacknowledged_record_raises_a_publish_error(publisher):
    pub, _ = publisher

    with pytest.raises(PublishError, match="ERP-FAIL"):
        await pub.send(invoice_dict("ERP-FAIL"))


async def test_a_batch_reports_every_invoice_in_order_with_progress_and_reasons(publisher):
    pub, fake = publisher
    bad = invoice_dict("ERP-BAD") | {"currency": "EURO"}
    items = [
        ("a.json", invoice_dict("ERP-A")),
        ("b.json", bad),
        ("c.json", invoice_dict("ERP-FAIL")),
        invoice_dict("D"),
    ]
    seen: list[tuple[int, int, str | None]] = []

    results = await pub.send_many(items, progress=lambda done, total, r: seen.append((done, total, r.external_id)))

    assert [r.ok for r in results] == [True, False, False, True]
    assert [r.label for r in results] == ["a.json", "b.json", "c.json", None]
    assert "currency" in (results[1].error or "") and "not acknowledged" in (results[2].error or "")
    assert sorted(done for done, _, _ in seen) == [1, 2, 3, 4] and {total for _, total, _ in seen} == {4}
    assert len(fake.sent) == 3  # the invalid one never reached the producer


def test_the_sync_facade_sends_without_an_event_loop_of_the_callers(tmp_path, monkeypatch):
    key = generate_key_files(tmp_path).private_key_path
    fake = FakeProducer()

    async def start(self):
        self._producer = fake

    async def stop(self):
        self._producer = None

    monkeypatch.setattr(PartnerPublisher, "start", start)
    monkeypatch.setattr(PartnerPublisher, "stop", stop)
    credential = PartnerCredential.from_file(key, partner_id="erp-7", key_id="k1")

    with SyncPartnerPublisher(credential) as publisher:
        one = publisher.send(invoice_dict("ERP-S1"))
        many = publisher.send_many([invoice_dict("ERP-S2"), invoice_dict("ERP-S3")])

    assert one.ok and [r.external_id for r in many] == ["ERP-S2", "ERP-S3"] and len(fake.sent) == 3
    with pytest.raises(PartnerSdkError, match="inside"):
        publisher.send(invoice_dict("ERP-S4"))


def test_batching_is_bounded_by_default():
    s = ProducerSettings()

    assert 0 < s.linger_ms <= 50 and s.max_batch_size <= 1024 * 1024 and 0 < s.max_in_flight <= 1000


def envelope(tenant: str | None) -> Envelope:
    return Envelope.new(source="/factora/invoicing", type="t", tenant=tenant)


def rejection(partner_id: str | None) -> PartnerInvoiceRejected:
    reason = RejectionReason(rule="BR-16", field="lines", message="add a line")
    return PartnerInvoiceRejected(partner_id=partner_id, submission_event_id="e1", reasons=[reason])


def status(partner_id: str | None, seller: str = "s-1") -> InvoiceStatusChanged:
    return InvoiceStatusChanged(
        invoice_id="i1",
        number="F1",
        seller_company_id=seller,
        buyer_company_id="b-1",
        status="issued",
        partner_id=partner_id,
    )


@pytest.mark.parametrize(
    ("kind", "event", "tenant", "expected"),
    [
        ("rejection", rejection("erp-7"), "s-1", True),
        ("rejection", rejection("erp-8"), "s-1", False),
        ("rejection", rejection("erp-7"), "s-2", False),
        ("rejection", rejection(None), "s-1", True),
        ("rejection", rejection(None), "s-2", False),
        ("status", status("erp-7"), "s-1", True),
        ("status", status(None), "s-1", False),
        ("status", status("erp-7", seller="s-2"), "s-2", False),
    ],
)
def test_the_feed_keeps_only_this_partners_and_this_suppliers_events(kind, event, tenant, expected):
    assert matches(kind, event, envelope(tenant), partner_id="erp-7", company_id="s-1") is expected


async def test_closing_the_feed_gives_up_on_a_consumer_that_will_not_stop():
    class StuckConsumer:
        async def stop(self) -> None:
            await asyncio.sleep(60)

    feed = PartnerFeed(partner_id="p-1", bootstrap_servers="127.0.0.1:1")
    feed._consumer = StuckConsumer()  # type: ignore[assignment]
    await asyncio.wait_for(feed.close(timeout_s=0.05), 2)
    assert feed._consumer is None
