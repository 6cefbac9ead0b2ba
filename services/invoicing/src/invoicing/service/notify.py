"""Asking notifications to tell people things (notifications.send-requested.v1 through the outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import catalogue
from contracts.v1 import SendRequested
from invoicing.adapters.tables import PartyRecord
from invoicing.service.context import Context
from servicekit.outbox import add_to_outbox


@dataclass(frozen=True)
class Recipient:
    """An e-mail address, the language it reads, a name for greetings and a stable tag for idempotency."""

    email: str
    locale: str
    name: str
    tag: str


def contacts_with(party: PartyRecord | None, *roles: str) -> list[Recipient]:
    """The party's contacts holding the first of `roles` that anyone holds (in that order of preference)."""
    if party is None:
        return []
    for role in roles:
        found = [
            Recipient(
                email=str(c["email"]),
                locale=c.get("locale") or party.locale,
                name=c.get("name") or party.legal_name,
                tag=f"contact:{c.get('contact_id')}",
            )
            for c in party.contacts
            if c.get("email") and role in (c.get("roles") or [])
        ]
        if found:
            return found
    return []


def request_message(
    ctx: Context,
    session: AsyncSession,
    *,
    key: str,
    recipient: Recipient,
    template: str,
    params: dict[str, Any],
    tenant: str,
    document_ref: str | None = None,
) -> None:
    """One templated e-mail; `key` makes a redelivered request the same message."""
    add_to_outbox(
        session,
        catalogue.SEND_REQUESTED,
        SendRequested(
            idempotency_key=key,
            channel="email",
            recipient=recipient.email,
            locale=recipient.locale if recipient.locale in ("fr", "en") else "fr",  # type: ignore[arg-type]
            template=template,
            params=params,
            document_ref=document_ref,
            tenant=tenant,
        ),
        source=ctx.source,
        key=key,
        tenant=tenant,
    )
