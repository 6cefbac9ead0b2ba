"""Transaction credits: welcome credits, one credit per document issued, top-ups from purchases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

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


async def consume_one(ctx: Context, session: AsyncSession, company_id: str, invoice_id: uuid.UUID) -> int:
    """Use one credit for the document being issued; NoCreditsLeft (and nothing used) when none is left."""
    account = await locked_account(ctx, session, company_id)
    if account.balance <= 0:
        raise NoCreditsLeft(
            "Your company has no transaction credits left, so nothing was issued and nothing was used. "
            "Buy a pack on the Billing page (POST /billing/purchases), then issue again.",
            balance=0,
        )
    account.balance -= 1
    after_commit(session, CREDITS_CONSUMED.inc)
    account.updated_at = datetime.now(UTC)
    session.add(account)
    movement = CreditMovement(
        company_id=company_id, delta=-1, balance_after=account.balance, kind="issue", invoice_id=invoice_id
    )
    session.add(movement)
    if account.balance in (ctx.low_credits_threshold, 0):
        await _tell_low_credits(ctx, session, company_id, account.balance, movement.id)
    return account.balance


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
