"""Transaction credits: welcome credits, one credit per document issued, top-ups from purchases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import bindparam, literal, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.adapters.tables import CreditAccount, CreditMovement, PartyRecord
from invoicing.domain.errors import NoCreditsLeft
from invoicing.service.context import Context
from invoicing.service.notify import contacts_with, request_message
from servicekit.metrics import CREDITS_CONSUMED, after_commit


async def ensure_account(ctx: Context, session: AsyncSession, company_id: str) -> None:
    """Open the company's account with the welcome credits the first time invoicing meets it (idempotent)."""
    now = datetime.now(UTC)
    created = await session.execute(
        insert(CreditAccount)
        .values(company_id=company_id, balance=ctx.welcome_credits, created_at=now, updated_at=now)
        .on_conflict_do_nothing()
        .returning(CreditAccount.__table__.c.company_id)  # type: ignore[attr-defined]
    )
    if created.first() is not None and ctx.welcome_credits:
        session.add(
            CreditMovement(
                company_id=company_id, delta=ctx.welcome_credits, balance_after=ctx.welcome_credits, kind="welcome"
            )
        )


async def locked_account(ctx: Context, session: AsyncSession, company_id: str) -> CreditAccount:
    """The company's account, row-locked until the transaction ends (opened first if needed)."""
    await ensure_account(ctx, session, company_id)
    return (
        await session.exec(select(CreditAccount).where(CreditAccount.company_id == company_id).with_for_update())
    ).one()


async def balance(ctx: Context, session: AsyncSession, company_id: str) -> int:
    account = await session.get(CreditAccount, company_id)
    return account.balance if account is not None else ctx.welcome_credits


def _take_one_statement():  # type: ignore[no-untyped-def]
    """UPDATE the balance if positive and INSERT the ledger row from its RETURNING; built once, run with parameters.

    The ledger row is written from the UPDATE's RETURNING, so it exists exactly when a credit was taken.
    Parameter names differ from the column names on purpose: with an INSERT, SQLAlchemy would read a
    parameter named like a column as a value for it.
    """
    accounts = CreditAccount.__table__  # type: ignore[attr-defined]
    movements = CreditMovement.__table__  # type: ignore[attr-defined]
    taken = (
        update(accounts)
        .where(accounts.c.company_id == bindparam("p_company"), accounts.c.balance > 0)
        .values(balance=accounts.c.balance - 1, updated_at=bindparam("p_now"))
        .returning(accounts.c.balance)
        .cte("taken")
    )
    ledger = select(
        bindparam("p_movement", type_=movements.c.id.type),
        bindparam("p_company", type_=movements.c.company_id.type),
        bindparam("p_invoice", type_=movements.c.invoice_id.type),
        bindparam("p_now", type_=movements.c.at.type),
        literal(-1),
        literal("issue"),
        taken.c.balance,
    )
    columns = ["id", "company_id", "invoice_id", "at", "delta", "kind", "balance_after"]
    return insert(movements).from_select(columns, ledger).returning(movements.c.balance_after)


TAKE_ONE = _take_one_statement()


async def _take_one(session: AsyncSession, company_id: str, invoice_id: uuid.UUID) -> tuple[int, uuid.UUID] | None:
    """Use one credit of a positive balance and write its ledger movement, in one statement.

    Returns the new balance and the movement's id, or None (nothing changed) when there was no credit to take.
    The UPDATE row-locks the account until the transaction ends, as SELECT .. FOR UPDATE did, and when it
    waits for a concurrent top-up PostgreSQL re-checks `balance > 0` on the newest row version.
    """
    movement_id = uuid.uuid4()
    params = {"p_company": company_id, "p_now": datetime.now(UTC), "p_movement": movement_id, "p_invoice": invoice_id}
    remaining = (await session.execute(TAKE_ONE, params)).scalar_one_or_none()
    return None if remaining is None else (remaining, movement_id)


async def consume_one(ctx: Context, session: AsyncSession, company_id: str, invoice_id: uuid.UUID) -> int:
    """Use one credit for the document being issued; NoCreditsLeft (and nothing used) when none is left."""
    taken = await _take_one(session, company_id, invoice_id)
    if taken is None:
        # No account yet (it gets its welcome credits now) or an empty one: open it if needed, then look again.
        await ensure_account(ctx, session, company_id)
        taken = await _take_one(session, company_id, invoice_id)
    if taken is None:
        raise NoCreditsLeft(
            "Your company has no transaction credits left, so nothing was issued and nothing was used. "
            "Buy a pack on the Billing page (POST /billing/purchases), then issue again.",
            balance=0,
        )
    remaining, movement_id = taken
    after_commit(session, CREDITS_CONSUMED.inc)
    if remaining in (ctx.low_credits_threshold, 0):
        await _tell_low_credits(ctx, session, company_id, remaining, movement_id)
    return remaining


async def add_credits(session: AsyncSession, account: CreditAccount, credits: int, purchase_id: uuid.UUID) -> None:
    """Top up a locked account after a paid purchase."""
    account.balance += credits
    account.updated_at = datetime.now(UTC)
    session.add(account)
    session.add(
        CreditMovement(
            company_id=account.company_id,
            delta=credits,
            balance_after=account.balance,
            kind="purchase",
            purchase_id=purchase_id,
        )
    )


async def _tell_low_credits(
    ctx: Context, session: AsyncSession, company_id: str, remaining: int, movement_id: uuid.UUID
) -> None:
    party = await session.get(PartyRecord, company_id)
    for recipient in contacts_with(party, "accounts_payable", "invoice_recipient"):
        assert party is not None
        request_message(
            ctx,
            session,
            key=f"low-credits:{company_id}:{movement_id}:{recipient.tag}",
            recipient=recipient,
            template="low-credits",
            params={
                "recipient_name": recipient.name,
                "company_name": party.legal_name,
                "credits_remaining": remaining,
                "billing_url": ctx.billing_url,
            },
            tenant=company_id,
        )
