"""The walking skeleton on the real stack: partner event -> invoice -> sealed PDF -> e-mail."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from decimal import Decimal

import asyncpg
import httpx
import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.examples import SAMPLE_BUYER_ID, partner_key, sample_partner_invoice
from factora_testing.identity_flows import dev_token
from factora_testing.kafka_io import publish_event, publish_raw, wait_for_record
from factora_testing.operator import fund_sample_seller

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def plain_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://")


async def fetch_one(network, service: str, query: str, *args):
    conn = await asyncpg.connect(plain_dsn(network.database_url(service)))
    try:
        return await conn.fetchrow(query, *args)
    finally:
        await conn.close()


async def wait_for_row(network, service: str, query: str, *args, timeout_s: float = 60.0):
    for _ in range(int(timeout_s * 4)):
        row = await fetch_one(network, service, query, *args)
        if row is not None:
            return row
        await asyncio.sleep(0.25)
    raise TimeoutError(f"{service}: no row for {query} {args}")


async def test_partner_invoice_is_sealed_archived_and_emailed_once(running_network, kafka_broker, smtp_catcher):
    fund_sample_seller(running_network)
    buyer_email = f"buyer-{uuid.uuid4().hex[:8]}@example.com"
    event = sample_partner_invoice(buyer_email=buyer_email)
    envelope = await publish_event(
        kafka_broker.bootstrap,
        catalogue.PARTNER_INVOICE_SUBMITTED,
        event,
        key=partner_key(event),
        tenant=event.seller.company_id,
    )
    # The same event delivered again (as after a producer retry) must change nothing.
    await publish_event(
        kafka_broker.bootstrap,
        catalogue.PARTNER_INVOICE_SUBMITTED,
        event,
        key=partner_key(event),
        tenant=event.seller.company_id,
        event_id=envelope.id,
    )

    mail = await smtp_catcher.wait_for(lambda m: buyer_email in m.get("To", ""), timeout=90)
    invoice = await wait_for_row(
        running_network,
        "invoicing",
        "SELECT id, number, status, archive_id, payable FROM invoice WHERE external_id = $1 AND status = 'delivered'",
        event.external_id,
    )
    assert str(invoice["payable"]) == "1145.52"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert invoice["number"] in mail["Subject"] + body

    ledger = await wait_for_row(
        running_network,
        "notifications",
        "SELECT id, status, attempts FROM delivery WHERE recipient = $1 AND status = 'sent'",
        buyer_email,
    )
    assert mail["Message-ID"].startswith(f"<{ledger['id']}@")

    archived = await fetch_one(
        running_network,
        "signing",
        "SELECT id, pdf, sha256, sequence FROM archived_document WHERE invoice_id = $1",
        str(invoice["id"]),
    )
    assert str(archived["id"]) == invoice["archive_id"]
    await assert_sealed_and_trusted(bytes(archived["pdf"]), running_network.state_dir)

    # Exactly once: one invoice, one archive entry, one e-mail, even though the event came twice.
    await asyncio.sleep(2)
    counts = await fetch_one(
        running_network, "invoicing", "SELECT count(*) AS n FROM invoice WHERE external_id = $1", event.external_id
    )
    assert counts["n"] == 1
    assert len([m for m in smtp_catcher.messages() if buyer_email in m.get("To", "")]) == 1

    await assert_archive_served_to_parties_only(running_network, archived["id"], bytes(archived["pdf"]))


async def assert_sealed_and_trusted(pdf: bytes, state_dir) -> None:
    ca = (state_dir / "signing" / "pki" / "ca.pem").read_bytes()
    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(signatures) == 1
    status = await async_validate_pdf_signature(
        signatures[0], ValidationContext(trust_roots=[load_cert_from_pemder_bytes(ca)])
    )
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def load_cert_from_pemder_bytes(data: bytes):
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pem") as f:
        f.write(data)
        f.flush()
        return load_cert_from_pemder(f.name)


async def assert_archive_served_to_parties_only(network, archive_id, pdf: bytes) -> None:
    url = f"{network.service_url('signing')}/archive/documents/{archive_id}"
    buyer, stranger = dev_token(network, SAMPLE_BUYER_ID), dev_token(network, "c-someone-else")
    async with httpx.AsyncClient(timeout=30) as client:
        ok = await client.get(url, headers={"Authorization": f"Bearer {buyer}"})
        assert ok.status_code == 200 and ok.content == pdf
        assert (await client.get(url, headers={"Authorization": f"Bearer {stranger}"})).status_code == 404
        assert (await client.get(url)).status_code == 401


async def test_bad_submissions_are_rejected_with_reasons_and_never_stall_the_partition(running_network, kafka_broker):
    fund_sample_seller(running_network)
    spec = catalogue.PARTNER_INVOICE_SUBMITTED
    key = "c-sample-seller:same-partition"
    # 1. Schema violation: rejected back to the partner, naming each field.
    broken = sample_partner_invoice().model_dump(mode="json")
    del broken["currency"]
    broken["lines"][0]["quantity"] = "lots"
    env = Envelope.new(source="/partners/e2e", type=spec.name, subject=key, tenant="c-sample-seller")
    await publish_raw(kafka_broker.bootstrap, spec.name, json.dumps(broken).encode(), key, env.to_headers())
    # 2. No CloudEvents headers at all: dead-lettered with the reason.
    await publish_raw(kafka_broker.bootstrap, spec.name, b"{not json", key, {})
    # 3. A business-rule failure: rejected with the rule id.
    bad_rule = sample_partner_invoice()
    bad_rule = bad_rule.model_copy(update={"lines": [bad_rule.lines[0].model_copy(update={"vat_rate": Decimal(0)})]})
    rule_env = await publish_event(kafka_broker.bootstrap, spec, bad_rule, key=key, tenant="c-sample-seller")
    # 4. A good invoice on the same key (same partition) behind them still goes through.
    good = sample_partner_invoice()
    await publish_event(kafka_broker.bootstrap, spec, good, key=key, tenant="c-sample-seller")

    rejected, _ = await wait_for_record(
        kafka_broker.bootstrap,
        catalogue.PARTNER_INVOICE_REJECTED.name,
        lambda v, h: v.get("submission_event_id") == env.id,
    )
    fields = {r["field"] for r in rejected["reasons"]}
    assert {"currency", "lines.0.quantity"} <= fields
    assert all(r["rule"] == "FX-SCHEMA" for r in rejected["reasons"])

    rule_rejected, _ = await wait_for_record(
        kafka_broker.bootstrap,
        catalogue.PARTNER_INVOICE_REJECTED.name,
        lambda v, h: v.get("submission_event_id") == rule_env.id,
    )
    assert [(r["rule"], r["field"]) for r in rule_rejected["reasons"]] == [("BR-S-05", "lines[0].vat_rate")]

    _, dlq_headers = await wait_for_record(
        kafka_broker.bootstrap,
        spec.dlq,
        lambda v, h: v.get("_raw") == "{not json",
    )
    assert "missing CloudEvents header" in dlq_headers["dlq_reason"]
    assert dlq_headers["dlq_original_topic"] == spec.name

    await wait_for_row(running_network, "invoicing", "SELECT id FROM invoice WHERE external_id = $1", good.external_id)
