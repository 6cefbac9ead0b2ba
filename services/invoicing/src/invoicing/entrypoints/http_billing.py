"""The Billing menu over HTTP: balance, packs, purchases and their receipts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, Field

from invoicing.adapters.tables import PartyRecord
from invoicing.domain.billing import FACTORA_COUNTRY, FACTORA_NAME, FACTORA_VAT_ID, PACKS, price_with_tax, receipt_tax
from invoicing.entrypoints.deps import Ctx, Session, require_any
from invoicing.entrypoints.schemas import (
    BalanceView,
    MovementView,
    PackView,
    PurchaseView,
    ReceiptLine,
    ReceiptView,
)
from invoicing.service import billing, credits
from servicekit.auth import Principal, Right

router = APIRouter(prefix="/billing", tags=["billing"])

Billing = Annotated[Principal, Depends(require_any(Right.MANAGE_BILLING))]


@router.get("/balance", summary="Transaction credits left and the latest movements.")
async def balance(principal: Billing, db: Session, ctx: Ctx) -> BalanceView:
    movements = await billing.movements_of(db, principal.company_id)
    return BalanceView(
        balance=await credits.balance(ctx, db, principal.company_id),
        low_threshold=ctx.low_credits_threshold,
        movements=[MovementView.model_validate(m, from_attributes=True) for m in movements],
    )


@router.get("/packs", summary="Credit packs for sale, with the VAT that applies to the caller's company.")
async def packs(principal: Billing, db: Session) -> list[PackView]:
    party = await db.get(PartyRecord, principal.company_id)
    tax = receipt_tax(party.country if party else None, party.vat_id if party else None)
    views = []
    for pack in PACKS:
        net, vat, total = price_with_tax(pack, tax)
        views.append(
            PackView(
                id=pack.id,
                credits=pack.credits,
                price=net,
                vat_rate=tax.rate,
                vat_amount=vat,
                total=total,
                currency=pack.currency,
            )
        )
    return views


class PurchaseRequest(BaseModel):
    pack_id: str = Field(description="A pack from GET /billing/packs.")
    payment_method: str = Field(description="Payment method token from the payment form (test: pm_card_visa).")


@router.post(
    "/purchases",
    status_code=201,
    summary="Buy a pack; repeat with the same Idempotency-Key to retry safely (never charged twice).",
    responses={402: {"description": "Payment declined: no credits added, nothing charged"}},
)
async def buy(
    body: PurchaseRequest,
    request: Request,
    principal: Billing,
    ctx: Ctx,
    idempotency_key: Annotated[str, Header(min_length=8, max_length=100, description="Unique per purchase attempt.")],
) -> PurchaseView:
    purchase = await billing.buy_pack(
        ctx, request.app.state.runtime.sessions, request.app.state.payment_provider, principal,
        pack_id=body.pack_id, payment_method=body.payment_method, idempotency_key=idempotency_key,
    )  # fmt: skip
    request.app.state.runtime.relay.wake()
    return PurchaseView.of(purchase)


@router.get("/purchases", summary="The company's purchase history, newest first.")
async def purchases(principal: Billing, db: Session) -> list[PurchaseView]:
    return [PurchaseView.of(p) for p in await billing.purchases_of(db, principal.company_id)]


@router.get("/purchases/{purchase_id}", summary="One purchase.")
async def purchase(purchase_id: uuid.UUID, principal: Billing, db: Session) -> PurchaseView:
    return PurchaseView.of(await billing.purchase_of(db, principal.company_id, purchase_id))


@router.get("/purchases/{purchase_id}/receipt", summary="The invoice (receipt) of a paid purchase.")
async def receipt(purchase_id: uuid.UUID, principal: Billing, db: Session) -> ReceiptView:
    row = await billing.purchase_of(db, principal.company_id, purchase_id)
    if row.status != "paid" or row.receipt_number is None or row.completed_at is None:
        raise HTTPException(409, f"this purchase is {row.status}: only a paid purchase has a receipt")
    party = await db.get(PartyRecord, principal.company_id)
    tax = receipt_tax(party.country if party else None, party.vat_id if party else None)
    return ReceiptView(
        receipt_number=row.receipt_number,
        issued_at=row.completed_at,
        seller={"name": FACTORA_NAME, "vat_id": FACTORA_VAT_ID, "country": FACTORA_COUNTRY},
        buyer={
            "company_id": principal.company_id,
            "name": party.legal_name if party else None,
            "vat_id": party.vat_id if party else None,
            "country": party.country if party else None,
        },
        lines=[
            ReceiptLine(
                description=f"Factora transactions ({row.pack_id})",
                quantity=row.credits,
                unit_price=(row.net_amount / row.credits).quantize(row.net_amount.__class__("0.0001")),
                net_amount=row.net_amount,
            )
        ],
        net_amount=row.net_amount,
        vat_rate=row.vat_rate,
        vat_amount=row.vat_amount,
        total=row.amount,
        currency=row.currency,
        vat_note=tax.note if row.vat_rate == 0 else None,
        payment_reference=row.provider_ref,
    )
