"""Invoice persistence: numbering under a row lock, lookups always scoped to a company, list filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy import bindparam, func, or_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import defer
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.adapters.tables import InvoiceRecord, NumberSeries, PartyRecord

SeriesKind = Literal["invoice", "credit_note", "receipt"]
# Invoices keep the bare year as series key (the first numbers were issued so); the others get a prefix.
SERIES_PREFIX: dict[str, tuple[str, str]] = {"invoice": ("", "F"), "credit_note": ("C", "C"), "receipt": ("R", "R")}


def _next_number_statement():  # type: ignore[no-untyped-def]
    """The first number of a new series, or the row's next one, in one upsert (built once, run with parameters)."""
    table = NumberSeries.__table__  # type: ignore[attr-defined]
    # Parameter names unlike the column names: SQLAlchemy reads an INSERT's parameter named like a column as its value.
    values = {"seller_company_id": bindparam("p_seller"), "series": bindparam("p_series"), "next_value": 2}
    statement = insert(table).values(values)
    return statement.on_conflict_do_update(
        index_elements=[table.c.seller_company_id, table.c.series],
        set_={"next_value": table.c.next_value + 1},
    ).returning(table.c.next_value - 1)


NEXT_NUMBER = _next_number_statement()


async def next_number(session: AsyncSession, seller_company_id: str, year: int, kind: SeriesKind = "invoice") -> str:
    """Take the next number of the seller's yearly series inside the caller's transaction.

    The series row is locked until the transaction ends, so concurrent issuers queue and a
    rolled-back issue leaves no gap: the upsert row-locks the series until commit (a concurrent
    issuer waits, then reads the committed value or, after a rollback, the old one), exactly as
    INSERT .. DO NOTHING + SELECT .. FOR UPDATE + UPDATE did in three statements.
    """
    key_prefix, number_prefix = SERIES_PREFIX[kind]
    # Nothing pending depends on the series: leave them to the commit's flush, where inserts are batched.
    with session.no_autoflush:
        params = {"p_seller": seller_company_id, "p_series": f"{key_prefix}{year}"}
        value = (await session.execute(NEXT_NUMBER, params)).scalar_one()
    return f"{number_prefix}{year}-{value:06d}"


async def find_by_number(
    session: AsyncSession, seller_company_id: str, number: str, *, lock: bool = False
) -> InvoiceRecord | None:
    """One of the seller's issued documents by its number."""
    query = select(InvoiceRecord).where(
        InvoiceRecord.seller_company_id == seller_company_id, InvoiceRecord.number == number
    )
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def get_invoice(
    session: AsyncSession, invoice_id: str | uuid.UUID, *, lock: bool = False
) -> InvoiceRecord | None:
    """An invoice by id, unscoped: for internal event handling only."""
    try:
        key = invoice_id if isinstance(invoice_id, uuid.UUID) else uuid.UUID(invoice_id)
    except ValueError:
        return None
    if lock:
        return (await session.exec(select(InvoiceRecord).where(InvoiceRecord.id == key).with_for_update())).first()
    return await session.get(InvoiceRecord, key)


# Built once: the join, the deferral and the lock made building it per notice cost more than running it.
FOR_DELIVERY = (
    select(InvoiceRecord, PartyRecord)
    .outerjoin(PartyRecord, PartyRecord.company_id == InvoiceRecord.buyer_company_id)  # type: ignore[arg-type]
    .where(InvoiceRecord.id == bindparam("invoice_id"))
    .options(defer(InvoiceRecord.content), defer(InvoiceRecord.validation_report))  # type: ignore[arg-type]
    .with_for_update(of=InvoiceRecord)  # type: ignore[arg-type]
)


async def invoice_for_delivery(
    session: AsyncSession, invoice_id: str | uuid.UUID
) -> tuple[InvoiceRecord | None, PartyRecord | None]:
    """An invoice row-locked for its sealing notice, with its buyer's party (None if unknown), in one statement.

    Internal event handling only (unscoped). The content and validation report are not read: delivery
    never needs them, and they are the largest JSON columns to decode.
    """
    try:
        key = invoice_id if isinstance(invoice_id, uuid.UUID) else uuid.UUID(invoice_id)
    except ValueError:
        return None, None
    row = (await session.exec(FOR_DELIVERY, params={"invoice_id": key})).first()
    return (row[0], row[1]) if row is not None else (None, None)


def _visible(company_id: str):  # type: ignore[no-untyped-def]
    """Sent by the company (drafts included), or received by it (never a draft)."""
    return or_(
        InvoiceRecord.seller_company_id == company_id,
        (InvoiceRecord.buyer_company_id == company_id) & (InvoiceRecord.status != "draft"),  # type: ignore[operator]
    )


async def invoice_visible_to(
    session: AsyncSession, company_id: str, invoice_id: uuid.UUID, *, lock: bool = False
) -> InvoiceRecord | None:
    """One invoice if the company is its seller, or its buyer once issued; None otherwise (the caller answers 404)."""
    query = select(InvoiceRecord).where(InvoiceRecord.id == invoice_id, _visible(company_id))
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


@dataclass(frozen=True)
class InvoiceFilter:
    """What a list asks for; every field narrows the result."""

    role: Literal["any", "sent", "received"] = "any"
    statuses: tuple[str, ...] = ()
    buyer_statuses: tuple[str, ...] = ()
    type_code: str | None = None
    counterparty: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    include_withdrawn: bool = False
    corrects_invoice_id: uuid.UUID | None = None


async def list_invoices(
    session: AsyncSession, company_id: str, flt: InvoiceFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[InvoiceRecord], int]:
    """A page of the company's invoices (newest first) and how many match in all."""
    conditions = [_visible(company_id)]
    if flt.role == "sent":
        conditions.append(InvoiceRecord.seller_company_id == company_id)
    elif flt.role == "received":
        conditions.append(InvoiceRecord.buyer_company_id == company_id)
    if flt.statuses:
        conditions.append(InvoiceRecord.status.in_(flt.statuses))  # type: ignore[attr-defined]
    elif not flt.include_withdrawn:
        # Working lists leave withdrawn documents out; the archive view (or status=withdrawn) shows them.
        conditions.append(InvoiceRecord.status != "withdrawn")
    if flt.buyer_statuses:
        conditions.append(InvoiceRecord.buyer_status.in_(flt.buyer_statuses))  # type: ignore[union-attr]
    if flt.type_code:
        conditions.append(InvoiceRecord.type_code == flt.type_code)
    if flt.counterparty:
        conditions.append(
            or_(
                (InvoiceRecord.seller_company_id == company_id) & (InvoiceRecord.buyer_company_id == flt.counterparty),
                (InvoiceRecord.buyer_company_id == company_id) & (InvoiceRecord.seller_company_id == flt.counterparty),
            )
        )
    if flt.issued_from:
        conditions.append(InvoiceRecord.issue_date >= flt.issued_from)  # type: ignore[operator]
    if flt.issued_to:
        conditions.append(InvoiceRecord.issue_date <= flt.issued_to)  # type: ignore[operator]
    if flt.amount_min is not None:
        conditions.append(InvoiceRecord.payable >= flt.amount_min)
    if flt.amount_max is not None:
        conditions.append(InvoiceRecord.payable <= flt.amount_max)
    if flt.corrects_invoice_id:
        conditions.append(InvoiceRecord.corrects_invoice_id == flt.corrects_invoice_id)
    total = (await session.exec(select(func.count()).select_from(InvoiceRecord).where(*conditions))).one()
    rows = (
        await session.exec(
            select(InvoiceRecord)
            .where(*conditions)
            .order_by(InvoiceRecord.created_at.desc(), InvoiceRecord.id.desc())  # type: ignore[attr-defined]
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return list(rows), int(total)


async def invoices_visible_to(session: AsyncSession, company_id: str, limit: int = 100) -> list[InvoiceRecord]:
    """Invoices the company sent or received, newest first (withdrawn ones left out)."""
    rows, _ = await list_invoices(session, company_id, InvoiceFilter(), limit=limit)
    return rows


async def credit_notes_of(session: AsyncSession, invoice_id: uuid.UUID) -> list[InvoiceRecord]:
    """The credit notes (drafts included) that correct an invoice."""
    return list(
        (
            await session.exec(
                select(InvoiceRecord)
                .where(InvoiceRecord.corrects_invoice_id == invoice_id)
                .order_by(InvoiceRecord.created_at)  # type: ignore[arg-type]
            )
        ).all()
    )
