"""Notifications use case: record a send request in the ledger, once per logical message."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import Envelope
from contracts.v1 import SendRequested
from notifications.adapters.sms import InvalidPhoneNumber, normalise_e164
from notifications.adapters.tables import Delivery
from servicekit.messaging_tables import utcnow


def canonical_recipient(channel: str, recipient: str, default_region: str) -> str:
    """One spelling per recipient, so the same person asked twice is one logical message.

    E-mail: the domain is case-insensitive, the local part is left as sent. SMS: E.164 when the
    number is valid; an invalid one is kept as sent and fails at delivery with the reason.
    """
    text = recipient.strip()
    if channel == "sms":
        try:
            return normalise_e164(text, default_region)
        except InvalidPhoneNumber:
            return text
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}" if at else text


async def record_send_request(
    event: SendRequested, envelope: Envelope, session: AsyncSession, *, default_region: str = "FR"
) -> None:
    """Add a pending delivery; a repeated idempotency key for the same recipient adds nothing."""
    now = utcnow()
    await session.execute(
        insert(Delivery)
        .values(
            id=uuid.uuid4(),
            idempotency_key=event.idempotency_key,
            channel=event.channel,
            recipient=canonical_recipient(event.channel, event.recipient, default_region),
            locale=event.locale,
            template=event.template,
            params=event.params,
            document_ref=event.document_ref,
            attach_document=event.attach_document,
            tenant=event.tenant or envelope.tenant,
            request_event_id=envelope.id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(constraint="uq_delivery_logical")
    )
