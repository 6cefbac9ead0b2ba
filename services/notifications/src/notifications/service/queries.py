"""Read side of the ledger for operators: look deliveries up, count them by state."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.adapters.sms import InvalidPhoneNumber, normalise_e164
from notifications.adapters.tables import Delivery


def recipient_key(recipient: str, default_region: str) -> str:
    """How a recipient is searched: lower-cased, and a phone number as its E.164 form."""
    text = recipient.strip()
    if "@" not in text:
        try:
            return normalise_e164(text, default_region)
        except InvalidPhoneNumber:
            pass
    return text.lower()


async def find_deliveries(
    session: AsyncSession,
    *,
    recipient: str | None = None,
    idempotency_key: str | None = None,
    event_id: str | None = None,
    default_region: str = "FR",
    limit: int = 100,
) -> list[Delivery]:
    """Newest first; the filters given are combined (all must match)."""
    query = select(Delivery)
    if recipient is not None:
        query = query.where(func.lower(Delivery.recipient) == recipient_key(recipient, default_region))
    if idempotency_key is not None:
        query = query.where(Delivery.idempotency_key == idempotency_key)
    if event_id is not None:
        query = query.where(Delivery.request_event_id == event_id.strip())
    query = query.order_by(Delivery.created_at.desc(), Delivery.id).limit(limit)  # type: ignore[attr-defined]
    return list((await session.exec(query)).all())


async def count_by_state(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Channel -> status -> number of deliveries."""
    rows = (
        await session.exec(
            select(Delivery.channel, Delivery.status, func.count()).group_by(Delivery.channel, Delivery.status)
        )
    ).all()
    result: dict[str, dict[str, int]] = {}
    for channel, status, count in rows:
        result.setdefault(channel, {})[status] = count
    return result
