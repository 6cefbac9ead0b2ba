"""Invoice persistence: numbering under a row lock, lookups scoped to a company."""

from __future__ import annotations

import uuid

from sqlalchemy import or_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.adapters.tables import InvoiceRecord, NumberSeries


async def next_number(session: AsyncSession, seller_company_id: str, year: int) -> str:
    """Take the next number of the seller's yearly series inside the caller's transaction.

    The series row is locked until the transaction ends, so concurrent issuers queue and a
    rolled-back issue leaves no gap.
    """
    series = str(year)
    await session.execute(
        insert(NumberSeries)
        .values(seller_company_id=seller_company_id, series=series, next_value=1)
        .on_conflict_do_nothing()
    )
    row = (
        await session.exec(
            select(NumberSeries)
            .where(NumberSeries.seller_company_id == seller_company_id, NumberSeries.series == series)
            .with_for_update()
        )
    ).one()
    value = row.next_value
    row.next_value = value + 1
    session.add(row)
    return f"F{series}-{value:06d}"


async def find_partner_invoice(session: AsyncSession, seller_company_id: str, external_id: str) -> InvoiceRecord | None:
    """The invoice a partner already submitted under this reference, if any."""
    return (
        await session.exec(
            select(InvoiceRecord).where(
                InvoiceRecord.seller_company_id == seller_company_id,
                InvoiceRecord.external_id == external_id,
            )
        )
    ).first()


async def get_invoice(session: AsyncSession, invoice_id: str) -> InvoiceRecord | None:
    """An invoice by id, unscoped: for internal event handling only."""
    return await session.get(InvoiceRecord, uuid.UUID(invoice_id))


async def invoices_visible_to(session: AsyncSession, company_id: str, limit: int = 100) -> list[InvoiceRecord]:
    """Invoices the company sent or received, newest first."""
    return list(
        (
            await session.exec(
                select(InvoiceRecord)
                .where(or_(InvoiceRecord.seller_company_id == company_id, InvoiceRecord.buyer_company_id == company_id))
                .order_by(InvoiceRecord.created_at.desc())  # type: ignore[attr-defined]
                .limit(limit)
            )
        ).all()
    )


async def invoice_visible_to(session: AsyncSession, company_id: str, invoice_id: uuid.UUID) -> InvoiceRecord | None:
    """One invoice if the company is its seller or buyer; None otherwise (the caller answers 404)."""
    return (
        await session.exec(
            select(InvoiceRecord).where(
                InvoiceRecord.id == invoice_id,
                or_(InvoiceRecord.seller_company_id == company_id, InvoiceRecord.buyer_company_id == company_id),
            )
        )
    ).first()
