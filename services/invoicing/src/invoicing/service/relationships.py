"""Trading relationships: a supplier connects with many buyers, by request and acceptance or by invitation code."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.adapters.tables import Invitation, PartyRecord, Relationship
from invoicing.domain.errors import Conflict, Forbidden, NotFound
from invoicing.service.context import Context

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


def _now() -> datetime:
    return datetime.now(UTC)


def hash_code(code: str) -> str:
    normalised = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


async def is_connected(session: AsyncSession, supplier: str, buyer: str) -> bool:
    """True when the supplier may invoice the buyer."""
    row = (
        await session.exec(
            select(Relationship).where(
                Relationship.supplier_company_id == supplier,
                Relationship.buyer_company_id == buyer,
                Relationship.status == "active",
            )
        )
    ).first()
    return row is not None


async def _existing(session: AsyncSession, supplier: str, buyer: str) -> Relationship | None:
    return (
        await session.exec(
            select(Relationship)
            .where(Relationship.supplier_company_id == supplier, Relationship.buyer_company_id == buyer)
            .with_for_update()
        )
    ).first()


async def request_connection(
    session: AsyncSession, supplier: str, buyer: str, message: str | None = None
) -> Relationship:
    """The supplier asks the buyer to connect; the buyer accepts or declines."""
    if supplier == buyer:
        raise Conflict("A company cannot connect with itself.")
    if await session.get(PartyRecord, buyer) is None:
        raise NotFound("No member company has this id: check it with your customer.")
    row = await _existing(session, supplier, buyer)
    if row is not None:
        if row.status in ("active", "requested"):
            return row
        row.status, row.requested_by, row.message, row.updated_at = "requested", "supplier", message, _now()
    else:
        row = Relationship(
            supplier_company_id=supplier, buyer_company_id=buyer, status="requested", requested_by="supplier",
            message=message,
        )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def _own(session: AsyncSession, relationship_id: uuid.UUID, company_id: str) -> Relationship:
    row = (
        await session.exec(
            select(Relationship)
            .where(
                Relationship.id == relationship_id,
                or_(Relationship.supplier_company_id == company_id, Relationship.buyer_company_id == company_id),
            )
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("No such trading relationship for your company.")
    return row


async def answer_request(
    session: AsyncSession, relationship_id: uuid.UUID, buyer: str, *, accept: bool
) -> Relationship:
    """The buyer accepts or declines a supplier's request."""
    row = await _own(session, relationship_id, buyer)
    if row.buyer_company_id != buyer:
        raise Forbidden("Only the buyer answers a connection request.")
    if row.status != "requested":
        raise Conflict(f"This relationship is {row.status}; only a pending request can be answered.")
    row.status = "active" if accept else "declined"
    row.updated_at = _now()
    if accept:
        row.accepted_at = row.updated_at
    session.add(row)
    return row


async def end_relationship(session: AsyncSession, relationship_id: uuid.UUID, company_id: str) -> Relationship:
    """Either side ends the relationship; invoices already issued stay as they are."""
    row = await _own(session, relationship_id, company_id)
    if row.status == "ended":
        return row
    row.status, row.updated_at = "ended", _now()
    session.add(row)
    return row


async def create_invitation(
    ctx: Context, session: AsyncSession, buyer: str, user_id: str | None, note: str | None
) -> tuple[Invitation, str]:
    """A one-time code the buyer gives a supplier; only its hash is kept. Returns the row and the code."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    code = "-".join(raw[i : i + 4] for i in range(0, 12, 4))
    invitation = Invitation(
        buyer_company_id=buyer,
        code_hash=hash_code(code),
        note=note,
        created_by=user_id,
        expires_at=_now() + timedelta(days=ctx.invitation_ttl_days),
    )
    session.add(invitation)
    await session.flush()
    return invitation, code


async def redeem_invitation(session: AsyncSession, supplier: str, code: str) -> Relationship:
    """The supplier enters the buyer's code: the relationship is active at once."""
    invitation = (
        await session.exec(select(Invitation).where(Invitation.code_hash == hash_code(code)).with_for_update())
    ).first()
    # One answer for unknown, used and expired codes, so codes cannot be probed.
    if invitation is None or invitation.used_at is not None or invitation.expires_at < _now():
        raise NotFound(
            "This invitation code is not valid (unknown, already used or expired): ask the buyer for a new one."
        )
    if invitation.buyer_company_id == supplier:
        raise Conflict("This is your own company's invitation code: give it to your supplier.")
    invitation.used_at, invitation.used_by_company_id = _now(), supplier
    session.add(invitation)
    row = await _existing(session, supplier, invitation.buyer_company_id)
    if row is None:
        row = Relationship(
            supplier_company_id=supplier, buyer_company_id=invitation.buyer_company_id, status="active",
            requested_by="invitation", accepted_at=_now(),
        )  # fmt: skip
    elif row.status != "active":
        row.status, row.requested_by, row.updated_at, row.accepted_at = "active", "invitation", _now(), _now()
    session.add(row)
    await session.flush()
    return row


async def connect(session: AsyncSession, supplier: str, buyer: str) -> Relationship:
    """Operator shortcut (python -m invoicing.manage connect): an active relationship at once."""
    row = await _existing(session, supplier, buyer)
    if row is None:
        row = Relationship(
            supplier_company_id=supplier, buyer_company_id=buyer, status="active", requested_by="operator",
            accepted_at=_now(),
        )  # fmt: skip
    else:
        row.status, row.updated_at, row.accepted_at = "active", _now(), row.accepted_at or _now()
    session.add(row)
    await session.flush()
    return row


async def list_relationships(
    session: AsyncSession, company_id: str, *, role: str = "any", status: str | None = None
) -> list[Relationship]:
    conditions = []
    if role == "supplier":
        conditions.append(Relationship.supplier_company_id == company_id)
    elif role == "buyer":
        conditions.append(Relationship.buyer_company_id == company_id)
    else:
        conditions.append(
            or_(Relationship.supplier_company_id == company_id, Relationship.buyer_company_id == company_id)
        )
    if status:
        conditions.append(Relationship.status == status)
    query = select(Relationship).where(*conditions).order_by(Relationship.created_at.desc())  # type: ignore[attr-defined]
    return list((await session.exec(query)).all())
