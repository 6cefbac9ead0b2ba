"""Credits on real PostgreSQL: one per document, never below zero under contention, every use in the ledger."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import InvoiceSealed, PartnerInvoiceRejected, SendRequested
from invoicing.adapters.tables import CreditAccount, CreditMovement
from invoicing.service import handlers
from invoicing.service.context import Context

pytestmark = pytest.mark.integration


async def set_balance(world, company_id: str, balance: int) -> None:
    async with world.sessions() as session, session.begin():
        account = await session.get(CreditAccount, company_id)
        account.balance = balance
        session.add(account)


async def ledger(world, company_id: str) -> list[CreditMovement]:
    async with world.sessions() as session:
        query = select(CreditMovement).where(CreditMovement.company_id == company_id)
        return list((await session.exec(query.order_by(CreditMovement.at))).all())  # type: ignore[arg-type]


async def test_concurrent_submissions_use_the_last_credits_once_and_the_rest_are_rejected(world):
    seller, buyer = await world.trading_pair()
    key, key_id = await world.partner_key(seller)
    await set_balance(world, seller, 3)
    submissions = [world.submission(seller, buyer) for _ in range(8)]
    before = await world.outbox_ids()

    await asyncio.gather(*(world.submit(event, *world.signed(event, key, key_id)) for event in submissions))

    invoices = await world.invoices_of(seller)
    year = submissions[0].issue_date.year
    assert sorted(r.number for r in invoices) == [f"F{year}-{n:06d}" for n in (1, 2, 3)]
    rejected = [
        PartnerInvoiceRejected.model_validate_json(row.payload)
        for row in await world.outbox_since(before)
        if row.topic == catalogue.PARTNER_INVOICE_REJECTED.name
    ]
    assert len(rejected) == 5 and {r.reasons[0].rule for r in rejected} == {"FX-CREDIT-1"}
    async with world.sessions() as session:
        assert (await session.get(CreditAccount, seller)).balance == 0
    uses = [m for m in await ledger(world, seller) if m.kind == "issue"]
    assert sorted(m.balance_after for m in uses) == [0, 1, 2]
    assert {m.invoice_id for m in uses} == {r.id for r in invoices}


async def test_reaching_the_low_credit_threshold_tells_the_seller_once_keyed_by_its_ledger_movement(world):
    seller, buyer = await world.trading_pair()
    key, key_id = await world.partner_key(seller)
    await set_balance(world, seller, world.ctx.low_credits_threshold + 1)
    event = world.submission(seller, buyer)
    before = await world.outbox_ids()

    await world.submit(event, *world.signed(event, key, key_id))

    sends = [
        SendRequested.model_validate_json(row.payload)
        for row in await world.outbox_since(before)
        if row.topic == catalogue.SEND_REQUESTED.name
    ]
    (use,) = [m for m in await ledger(world, seller) if m.kind == "issue"]
    assert use.balance_after == world.ctx.low_credits_threshold and use.delta == -1
    assert [s.template for s in sends] == ["low-credits"]
    assert sends[0].idempotency_key.startswith(f"low-credits:{seller}:{use.id}:")
    assert sends[0].params["credits_remaining"] == world.ctx.low_credits_threshold


async def test_a_seller_unknown_to_invoicing_gets_its_welcome_credits_before_its_first_document(world):
    open_network = Context(
        source="/factora/invoicing", signing_base_url="http://x", require_partner_signature=False,
        require_connected_buyer=False, welcome_credits=7,
    )  # fmt: skip
    event = world.submission(f"c-new-{uuid.uuid4().hex[:8]}", f"c-new-{uuid.uuid4().hex[:8]}")
    envelope = Envelope.new(source="/partners/e2e", type=catalogue.PARTNER_INVOICE_SUBMITTED.name)
    async with world.sessions() as session, session.begin():
        await handlers.accept_partner_invoice(open_network, event, envelope, session)

    (record,) = await world.invoices_of(event.seller.company_id)
    assert [(m.kind, m.delta, m.balance_after) for m in await ledger(world, event.seller.company_id)] == [
        ("welcome", 7, 7),
        ("issue", -1, 6),
    ]

    # Its buyer is unknown too: the sealed invoice is delivered to the document's buyer e-mail only.
    notice = InvoiceSealed(
        invoice_id=str(record.id), archive_id=str(uuid.uuid4()), seller_company_id=record.seller_company_id,
        buyer_company_id=record.buyer_company_id, sha256="cd" * 32, size_bytes=10, sealed_at=datetime.now(UTC),
        signature_level="B-B", document_ref="/archive/documents/y",
    )  # fmt: skip
    before = await world.outbox_ids()
    async with world.sessions() as session, session.begin():
        await handlers.mark_delivered(open_network, notice, Envelope.new(source="/factora/signing", type="t"), session)
    sends = [
        SendRequested.model_validate_json(row.payload)
        for row in await world.outbox_since(before)
        if row.topic == catalogue.SEND_REQUESTED.name
    ]
    assert [(s.recipient, s.idempotency_key) for s in sends] == [
        (event.buyer.email, f"invoice-delivered:{record.id}:buyer")
    ]
