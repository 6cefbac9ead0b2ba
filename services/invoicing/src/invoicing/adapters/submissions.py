"""What partner intake reads before deciding, in one statement: key, earlier issue, parties, connection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, bindparam, literal
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.adapters.tables import InvoiceRecord, PartnerKeyRecord, PartyRecord, Relationship


@dataclass(frozen=True)
class SubmissionFacts:
    """What intake reads before deciding: the partner key, a previous issue, both parties, their connection."""

    already_issued: bool
    connected: bool
    seller: PartyRecord | None
    buyer: PartyRecord | None
    partner_key: PartnerKeyRecord | None


def _submission_facts_query(with_key: bool):  # type: ignore[no-untyped-def]
    """The facts statement, built once: building and cache-keying it per record cost more than running it."""
    seller_id, buyer_id = bindparam("seller_id", type_=String), bindparam("buyer_id", type_=String)
    issued = (
        select(InvoiceRecord.id)
        .where(
            InvoiceRecord.seller_company_id == seller_id,
            InvoiceRecord.external_id == bindparam("external_id", type_=String),
        )
        .exists()
    )
    connected = (
        select(Relationship.id)
        .where(
            Relationship.supplier_company_id == seller_id,
            Relationship.buyer_company_id == buyer_id,
            Relationship.status == "active",
        )
        .exists()
    )
    seller, buyer = aliased(PartyRecord, name="seller_party"), aliased(PartyRecord, name="buyer_party")
    one_row = select(literal(1).label("one")).subquery("submission")
    query = (
        select(issued.label("already_issued"), connected.label("connected"), seller, buyer)
        .select_from(one_row)
        .outerjoin(seller, seller.company_id == seller_id)  # type: ignore[arg-type]
        .outerjoin(buyer, buyer.company_id == buyer_id)  # type: ignore[arg-type]
    )
    if with_key:
        key_id = bindparam("key_id", type_=String)
        query = query.add_columns(PartnerKeyRecord).outerjoin(
            PartnerKeyRecord,
            PartnerKeyRecord.key_id == key_id,  # type: ignore[arg-type]
        )
    return query


FACTS = _submission_facts_query(with_key=False)
FACTS_WITH_KEY = _submission_facts_query(with_key=True)


async def submission_facts(
    session: AsyncSession, seller_id: str, buyer_id: str, external_id: str, *, key_id: str | None
) -> SubmissionFacts:
    """One statement (one row, whatever exists) instead of five lookups, each answer as its own lookup gave it.

    The partner key is read only when `key_id` is given. Like any query it runs after the session's
    autoflush, so an invoice issued earlier in the same batch counts as already issued.
    """
    params = {"seller_id": seller_id, "buyer_id": buyer_id, "external_id": external_id}
    if key_id is None:
        row = (await session.exec(FACTS, params=params)).one()
    else:
        row = (await session.exec(FACTS_WITH_KEY, params={**params, "key_id": key_id})).one()
    return SubmissionFacts(
        already_issued=bool(row[0]),
        connected=bool(row[1]),
        seller=row[2],
        buyer=row[3],
        partner_key=row[4] if key_id is not None else None,
    )
