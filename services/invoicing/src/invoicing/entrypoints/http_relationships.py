"""Trading relationships over HTTP: request and accept, invitation codes, the list of connections."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from invoicing.entrypoints.deps import Ctx, Session, require_any
from invoicing.entrypoints.http import names_of
from invoicing.entrypoints.schemas import InvitationView, RelationshipView
from invoicing.service import relationships
from servicekit.auth import Principal, Right

router = APIRouter(prefix="/relationships", tags=["relationships"])

Manager = Annotated[Principal, Depends(require_any(Right.MANAGE_PARTNERS))]
Reader = Annotated[Principal, Depends(require_any(Right.MANAGE_PARTNERS, Right.CREATE_INVOICES, Right.VIEW_INVOICES))]


async def _view(db: Session, row) -> RelationshipView:  # type: ignore[no-untyped-def]
    names = await names_of(db, {row.supplier_company_id, row.buyer_company_id})
    return RelationshipView.of(row, names)


@router.get("", summary="The caller's trading relationships, as supplier and as buyer.")
async def list_relationships(
    principal: Reader,
    db: Session,
    role: Annotated[Literal["any", "supplier", "buyer"], Query(description="The caller's side.")] = "any",
    status: Annotated[Literal["requested", "active", "declined", "ended"] | None, Query()] = None,
) -> list[RelationshipView]:
    rows = await relationships.list_relationships(db, principal.company_id, role=role, status=status)
    names = await names_of(db, {r.supplier_company_id for r in rows} | {r.buyer_company_id for r in rows})
    return [RelationshipView.of(r, names) for r in rows]


class ConnectionRequest(BaseModel):
    buyer_company_id: str = Field(description="The member company you want to invoice.")
    message: str | None = Field(default=None, max_length=500, description="A word for the buyer.")


@router.post("", status_code=201, summary="As a supplier, ask a buyer to connect.")
async def request_connection(body: ConnectionRequest, principal: Manager, db: Session) -> RelationshipView:
    async with db.begin():
        row = await relationships.request_connection(db, principal.company_id, body.buyer_company_id, body.message)
    return await _view(db, row)


@router.post("/{relationship_id}/accept", summary="As the buyer, accept a supplier's request.")
async def accept(relationship_id: uuid.UUID, principal: Manager, db: Session) -> RelationshipView:
    async with db.begin():
        row = await relationships.answer_request(db, relationship_id, principal.company_id, accept=True)
    return await _view(db, row)


@router.post("/{relationship_id}/decline", summary="As the buyer, decline a supplier's request.")
async def decline(relationship_id: uuid.UUID, principal: Manager, db: Session) -> RelationshipView:
    async with db.begin():
        row = await relationships.answer_request(db, relationship_id, principal.company_id, accept=False)
    return await _view(db, row)


@router.post("/{relationship_id}/end", summary="End a relationship (either side); issued invoices stay.")
async def end(relationship_id: uuid.UUID, principal: Manager, db: Session) -> RelationshipView:
    async with db.begin():
        row = await relationships.end_relationship(db, relationship_id, principal.company_id)
    return await _view(db, row)


class InvitationRequest(BaseModel):
    note: str | None = Field(default=None, max_length=200, description="Who the code is for (kept for you).")


@router.post("/invitations", status_code=201, summary="As a buyer, create a one-time code for a supplier.")
async def create_invitation(body: InvitationRequest, principal: Manager, db: Session, ctx: Ctx) -> InvitationView:
    async with db.begin():
        invitation, code = await relationships.create_invitation(
            ctx, db, principal.company_id, principal.user_id, body.note
        )
    return InvitationView(id=invitation.id, code=code, expires_at=invitation.expires_at)


class RedeemRequest(BaseModel):
    code: str = Field(min_length=4, max_length=40, description="The code the buyer gave you.")


@router.post("/invitations/redeem", summary="As a supplier, enter a buyer's code: connected at once.")
async def redeem(body: RedeemRequest, principal: Manager, db: Session) -> RelationshipView:
    async with db.begin():
        row = await relationships.redeem_invitation(db, principal.company_id, body.code)
    return await _view(db, row)
