"""Partner intake on real PostgreSQL: authenticated, validated, issued exactly once, or rejected with reasons."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import InvoiceIssued, InvoiceReference, InvoiceStatusChanged, PartnerInvoiceRejected
from contracts.v1.identity import PartnerCredentialRevoked
from invoicing.adapters.signatures import RawRecord
from invoicing.adapters.tables import CreditAccount, InvoiceRecord, NumberSeries
from invoicing.service import handlers
from invoicing.service.context import Context

pytestmark = pytest.mark.integration


async def rejections(world, before) -> list[PartnerInvoiceRejected]:
    rows = await world.outbox_since(before)
    assert {row.topic for row in rows} <= {catalogue.PARTNER_INVOICE_REJECTED.name}, [r.topic for r in rows]
    return [PartnerInvoiceRejected.model_validate_json(row.payload) for row in rows]


@pytest.fixture
async def seller_setup(world):
    seller, buyer = await world.trading_pair()
    key, key_id = await world.partner_key(seller)
    return seller, buyer, key, key_id


async def test_a_signed_invoice_from_a_connected_seller_is_stored_numbered_and_announced(world, seller_setup):
    seller, buyer, key, key_id = seller_setup
    event = world.submission(seller, buyer)
    envelope, record = world.signed(event, key, key_id)
    before = await world.outbox_ids()

    await world.submit(event, envelope, record)

    (invoice,) = await world.invoices_of(seller)
    assert invoice.number == f"F{event.issue_date.year}-000001"
    assert (invoice.status, invoice.source, invoice.type_code) == ("issued", "partner", "380")
    assert invoice.payable == Decimal("1145.52")
    assert (invoice.partner_id, invoice.external_id) == (event.partner_id, event.external_id)
    assert invoice.validation_report is not None and invoice.validation_report["valid"] is True
    assert invoice.retain_until.year == event.issue_date.year + 10  # France keeps invoices ten years
    rows = await world.outbox_since(before)
    by_topic = {row.topic: row for row in rows}
    assert sorted(by_topic) == [catalogue.INVOICE_ISSUED.name, catalogue.INVOICE_STATUS_CHANGED.name]
    issued = InvoiceIssued.model_validate_json(by_topic[catalogue.INVOICE_ISSUED.name].payload)
    # The parties on the document are the registered profiles, not whatever the partner typed.
    assert issued.invoice.seller.name.startswith("Company ")
    assert issued.invoice.buyer.email == event.buyer.email  # the invoice's buyer contact is kept
    assert by_topic[catalogue.INVOICE_ISSUED.name].key == str(invoice.id)
    status = InvoiceStatusChanged.model_validate_json(by_topic[catalogue.INVOICE_STATUS_CHANGED.name].payload)
    assert (status.status, status.external_id, status.changed_by) == ("issued", event.external_id, "seller")


async def test_a_forged_partner_message_is_rejected_with_its_reason_and_nothing_is_stored(world, seller_setup):
    seller, buyer, key, key_id = seller_setup
    event = world.submission(seller, buyer)
    envelope, record = world.signed(event, key, key_id)
    # The attacker changes the amount after signing.
    tampered = json.loads(record.value)
    tampered["lines"][0]["unit_price"] = "1.00"
    forged = RawRecord(headers=record.headers, value=json.dumps(tampered).encode())
    forged_event = event.model_copy(update={"lines": [event.lines[0].model_copy(update={"unit_price": Decimal(1)})]})
    before = await world.outbox_ids()

    await world.submit(forged_event, envelope, forged)

    (rejected,) = await rejections(world, before)
    assert [(r.rule, r.field) for r in rejected.reasons] == [("FX-AUTH-5", "headers.factora_signature")]
    assert rejected.reasons[0].messages and set(rejected.reasons[0].messages) == {"fr", "en"}
    assert rejected.submission_event_id == envelope.id
    assert await world.invoices_of(seller) == []


@pytest.mark.parametrize(
    ("case", "rule"),
    [
        ("unsigned", "FX-AUTH-1"),
        ("unknown key", "FX-AUTH-2"),
        ("another company's key", "FX-AUTH-4"),
        ("other tenant header", "FX-AUTH-5"),
        ("other partner id", "FX-AUTH-6"),
    ],
)
async def test_records_not_signed_by_the_sellers_own_partner_system_are_rejected(world, seller_setup, case, rule):
    seller, buyer, key, key_id = seller_setup
    event = world.submission(seller, buyer)
    envelope, record = world.signed(event, key, key_id)
    if case == "unsigned":
        record = None
    elif case == "unknown key":
        record = RawRecord(headers={**record.headers, "factora_key_id": "pk-nobody"}, value=record.value)
    elif case == "another company's key":
        stranger = await world.company("DE")
        other_key, other_id = await world.partner_key(stranger)
        envelope, record = world.signed(event, other_key, other_id)
    elif case == "other tenant header":
        record = RawRecord(headers={**record.headers, "factora_tenant": buyer}, value=record.value)
    else:
        event = event.model_copy(update={"partner_id": "someone-else"})
        envelope, record = world.signed(event, key, key_id)
    before = await world.outbox_ids()

    await world.submit(event, envelope, record)

    (rejected,) = await rejections(world, before)
    assert [r.rule for r in rejected.reasons] == [rule]
    assert await world.invoices_of(seller) == []


async def test_a_revoked_key_no_longer_signs_for_the_company(world, seller_setup):
    seller, buyer, key, key_id = seller_setup
    revoked = PartnerCredentialRevoked(
        company_id=seller, partner_id="sample-erp", key_id=key_id, revoked_at=datetime.now(UTC), reason="test"
    )
    async with world.sessions() as session, session.begin():
        await handlers.on_key_revoked(
            world.ctx, revoked, world.signed(world.submission(seller, buyer), key, key_id)[0], session
        )
    event = world.submission(seller, buyer)
    before = await world.outbox_ids()

    await world.submit(event, *world.signed(event, key, key_id))

    (rejected,) = await rejections(world, before)
    assert [r.rule for r in rejected.reasons] == ["FX-AUTH-3"]


async def test_a_replayed_partner_message_makes_one_invoice(world, seller_setup):
    seller, buyer, key, key_id = seller_setup
    event = world.submission(seller, buyer)
    first = world.signed(event, key, key_id)
    await world.submit(event, *first)
    before = await world.outbox_ids()

    # The same record again (redelivery), and the same invoice signed again under a new event id.
    await world.submit(event, *first)
    await world.submit(event, *world.signed(event, key, key_id))

    assert len(await world.invoices_of(seller)) == 1
    assert await world.outbox_since(before) == []
    async with world.sessions() as session:
        account = await session.get(CreditAccount, seller)
        series = (await session.exec(select(NumberSeries).where(NumberSeries.seller_company_id == seller))).one()
    assert account.balance == world.ctx.welcome_credits - 1, "a replay uses no credit"
    assert series.next_value == 2


async def test_an_unknown_or_unconnected_buyer_is_rejected(world):
    seller = await world.company("FR")
    member = await world.company("DE")
    key, key_id = await world.partner_key(seller)
    unknown = world.submission(seller, "c-not-a-member")
    not_connected = world.submission(seller, member)
    before = await world.outbox_ids()

    await world.submit(unknown, *world.signed(unknown, key, key_id))
    await world.submit(not_connected, *world.signed(not_connected, key, key_id))

    first, second = await rejections(world, before)
    assert [(r.rule, r.field) for r in first.reasons] == [("FX-PARTY-3", "buyer.company_id")]
    assert [(r.rule, r.field) for r in second.reasons] == [("FX-REL-1", "buyer.company_id")]
    assert "connect" in second.reasons[0].message.lower() or "relation" in second.reasons[0].message.lower()
    assert await world.invoices_of(seller) == []


async def test_an_invalid_submission_writes_only_a_rejection_in_the_sellers_language(world, seller_setup):
    seller, buyer, key, key_id = seller_setup
    event = world.submission(seller, buyer, currency="eur")
    envelope, record = world.signed(event, key, key_id)
    before = await world.outbox_ids()

    await world.submit(event, envelope, record)

    (rejected,) = await rejections(world, before)
    assert [(r.rule, r.field) for r in rejected.reasons] == [("BR-5", "currency")]
    assert "ISO 4217" in rejected.reasons[0].message and "Indiquez" in rejected.reasons[0].message  # seller reads fr
    async with world.sessions() as session:
        assert (
            await session.exec(select(NumberSeries).where(NumberSeries.seller_company_id == seller))
        ).first() is None, "a rejected submission must not touch the number series"


async def test_a_seller_without_credits_gets_a_rejection_and_nothing_is_used(world, seller_setup):
    seller, buyer, key, key_id = seller_setup
    async with world.sessions() as session, session.begin():
        account = await session.get(CreditAccount, seller)
        account.balance = 0
        session.add(account)
    event = world.submission(seller, buyer)
    before = await world.outbox_ids()

    await world.submit(event, *world.signed(event, key, key_id))

    (rejected,) = await rejections(world, before)
    assert [r.rule for r in rejected.reasons] == ["FX-CREDIT-1"]
    assert await world.invoices_of(seller) == []
    async with world.sessions() as session:
        assert (await session.get(CreditAccount, seller)).balance == 0
        assert (
            await session.exec(select(NumberSeries).where(NumberSeries.seller_company_id == seller))
        ).first() is None


async def test_a_partner_credit_note_references_the_invoice_and_cannot_exceed_it(world, seller_setup):
    seller, buyer, key, key_id = seller_setup
    invoice_event = world.submission(seller, buyer)
    await world.submit(invoice_event, *world.signed(invoice_event, key, key_id))
    (invoice,) = await world.invoices_of(seller)
    credit = world.submission(
        seller,
        buyer,
        type_code="381",
        lines=[invoice_event.lines[1]],  # 3 hours of work: 195.00 + VAT = 234.00
        preceding_invoice=InvoiceReference(number=invoice.number),
    )
    await world.submit(credit, *world.signed(credit, key, key_id))
    too_much = world.submission(
        seller,
        buyer,
        type_code="381",
        lines=invoice_event.lines,
        preceding_invoice=InvoiceReference(number=invoice.number),
    )
    before = await world.outbox_ids()
    await world.submit(too_much, *world.signed(too_much, key, key_id))

    (rejected,) = await rejections(world, before)
    assert [r.rule for r in rejected.reasons] == ["FX-CN-3"]
    docs = {r.type_code: r for r in await world.invoices_of(seller)}
    assert docs["381"].number.startswith("C") and docs["381"].corrects_invoice_id == invoice.id
    assert docs["381"].document["preceding_invoice"]["number"] == invoice.number
    async with world.sessions() as session:
        assert (await session.get(InvoiceRecord, invoice.id)).credited_amount == Decimal("234.00")


async def test_the_invoice_and_its_events_roll_back_together(world, seller_setup):
    seller, buyer, key, key_id = seller_setup
    event = world.submission(seller, buyer)
    before = await world.outbox_ids()

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with world.sessions() as session, session.begin():
            await handlers.accept_partner_invoice(
                world.ctx, event, *world.signed(event, key, key_id)[:1], session, world.signed(event, key, key_id)[1]
            )
            await session.flush()
            raise Crash

    assert await world.invoices_of(seller) == []
    assert await world.outbox_since(before) == []
    async with world.sessions() as session:
        assert (await session.get(CreditAccount, seller)).balance == world.ctx.welcome_credits
    await world.submit(event, *world.signed(event, key, key_id))
    (record,) = await world.invoices_of(seller)
    assert record.number.endswith("-000001")


async def test_with_the_local_stack_switches_off_unknown_parties_are_taken_as_submitted(world):
    """INVOICING_REQUIRE_PARTNER_SIGNATURE=false and INVOICING_REQUIRE_CONNECTED_BUYER=false (walking skeleton)."""
    legacy = Context(
        source="/factora/invoicing", signing_base_url="http://x", require_partner_signature=False,
        require_connected_buyer=False,
    )  # fmt: skip
    event = world.submission(f"c-legacy-{uuid.uuid4().hex[:8]}", "c-sample-buyer")
    envelope = Envelope.new(source="/partners/e2e", type=catalogue.PARTNER_INVOICE_SUBMITTED.name)
    async with world.sessions() as session, session.begin():
        await handlers.accept_partner_invoice(legacy, event, envelope, session)

    (record,) = await world.invoices_of(event.seller.company_id)
    assert record.document["seller"]["name"] == event.seller.name
    async with world.sessions() as session:
        assert (await session.get(CreditAccount, event.seller.company_id)).balance == legacy.welcome_credits - 1
