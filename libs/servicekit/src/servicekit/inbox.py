"""Idempotent consumption: claim an event id in the same transaction as its effect."""

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.messaging_tables import InboxMessage, utcnow


async def claim_message(session: AsyncSession, message_id: str, consumer: str, topic: str) -> bool:
    """True the first time (consumer, message_id) is seen; False for a redelivery."""
    result = await session.execute(
        insert(InboxMessage)
        .values(message_id=message_id, consumer=consumer, topic=topic, received_at=utcnow())
        .on_conflict_do_nothing()
        .returning(InboxMessage.__table__.c.message_id)  # type: ignore[attr-defined]
    )
    return result.first() is not None
