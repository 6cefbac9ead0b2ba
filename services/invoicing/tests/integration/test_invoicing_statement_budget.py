"""SQL statements per partner invoice on real PostgreSQL: intake and delivery stay within their measured budget."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from contracts.envelope import Envelope
from contracts.v1 import InvoiceSealed
from invoicing.service import handlers

pytestmark = pytest.mark.integration

# Measured after the statement diet: intake reads key, replay, parties and connection in one statement, takes
# the credit with its ledger row in one and the number in one; delivery reads the invoice with its buyer in one.
# Before it, one partner intake took 15 statements and one sealed notice 6. Raise these only on purpose.
INTAKE_BUDGET = 6
DELIVERY_BUDGET = 4


@contextmanager
def recorded_statements(world) -> Iterator[list[str]]:
    """Every statement sent to PostgreSQL through the world's engine while the block runs."""
    statements: list[str] = []
    engine = world.sessions.kw["bind"].sync_engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split("\n", 1)[0][:120])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_one_partner_intake_and_its_sealed_notice_stay_within_their_statement_budget(world):
    seller, buyer = await world.trading_pair()
    key, key_id = await world.partner_key(seller)
    warm_up = world.submission(seller, buyer, external_id=f"warm-{uuid.uuid4().hex[:8]}")
    await world.submit(warm_up, *world.signed(warm_up, key, key_id))  # the series and the account exist, as usual
    submission = world.submission(seller, buyer)
    signed = world.signed(submission, key, key_id)

    with recorded_statements(world) as intake:
        await world.submit(submission, *signed)

    record = next(r for r in await world.invoices_of(seller) if r.external_id == submission.external_id)
    assert (record.status, record.number) == ("issued", f"F{submission.issue_date.year}-000002")
    notice = InvoiceSealed(
        invoice_id=str(record.id),
        archive_id=str(uuid.uuid4()),
        seller_company_id=seller,
        buyer_company_id=buyer,
        sha256="ab" * 32,
        size_bytes=1234,
        sealed_at=datetime.now(UTC),
        signature_level="B-B",
        document_ref="/archive/documents/x",
    )
    with recorded_statements(world) as delivery:
        async with world.sessions() as session, session.begin():
            await handlers.mark_delivered(world.ctx, notice, Envelope.new(source="/factora/signing", type="t"), session)

    print(f"intake: {len(intake)} statements", *intake, f"delivery: {len(delivery)} statements", *delivery, sep="\n")
    assert len(intake) <= INTAKE_BUDGET, intake
    assert len(delivery) <= DELIVERY_BUDGET, delivery
