"""What support tells others, staged in the outbox: e-mails to requesters and case events."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.topics import support as support_topics
from contracts.topics.notifications import SEND_REQUESTED
from contracts.v1 import SendRequested
from contracts.v1.support import CaseOpened, CaseStateChanged
from servicekit.outbox import add_to_outbox
from support.adapters.tables import CaseToken, SupportCase
from support.service.context import SupportContext

Notice = Literal["opened", "answered", "waiting", "resolved"]
Actor = Literal["customer", "agent", "system"]


def hash_token(token: str) -> str:
    """What we store of an e-mailed secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token(session: AsyncSession, case: SupportCase, purpose: str, expires_at: datetime) -> str:
    """A new random secret for `case`, stored hashed; returns the secret itself (to e-mail it)."""
    token = secrets.token_urlsafe(32)
    session.add(CaseToken(case_id=case.id, purpose=purpose, token_hash=hash_token(token), expires_at=expires_at))
    return token


def case_url(ctx: SupportContext, session: AsyncSession, case: SupportCase, now: datetime) -> str:
    """Link to the case page; requesters who cannot sign in get a fresh access token in it."""
    base = f"{ctx.settings.portal_url.rstrip('/')}/support/cases/{case.reference}"
    if case.channel == "member":
        return base
    token = mint_token(session, case, "access", now + timedelta(days=ctx.settings.access_link_ttl_days))
    return f"{base}?token={token}"


def _send(ctx: SupportContext, session: AsyncSession, case: SupportCase, key: str, template: str, params: dict) -> None:
    add_to_outbox(
        session,
        SEND_REQUESTED,
        SendRequested(
            idempotency_key=key,
            channel="email",
            recipient=case.requester_email,
            locale=case.locale,  # type: ignore[arg-type]
            template=template,
            params=params,
            tenant=case.company_id,
        ),
        source=ctx.source,
        key=key,
        tenant=case.company_id,
    )


def notify_requester(
    ctx: SupportContext, session: AsyncSession, case: SupportCase, notice: Notice, cause_id: uuid.UUID | str
) -> None:
    """Ask notifications to tell the requester, in their language; `cause_id` makes it idempotent."""
    template = {
        "opened": ctx.settings.template_opened,
        "answered": ctx.settings.template_answered,
        "waiting": ctx.settings.template_waiting,
        "resolved": ctx.settings.template_resolved,
    }[notice]
    params = {
        "recipient_name": case.requester_name,
        "case_reference": case.reference,
        "case_subject": case.subject,
        "case_url": case_url(ctx, session, case, ctx.now()),
    }
    _send(ctx, session, case, f"support:{case.id}:{notice}:{cause_id}", template, params)


def send_verification(ctx: SupportContext, session: AsyncSession, case: SupportCase, now: datetime) -> None:
    """E-mail the link that confirms the requester controls the address they gave."""
    hours = ctx.settings.verification_ttl_hours
    token = mint_token(session, case, "verify", now + timedelta(hours=hours))
    url = f"{ctx.settings.portal_url.rstrip('/')}/support/cases/{case.reference}/verify?token={token}"
    params = {
        "recipient_name": case.requester_name,
        "verification_url": url,
        "expires_in_hours": hours,
        "case_reference": case.reference,
        "case_subject": case.subject,
    }
    _send(
        ctx,
        session,
        case,
        f"support:{case.id}:verify:{hash_token(token)[:16]}",
        ctx.settings.template_verification,
        params,
    )


def publish_opened(
    ctx: SupportContext, session: AsyncSession, case: SupportCase, first_due: datetime, resolution_due: datetime
) -> None:
    """support.case-opened.v1: the case reached the desk."""
    assert case.sla_started_at is not None
    add_to_outbox(
        session,
        support_topics.CASE_OPENED,
        CaseOpened(
            case_id=str(case.id),
            reference=case.reference,
            category=case.category,
            channel=case.channel,  # type: ignore[arg-type]
            company_id=case.company_id,
            locale=case.locale,  # type: ignore[arg-type]
            opened_at=case.sla_started_at,
            first_response_due_at=first_due,
            resolution_due_at=resolution_due,
        ),
        source=ctx.source,
        key=str(case.id),
        tenant=case.company_id,
    )


def publish_state_change(
    ctx: SupportContext, session: AsyncSession, case: SupportCase, before: str, actor: Actor, at: datetime
) -> None:
    """support.case-state-changed.v1."""
    add_to_outbox(
        session,
        support_topics.CASE_STATE_CHANGED,
        CaseStateChanged(
            case_id=str(case.id),
            reference=case.reference,
            category=case.category,
            company_id=case.company_id,
            from_state=before,  # type: ignore[arg-type]
            to_state=case.state,  # type: ignore[arg-type]
            changed_by=actor,
            changed_at=at,
        ),
        source=ctx.source,
        key=str(case.id),
        tenant=case.company_id,
    )
