"""Notifications use case: record a send request in the ledger, once per logical message."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import Envelope
from contracts.v1 import SendRequested
from notifications.adapters.tables import Delivery
from servicekit.messaging_tables import utcnow


async def record_send_request(event: SendRequested, envelope: Envelope, session: AsyncSession) -> None:
    """Add a pending delivery; a repeated idempotency key for the same recipient adds nothing."""
    now = utcnow()
    await session.execute(
        insert(Delivery)
        .values(
            id=uuid.uuid4(),
            idempotency_key=event.idempotency_key,
            channel=event.channel,
            recipient=event.recipient,
            locale=event.locale,
            template=event.template,
            params=event.params,
            document_ref=event.document_ref,
            tenant=event.tenant or envelope.tenant,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(constraint="uq_delivery_logical")
    )
