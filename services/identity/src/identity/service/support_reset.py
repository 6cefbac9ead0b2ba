"""MFA reset approved by a support agent: factors and recovery codes go, sessions end, re-enrolment is forced."""

from __future__ import annotations

import logging

from sqlalchemy import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import Envelope
from contracts.v1.support import MfaResetApproved
from identity.adapters.tables import MfaFactor, RecoveryCode
from identity.domain.validation import normalise_email
from identity.service import audit, outbound, queries
from identity.service.context import SYSTEM, Context, now

log = logging.getLogger(__name__)


async def apply_mfa_reset(ctx: Context, event: MfaResetApproved, envelope: Envelope, session: AsyncSession) -> None:
    """Consume support.mfa-reset-approved.v1 (inside the consumer's inbox transaction).

    The user is found by lower-cased login e-mail; when the case also named a user id or a
    company that does not match, nothing is reset (the approval was for someone else). The
    next sign-in asks the user to choose a second factor again, after the password.
    """
    user = await queries.user_by_email(session, normalise_email(str(event.email)), lock=True)
    if user is not None and event.user_id and str(user.id) != event.user_id:
        user = None
    if user is not None and event.company_id and str(user.company_id) != event.company_id:
        user = None
    if user is None:
        log.warning("MFA reset of case %s matches no account; nothing reset", event.case_reference)
        audit.record(
            session,
            "mfa.reset_unmatched",
            SYSTEM,
            case_id=event.case_id,
            case_reference=event.case_reference,
            approved_by=event.approved_by,
        )
        return
    factors = await session.exec(delete(MfaFactor).where(MfaFactor.user_id == user.id))  # type: ignore[arg-type]
    await session.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))  # type: ignore[arg-type]
    closed = await queries.revoke_sessions(session, user.id, "mfa_reset")
    user.mfa_reset_at = now()
    session.add(user)
    audit.record(
        session,
        "mfa.reset_by_support",
        SYSTEM,
        company_id=user.company_id,
        user_id=user.id,
        case_id=event.case_id,
        case_reference=event.case_reference,
        approved_by=event.approved_by,
        identity_checks=list(event.identity_checks),
        factors_removed=factors.rowcount,  # type: ignore[attr-defined]
        sessions_closed=closed,
    )
    outbound.security_alert(ctx, session, user, "mfa_reset", SYSTEM, key=envelope.id, at=event.approved_at)
    await outbound.publish_user(ctx, session, user, "mfa_reset")
