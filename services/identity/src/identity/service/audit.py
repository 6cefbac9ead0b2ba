"""The security audit log: one append-only row per security-relevant fact (never a secret in it)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import AuditEntry
from identity.service.context import Client


def record(
    session: AsyncSession,
    event: str,
    client: Client,
    *,
    company_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    **details: Any,
) -> None:
    """Stage an audit row in the caller's transaction (so it commits or rolls back with the fact)."""
    session.add(
        AuditEntry(
            company_id=company_id,
            user_id=user_id,
            actor_id=actor_id,
            event=event,
            ip=client.ip,
            user_agent=client.user_agent,
            details={k: v for k, v in details.items() if v is not None},
        )
    )
