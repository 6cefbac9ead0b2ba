"""Idempotent consumption: claim an event id in the same transaction as its effect."""

from collections.abc import Sequence

from sqlalchemy import text
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


# One statement for a whole batch whatever its size (one prepared statement, not one per batch length).
_CLAIM_MANY = text(
    "INSERT INTO inbox (message_id, consumer, topic, received_at) "
    "SELECT id, :consumer, :topic, :received_at FROM unnest(CAST(:ids AS text[])) AS id "
    "ON CONFLICT DO NOTHING RETURNING message_id"
)


async def claim_messages(session: AsyncSession, message_ids: Sequence[str], consumer: str, topic: str) -> set[str]:
    """The ids of a batch seen for the first time by `consumer`, claimed in one round trip; redeliveries left out."""
    if not message_ids:
        return set()
    result = await session.execute(
        _CLAIM_MANY,
        {"ids": list(message_ids), "consumer": consumer, "topic": topic, "received_at": utcnow()},
    )
    return {row[0] for row in result}
