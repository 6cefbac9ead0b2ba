"""Invoice numbers on real PostgreSQL: consecutive per seller and year, no gap, no duplicate, even under contention."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlmodel import select

from invoicing.adapters import repository
from invoicing.adapters.tables import NumberSeries

pytestmark = pytest.mark.integration


def new_seller() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


async def take_number(sessions, seller: str, year: int = 2025, *, hold_s: float = 0.0) -> str:
    """One issuing transaction: take a number, keep the lock a moment (as issuing does), commit."""
    async with sessions() as session, session.begin():
        number = await repository.next_number(session, seller, year)
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


async def test_each_seller_and_year_has_its_own_series(invoicing_sessions):
    first, second = new_seller(), new_seller()

    assert await take_number(invoicing_sessions, first, 2025) == "F2025-000001"
    assert await take_number(invoicing_sessions, second, 2025) == "F2025-000001"
    assert await take_number(invoicing_sessions, first, 2026) == "F2026-000001"
    assert await take_number(invoicing_sessions, first, 2025) == "F2025-000002"
