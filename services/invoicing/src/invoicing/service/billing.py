"""Billing: balance, packs, purchases paid through the PaymentProvider, and a receipt for each purchase.

A purchase runs in three steps so that no database transaction waits on the payment processor:
record it as pending (the idempotency key is unique per company), ask the processor (the same
key, so a retry never charges twice), then add the credits, number the receipt and e-mail it.
A retry with the same key after a crash resumes where the first attempt stopped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.adapters import repository
from invoicing.adapters.payments import IdempotencyConflict, PaymentProvider
from invoicing.adapters.tables import AuditRecord, CreditMovement, PartyRecord, Purchase
from invoicing.domain.billing import PACKS_BY_ID, price_with_tax, receipt_tax
from invoicing.domain.errors import Conflict, NotFound, PaymentDeclined
from invoicing.service import credits
from invoicing.service.context import Context
from invoicing.service.notify import contacts_with, request_message
from servicekit.auth import Principal
from servicekit.db import SessionFactory

RECEIPT_SERIES_OWNER = "factora"


async def _find(session: AsyncSession, company_id: str, key: str, *, lock: bool = False) -> Purchase | None:
    query = select(Purchase).where(Purchase.company_id == company_id, Purchase.idempotency_key == key)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def _start(
    ctx: Context, sessions: SessionFactory, principal: Principal, pack_id: str, payment_method: str, key: str
) -> Purchase:
    pack = PACKS_BY_ID.get(pack_id)
    if pack is None:
        raise NotFound(f"No pack {pack_id!r}: choose one of {', '.join(PACKS_BY_ID)} (GET /billing/packs).")
    try:
        async with sessions() as session, session.begin():
            existing = await _find(session, principal.company_id, key)
            if existing is not None:
                if (existing.pack_id, existing.payment_method) != (pack_id, payment_method):
                    raise Conflict("This Idempotency-Key was already used for another purchase: use a new key.")
                return existing
            party = await session.get(PartyRecord, principal.company_id)
            tax = receipt_tax(party.country if party else None, party.vat_id if party else None)
            net, vat, total = price_with_tax(pack, tax)
            purchase = Purchase(
                company_id=principal.company_id, user_id=principal.user_id, idempotency_key=key, pack_id=pack.id,
                credits=pack.credits, net_amount=net, vat_rate=tax.rate, vat_amount=vat, amount=total,
                currency=pack.currency, payment_method=payment_method, status="pending",
            )  # fmt: skip
            session.add(purchase)
            return purchase
    except IntegrityError:
        # The same key raced in from a concurrent retry: use the row it created.
        async with sessions() as session:
            found = await _find(session, principal.company_id, key)
        assert found is not None
        return found


async def buy_pack(
    ctx: Context,
    sessions: SessionFactory,
    provider: PaymentProvider,
    principal: Principal,
    *,
    pack_id: str,
    payment_method: str,
    idempotency_key: str,
) -> Purchase:
    """Buy a pack: paid (credits added, receipt numbered) or PaymentDeclined with the processor's reason."""
    purchase = await _start(ctx, sessions, principal, pack_id, payment_method, idempotency_key)
    if purchase.status == "paid":
        return purchase
    if purchase.status == "declined":
        raise _declined(purchase)
    processor_key = f"{principal.company_id}:{idempotency_key}"
    try:
        result = await provider.authorise(
            idempotency_key=processor_key, amount=purchase.amount, currency=purchase.currency,
            payment_method=payment_method, description=f"Factora {purchase.credits} transactions",
        )  # fmt: skip
    except IdempotencyConflict as exc:
        raise Conflict("The payment processor refused this Idempotency-Key: use a new key.") from exc
    if result.status == "authorised":
        result = await provider.capture(reference=result.reference, idempotency_key=processor_key)
    async with sessions() as session, session.begin():
        row = await _find(session, principal.company_id, idempotency_key, lock=True)
        assert row is not None
        if row.status == "pending":
            row.provider_ref = result.reference
            row.completed_at = datetime.now(UTC)
            if result.status == "captured":
                await _complete(ctx, session, row)
            else:
                row.status, row.decline_code, row.decline_reason = "declined", result.decline_code, result.message
            session.add(row)
        purchase = row
    if purchase.status == "declined":
        raise _declined(purchase)
    return purchase


def _declined(purchase: Purchase) -> PaymentDeclined:
    return PaymentDeclined(
        f"The payment was declined ({purchase.decline_code}): {purchase.decline_reason} No credits were added and "
        "nothing was charged. Try another payment method with a new Idempotency-Key.",
        decline_code=purchase.decline_code,
        purchase_id=str(purchase.id),
    )


async def _complete(ctx: Context, session: AsyncSession, purchase: Purchase) -> None:
    account = await credits.locked_account(ctx, session, purchase.company_id)
    await credits.add_credits(session, account, purchase.credits, purchase.id)
    purchase.status = "paid"
    purchase.receipt_number = await repository.next_number(
        session, RECEIPT_SERIES_OWNER, (purchase.completed_at or datetime.now(UTC)).year, "receipt"
    )
    session.add(
        AuditRecord(
            company_id=purchase.company_id, user_id=purchase.user_id, action="credits_purchased",
            subject_id=str(purchase.id), detail={"pack": purchase.pack_id, "amount": str(purchase.amount)},
        )
    )  # fmt: skip
    party = await session.get(PartyRecord, purchase.company_id)
    for recipient in contacts_with(party, "accounts_payable", "invoice_recipient"):
        assert party is not None
        request_message(
            ctx,
            session,
            key=f"purchase-receipt:{purchase.id}:{recipient.tag}",
            recipient=recipient,
            template="purchase-receipt",
            params={
                "recipient_name": recipient.name,
                "company_name": party.legal_name,
                "receipt_number": purchase.receipt_number,
                "purchased_at": (purchase.completed_at or datetime.now(UTC)).isoformat(),
                "credits_purchased": purchase.credits,
                "amount": str(purchase.amount),
                "currency": purchase.currency,
                "billing_url": ctx.billing_url,
            },
            tenant=purchase.company_id,
        )


async def purchases_of(session: AsyncSession, company_id: str) -> list[Purchase]:
    query = select(Purchase).where(Purchase.company_id == company_id).order_by(Purchase.created_at.desc())  # type: ignore[attr-defined]
    return list((await session.exec(query)).all())


async def purchase_of(session: AsyncSession, company_id: str, purchase_id: uuid.UUID) -> Purchase:
    row = (
        await session.exec(select(Purchase).where(Purchase.id == purchase_id, Purchase.company_id == company_id))
    ).first()
    if row is None:
        raise NotFound("No such purchase for your company.")
    return row


async def movements_of(session: AsyncSession, company_id: str, limit: int = 50) -> list[CreditMovement]:
    query = (
        select(CreditMovement)
        .where(CreditMovement.company_id == company_id)
        .order_by(CreditMovement.at.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    return list((await session.exec(query)).all())
