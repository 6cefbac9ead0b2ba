"""Invoicing HTTP API: invoices and credit notes, the buyer's statuses, exports; relationships; billing.

Every query is scoped to the caller's company (taken from the verified token, never from the
request) and every endpoint checks the caller's rights.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import select

from contracts.v1 import InvoiceDocument
from invoicing.adapters import repository
from invoicing.adapters.tables import InvoiceEvent, InvoiceRecord, PartyRecord
from invoicing.domain import statuses
from invoicing.domain.exports import build_cii, build_ubl
from invoicing.entrypoints.deps import Ctx, Locale, Session, require_any, wake_relay
from invoicing.entrypoints.schemas import InvoicePage, InvoiceSummary, InvoiceView
from invoicing.service import drafts, lifecycle
from servicekit.auth import Principal, Right

__all__ = ["router"]

router = APIRouter(prefix="/invoices", tags=["invoices"])

Reader = Annotated[Principal, Depends(require_any(Right.VIEW_INVOICES, Right.CREATE_INVOICES))]
Creator = Annotated[Principal, Depends(require_any(Right.CREATE_INVOICES))]
Buyer = Annotated[Principal, Depends(require_any(Right.VIEW_INVOICES))]

NOT_FOUND = "no such invoice for your company"


async def _view(db: Session, record: InvoiceRecord, principal: Principal, lang: str) -> InvoiceView:
    is_seller = record.seller_company_id == principal.company_id
    corrects = await repository.get_invoice(db, record.corrects_invoice_id) if record.corrects_invoice_id else None
    credit_notes = await repository.credit_notes_of(db, record.id)
    if not is_seller:
        credit_notes = [cn for cn in credit_notes if cn.status != "draft"]
    history = (
        await db.exec(
            select(InvoiceEvent).where(InvoiceEvent.invoice_id == record.id).order_by(InvoiceEvent.at)  # type: ignore[arg-type]
        )
    ).all()
    return InvoiceView.build(
        record, principal.company_id, lang, corrects=corrects, credit_notes=credit_notes, history=list(history)
    )


async def _visible(db: Session, principal: Principal, invoice_id: uuid.UUID) -> InvoiceRecord:
    record = await repository.invoice_visible_to(db, principal.company_id, invoice_id)
    if record is None:
        raise HTTPException(404, NOT_FOUND)
    return record


@router.get("", summary="Invoices and credit notes the caller's company sent or received, with filters.")
async def list_invoices(
    principal: Reader,
    db: Session,
    role: Annotated[
        Literal["any", "sent", "received"], Query(description="sent (as seller) or received (as buyer).")
    ] = "any",
    status: Annotated[
        list[str] | None, Query(description="draft, issued, sealed, delivered, sealing_failed, withdrawn.")
    ] = None,
    buyer_status: Annotated[list[str] | None, Query(description="received, approved, on_hold, rejected, paid.")] = None,
    type_code: Annotated[Literal["380", "381"] | None, Query(description="380 invoices, 381 credit notes.")] = None,
    counterparty: Annotated[str | None, Query(description="Company id of the other party.")] = None,
    issued_from: Annotated[date | None, Query(description="Issue date on or after.")] = None,
    issued_to: Annotated[date | None, Query(description="Issue date on or before.")] = None,
    amount_min: Annotated[Decimal | None, Query(description="Amount due at least.")] = None,
    amount_max: Annotated[Decimal | None, Query(description="Amount due at most.")] = None,
    include_withdrawn: Annotated[bool, Query(description="Archive view: include withdrawn documents.")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> InvoicePage:
    flt = repository.InvoiceFilter(
        role=role, statuses=tuple(status or ()), buyer_statuses=tuple(buyer_status or ()), type_code=type_code,
        counterparty=counterparty, issued_from=issued_from, issued_to=issued_to, amount_min=amount_min,
        amount_max=amount_max, include_withdrawn=include_withdrawn,
    )  # fmt: skip
    rows, total = await repository.list_invoices(db, principal.company_id, flt, limit=limit, offset=offset)
    return InvoicePage(
        items=[InvoiceSummary.of(r, principal.company_id) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("", status_code=201, summary="Start a draft invoice (online form); it is validated as you go.")
async def create_invoice(
    body: drafts.DraftInput, principal: Creator, db: Session, ctx: Ctx, lang: Locale
) -> InvoiceView:
    async with db.begin():
        record, _ = await drafts.create_draft(ctx, db, principal, body)
    return await _view(db, record, principal, lang)


@router.get("/{invoice_id}", summary="One invoice, if the caller's company is its seller or (once issued) its buyer.")
async def get_invoice(invoice_id: uuid.UUID, principal: Reader, db: Session, lang: Locale) -> InvoiceView:
    return await _view(db, await _visible(db, principal, invoice_id), principal, lang)


@router.put("/{invoice_id}", summary="Replace the content of a draft; issued documents never change.")
async def update_invoice(
    invoice_id: uuid.UUID, body: drafts.DraftInput, principal: Creator, db: Session, ctx: Ctx, lang: Locale
) -> InvoiceView:
    async with db.begin():
        record, _ = await drafts.update_draft(ctx, db, principal, invoice_id, body)
    return await _view(db, record, principal, lang)


@router.post(
    "/{invoice_id}/issue",
    summary="Issue a draft: validate, number, use one transaction credit, publish.",
    responses={402: {"description": "No transaction credit left"}, 422: {"description": "Rules broken"}},
)
async def issue_invoice(
    invoice_id: uuid.UUID, request: Request, principal: Creator, db: Session, ctx: Ctx, lang: Locale
) -> InvoiceView:
    async with db.begin():
        record = await drafts.issue_draft(ctx, db, principal, invoice_id)
    wake_relay(request)
    return await _view(db, record, principal, lang)


class WithdrawRequest(BaseModel):
    """Explicit confirmation of a withdrawal, with the reason the buyer will read."""

    confirm: bool = Field(default=False, description="true once the user has read the warning.")
    reason: str | None = Field(default=None, max_length=500, description="Why the invoice is withdrawn.")


@router.delete(
    "/{invoice_id}",
    summary="Discard a draft, or withdraw an issued invoice (warning first, then confirmation and a recent 2FA login).",
    responses={
        200: {"description": "Withdrawn"},
        204: {"description": "Draft discarded"},
        401: {"description": "A recent second-factor login is needed"},
        428: {"description": "Warning: a credit note is recommended; confirm to withdraw"},
    },
)
async def delete_invoice(
    invoice_id: uuid.UUID,
    request: Request,
    principal: Creator,
    db: Session,
    ctx: Ctx,
    lang: Locale,
    body: Annotated[WithdrawRequest | None, Body()] = None,
    confirm: Annotated[bool, Query(description="Same as confirm in the body.")] = False,
) -> Response:
    body = body or WithdrawRequest()
    async with db.begin():
        record = await repository.invoice_visible_to(db, principal.company_id, invoice_id)
        if record is not None and record.status == "draft" and record.seller_company_id == principal.company_id:
            await drafts.discard_draft(db, principal, invoice_id)
            return Response(status_code=204)
        record = await lifecycle.withdraw(
            ctx, db, principal, invoice_id, confirm=body.confirm or confirm, reason=body.reason,
            ip_address=request.client.host if request.client else None,
        )  # fmt: skip
    wake_relay(request)
    view = await _view(db, record, principal, lang)
    return Response(view.model_dump_json(), media_type="application/json")


@router.post(
    "/{invoice_id}/credit-notes",
    status_code=201,
    summary="Draw a credit note (381) from an invoice: in full or some lines, never more than is left to credit.",
)
async def create_credit_note(
    invoice_id: uuid.UUID,
    body: drafts.CreditNoteInput,
    request: Request,
    principal: Creator,
    db: Session,
    ctx: Ctx,
    lang: Locale,
) -> InvoiceView:
    async with db.begin():
        record, _ = await drafts.create_credit_note(ctx, db, principal, invoice_id, body)
    wake_relay(request)
    return await _view(db, record, principal, lang)


class BuyerStatusRequest(BaseModel):
    status: Literal["received", "approved", "on_hold", "rejected", "paid"] = Field(
        description="Where the buyer is with the invoice."
    )
    reason: str | None = Field(default=None, max_length=1000, description="Required when rejecting.")


@router.put(
    "/{invoice_id}/buyer-status",
    summary="The buyer sets its processing status (received, approved, on hold, rejected with reason, paid).",
)
async def set_buyer_status(
    invoice_id: uuid.UUID,
    body: BuyerStatusRequest,
    request: Request,
    principal: Buyer,
    db: Session,
    ctx: Ctx,
    lang: Locale,
) -> InvoiceView:
    async with db.begin():
        record = await lifecycle.set_buyer_status(ctx, db, principal, invoice_id, body.status, body.reason)
    wake_relay(request)
    return await _view(db, record, principal, lang)


def _issued_document(record: InvoiceRecord) -> InvoiceDocument:
    if record.status == "draft" or record.document is None:
        raise HTTPException(409, "a draft has no number yet: issue it before exporting it")
    return InvoiceDocument.model_validate(record.document)


XML_RESPONSE = {200: {"content": {"application/xml": {}}, "description": "The XML document"}}


@router.get("/{invoice_id}/ubl", summary="The document as UBL 2.1 (Peppol BIS Billing 3.0).", responses=XML_RESPONSE)
async def export_ubl(invoice_id: uuid.UUID, principal: Reader, db: Session) -> Response:
    document = _issued_document(await _visible(db, principal, invoice_id))
    return Response(
        build_ubl(document),
        media_type="application/xml",
        headers={"content-disposition": f'attachment; filename="{document.number}.ubl.xml"'},
    )


@router.get("/{invoice_id}/cii", summary="The document as UN/CEFACT CII (EN 16931, Factur-X).", responses=XML_RESPONSE)
async def export_cii(invoice_id: uuid.UUID, principal: Reader, db: Session) -> Response:
    document = _issued_document(await _visible(db, principal, invoice_id))
    return Response(
        build_cii(document),
        media_type="application/xml",
        headers={"content-disposition": f'attachment; filename="{document.number}.cii.xml"'},
    )


async def names_of(db: Session, company_ids: set[str]) -> dict[str, str]:
    """Legal names of known companies, for display."""
    if not company_ids:
        return {}
    rows = (await db.exec(select(PartyRecord).where(PartyRecord.company_id.in_(company_ids)))).all()  # type: ignore[attr-defined]
    return {row.company_id: row.legal_name for row in rows}


# Referenced by the OpenAPI description of buyer statuses.
BUYER_STATUSES = statuses.BUYER_STATUSES
