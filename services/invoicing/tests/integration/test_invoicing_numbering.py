"""Invoice numbers on real PostgreSQL: consecutive per seller, series and year; no gap or duplicate under contention."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlmodel import select

from contracts.v1 import SubmittedLine
from invoicing.adapters import repository
from invoicing.adapters.tables import CreditAccount, InvoiceRecord, NumberSeries
from invoicing.domain.errors import NoCreditsLeft
from invoicing.service import drafts
from servicekit.auth import Principal, Right

pytestmark = pytest.mark.integration


def new_seller() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


async def take_number(sessions, seller: str, year: int = 2025, *, hold_s: float = 0.0, kind: str = "invoice") -> str:
    """One issuing transaction: take a number, keep the lock a moment (as issuing does), commit."""
    async with sessions() as session, session.begin():
        number = await repository.next_number(session, seller, year, kind)  # type: ignore[arg-type]
        await asyncio.sleep(hold_s)
        return number


class Abort(Exception):
    pass


async def test_twenty_concurrent_transactions_get_consecutive_numbers_without_gap_or_duplicate(invoicing_sessions):
    seller = new_seller()

    # The series row does not exist yet, so the first-insert race is part of the test.
    numbers = await asyncio.gather(*(take_number(invoicing_sessions, seller, hold_s=0.005) for _ in range(20)))

    assert sorted(numbers) == [f"F2025-{n:06d}" for n in range(1, 21)]
    async with invoicing_sessions() as session:
        series = (await session.exec(select(NumberSeries).where(NumberSeries.seller_company_id == seller))).one()
    assert series.next_value == 21


async def test_fifty_concurrent_issues_on_one_series_number_fifty_invoices_without_gap_or_duplicate(world):
    seller, buyer = await world.trading_pair()
    principal = Principal("u-1", seller, frozenset({Right.CREATE_INVOICES}))
    async with world.sessions() as session, session.begin():
        account = await session.get(CreditAccount, seller)
        account.balance = 60
        session.add(account)
    body = drafts.DraftInput(
        buyer_company_id=buyer,
        due_date=None,
        payment_terms="30 days net",
        lines=[
            SubmittedLine(description="Audit day", quantity=Decimal(1), unit_price=Decimal(800), vat_rate=Decimal(20))
        ],
    )
    ids = []
    for _ in range(50):
        async with world.sessions() as session, session.begin():
            record, report = await drafts.create_draft(world.ctx, session, principal, body)
            assert report.valid, report.as_dict()
            ids.append(record.id)

    async def issue(draft_id):
        async with world.sessions() as session, session.begin():
            record = await drafts.issue_draft(world.ctx, session, principal, draft_id)
            return record.number

    numbers = await asyncio.gather(*(issue(i) for i in ids))

    year = (await world.invoices_of(seller))[0].issue_date.year
    assert sorted(numbers) == [f"F{year}-{n:06d}" for n in range(1, 51)]
    async with world.sessions() as session:
        assert (await session.get(CreditAccount, seller)).balance == 10
        stored = (
            await session.exec(select(InvoiceRecord.number).where(InvoiceRecord.seller_company_id == seller))
        ).all()
    assert sorted(stored) == sorted(numbers)


async def test_an_issue_refused_for_lack_of_credit_spends_no_number(world):
    seller, buyer = await world.trading_pair()
    principal = Principal("u-1", seller, frozenset({Right.CREATE_INVOICES}))
    body = drafts.DraftInput(
        buyer_company_id=buyer,
        payment_terms="On receipt",
        lines=[SubmittedLine(description="Box", quantity=Decimal(2), unit_price=Decimal(10), vat_rate=Decimal(20))],
    )
    async with world.sessions() as session, session.begin():
        first, _ = await drafts.create_draft(world.ctx, session, principal, body)
        second, _ = await drafts.create_draft(world.ctx, session, principal, body)
        account = await session.get(CreditAccount, seller)
        account.balance = 0
        session.add(account)

    with pytest.raises(NoCreditsLeft):
        async with world.sessions() as session, session.begin():
            await drafts.issue_draft(world.ctx, session, principal, first.id)
    async with world.sessions() as session, session.begin():
        (await session.get(CreditAccount, seller)).balance = 1
    async with world.sessions() as session, session.begin():
        issued = await drafts.issue_draft(world.ctx, session, principal, second.id)

    assert issued.number.endswith("-000001")
    async with world.sessions() as session:
        refused = await session.get(InvoiceRecord, first.id)
    assert (refused.status, refused.number) == ("draft", None)


async def test_a_rolled_back_issue_gives_its_number_to_the_next_one(invoicing_sessions):
    seller = new_seller()
    assert await take_number(invoicing_sessions, seller) == "F2025-000001"

    with pytest.raises(Abort):
        async with invoicing_sessions() as session, session.begin():
            assert await repository.next_number(session, seller, 2025) == "F2025-000002"
            raise Abort

    assert await take_number(invoicing_sessions, seller) == "F2025-000002"


async def test_an_issuer_waiting_on_a_transaction_that_rolls_back_takes_the_same_number(invoicing_sessions):
    seller = new_seller()
    await take_number(invoicing_sessions, seller)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def doomed() -> None:
        async with invoicing_sessions() as session, session.begin():
            assert await repository.next_number(session, seller, 2025) == "F2025-000002"
            holding.set()
            await release.wait()
            raise Abort

    doomed_task = asyncio.create_task(doomed())
    await holding.wait()
    waiting = asyncio.create_task(take_number(invoicing_sessions, seller))
    await asyncio.sleep(0.2)
    assert not waiting.done(), "the second issuer must queue behind the row lock"
    release.set()

    with pytest.raises(Abort):
        await doomed_task
    assert await waiting == "F2025-000002"


async def test_each_seller_year_and_kind_of_document_has_its_own_series(invoicing_sessions):
    first, second = new_seller(), new_seller()

    assert await take_number(invoicing_sessions, first, 2025) == "F2025-000001"
    assert await take_number(invoicing_sessions, second, 2025) == "F2025-000001"
    assert await take_number(invoicing_sessions, first, 2026) == "F2026-000001"
    assert await take_number(invoicing_sessions, first, 2025) == "F2025-000002"
    assert await take_number(invoicing_sessions, first, 2025, kind="credit_note") == "C2025-000001"
    assert await take_number(invoicing_sessions, first, 2025) == "F2025-000003"
