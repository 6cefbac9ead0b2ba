"""Lookups shared by the use cases; every one that serves a caller is scoped to the caller's company."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import (
    AuthSession,
    Company,
    KnownDevice,
    LoginChallenge,
    MfaFactor,
    OneTimeToken,
    RecoveryCode,
    User,
)
from identity.domain import secrets
from identity.service.context import now


def parse_id(value: str | uuid.UUID) -> uuid.UUID | None:
    """A UUID from a path parameter, or None when it is not one (answered like an unknown id)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None


async def user_by_email(session: AsyncSession, email_normalized: str, *, lock: bool = False) -> User | None:
    """The live (not deleted) account using this address."""
    query = select(User).where(User.email_normalized == email_normalized, User.status != "deleted")
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def company_user(
    session: AsyncSession, company_id: uuid.UUID, user_id: str | uuid.UUID, *, lock: bool = False
) -> User | None:
    """A user of the given company (None for another company's user: no cross-company access)."""
    parsed = parse_id(user_id)
    if parsed is None:
        return None
    query = select(User).where(User.id == parsed, User.company_id == company_id, User.status != "deleted")
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def confirmed_factors(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> list[MfaFactor]:
    """The user's confirmed second factors, oldest first."""
    query = (
        select(MfaFactor)
        .where(MfaFactor.user_id == user_id, MfaFactor.confirmed_at.is_not(None))  # type: ignore[union-attr]
        .order_by(MfaFactor.created_at)  # type: ignore[arg-type]
    )
    if lock:
        query = query.with_for_update()
    return list((await session.exec(query)).all())


async def live_challenge(session: AsyncSession, token: str) -> LoginChallenge | None:
    """The pending sign-in behind an mfa_token, locked; None once expired, completed or void."""
    challenge = (
        await session.exec(
            select(LoginChallenge).where(LoginChallenge.token_hash == secrets.token_hash(token)).with_for_update()
        )
    ).first()
    if challenge is None or challenge.completed_at is not None or challenge.expires_at <= now():
        return None
    return challenge


async def known_device(session: AsyncSession, user: User | None, device_token: str | None) -> KnownDevice | None:
    """The device behind a device token, if it signed in to this account before."""
    if user is None or not device_token:
        return None
    return (
        await session.exec(
            select(KnownDevice).where(
                KnownDevice.token_hash == secrets.token_hash(device_token), KnownDevice.user_id == user.id
            )
        )
    ).first()


async def usable_token(session: AsyncSession, token: str, purpose: str) -> OneTimeToken | None:
    """An unused, unexpired e-mailed token of this purpose, locked; None otherwise."""
    row = (
        await session.exec(
            select(OneTimeToken)
            .where(OneTimeToken.token_hash == secrets.token_hash(token), OneTimeToken.purpose == purpose)
            .with_for_update()
        )
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= now():
        return None
    return row


async def void_tokens(session: AsyncSession, user_id: uuid.UUID, purpose: str) -> None:
    """Make every outstanding token of this purpose unusable (a newer one replaces them)."""
    await session.exec(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,  # type: ignore[arg-type]
            OneTimeToken.purpose == purpose,  # type: ignore[arg-type]
            OneTimeToken.used_at.is_(None),  # type: ignore[union-attr]
        )
        .values(used_at=now())
    )


async def revoke_sessions(
    session: AsyncSession, user_id: uuid.UUID, reason: str, *, keep: uuid.UUID | None = None
) -> int:
    """End every live session of a user (except `keep`); their refresh tokens stop working."""
    query = update(AuthSession).where(
        AuthSession.user_id == user_id,  # type: ignore[arg-type]
        AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
    )
    if keep is not None:
        query = query.where(AuthSession.id != keep)  # type: ignore[arg-type]
    result = await session.exec(query.values(revoked_at=now(), revoked_reason=reason))
    await void_challenges(session, user_id)
    return result.rowcount or 0  # type: ignore[attr-defined]


async def void_challenges(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Abandon the user's sign-ins that are waiting for a second factor."""
    await session.exec(
        update(LoginChallenge)
        .where(LoginChallenge.user_id == user_id, LoginChallenge.completed_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(expires_at=now())
    )


async def replace_recovery_codes(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    """Ten fresh recovery codes; every older code stops working."""
    await session.exec(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(used_at=now())
    )
    codes = [secrets.new_recovery_code() for _ in range(secrets.RECOVERY_CODE_COUNT)]
    for code in codes:
        session.add(RecoveryCode(user_id=user_id, code_hash=secrets.recovery_code_hash(code)))
    return codes


async def recovery_codes_left(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Unused recovery codes of a user."""
    rows = await session.exec(
        select(RecoveryCode.id).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))  # type: ignore[union-attr]
    )
    return len(rows.all())


async def company(session: AsyncSession, company_id: uuid.UUID, *, lock: bool = False) -> Company:
    """A company that must exist (the caller's own)."""
    query = select(Company).where(Company.id == company_id)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).one()
