"""Invoicing HTTP API: a company's sent and received invoices."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.adapters import repository
from invoicing.adapters.tables import InvoiceRecord
from servicekit.auth import CurrentPrincipal

router = APIRouter(prefix="/invoices", tags=["invoices"])


async def session(request: Request):  # type: ignore[no-untyped-def]
    async with request.app.state.runtime.sessions() as s:
        yield s


Session = Annotated[AsyncSession, Depends(session)]


class InvoiceSummary(BaseModel):
    """An invoice as listed to its seller or buyer."""

    id: uuid.UUID
    number: str = Field(description="Number in the seller's series.")
    type_code: str = Field(description="380 invoice, 381 credit note.")
    status: str = Field(description="issued, delivered, sealing_failed, withdrawn.")
    seller_company_id: str
    buyer_company_id: str
    currency: str
    payable: Decimal
    archive_id: str | None = Field(description="Archive entry of the sealed PDF, once sealed.")
    created_at: datetime

    @classmethod
    def of(cls, record: InvoiceRecord) -> InvoiceSummary:
        return cls.model_validate(record, from_attributes=True)


@router.get("", summary="Invoices the caller's company sent or received.")
async def list_invoices(principal: CurrentPrincipal, db: Session) -> list[InvoiceSummary]:
    return [InvoiceSummary.of(r) for r in await repository.invoices_visible_to(db, principal.company_id)]


@router.get("/{invoice_id}", summary="One invoice, if the caller's company is its seller or buyer.")
async def get_invoice(invoice_id: uuid.UUID, principal: CurrentPrincipal, db: Session) -> InvoiceSummary:
    record = await repository.invoice_visible_to(db, principal.company_id, invoice_id)
    if record is None:
        raise HTTPException(404, "no such invoice for your company")
    return InvoiceSummary.of(record)
