"""Sessions: access tokens, rotating refresh tokens with reuse detection, logout, the caller of a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import AuthSession, Company, RefreshToken, User
from identity.domain import secrets
from identity.domain.errors import Forbidden, NotAuthenticated, NotFound
from identity.domain.rights import effective_rights
from identity.service import audit, queries
from identity.service.context import Client, Context, now


@dataclass
class IssuedTokens:
    """What a successful sign-in or refresh returns."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str
    acr: str
    rights: list[str]
    user_id: str
    company_id: str
    device_token: str | None = None
    recovery_codes: list[str] | None = None


@dataclass(frozen=True)
class Caller:
    """The signed-in user behind a request, with rights read from the database (not from the token)."""

    user: User
    company: Company
    session_id: uuid.UUID
    acr: str
    auth_time: int
    rights: frozenset[str] = field(default_factory=frozenset)

    def has(self, right: str) -> bool:
        return right in self.rights


INVALID_REFRESH = "This refresh token is not valid (expired, revoked or unknown). Sign in again."


def _access_token(ctx: Context, user: User, row: AuthSession) -> tuple[str, list[str]]:
    rights = effective_rights(is_admin=user.is_admin, stored=user.rights)
    token = ctx.signer.issue(
        user_id=str(user.id),
        company_id=str(user.company_id),
        rights=rights,
        ttl_s=ctx.settings.access_token_ttl_s,
        acr=row.acr,
        auth_time=int(row.auth_time.timestamp()),
        session_id=str(row.id),
        amr=row.amr,
    )
    return token, rights


def _new_refresh_token(ctx: Context, session: AsyncSession, row: AuthSession) -> tuple[str, int]:
    token = secrets.new_token()
    expires = min(now() + timedelta(seconds=ctx.settings.refresh_token_ttl_s), row.expires_at)
    session.add(RefreshToken(token_hash=secrets.token_hash(token), session_id=row.id, expires_at=expires))
    return token, max(0, int((expires - now()).total_seconds()))


async def open_session(
    ctx: Context,
    session: AsyncSession,
    user: User,
    *,
    amr: list[str],
    client: Client,
    device_id: uuid.UUID | None,
) -> IssuedTokens:
    """A new session after a complete (password + second factor) sign-in: aal2 tokens."""
    moment = now()
    row = AuthSession(
        user_id=user.id,
        company_id=user.company_id,
        acr="aal2",
        amr=amr,
        auth_time=moment,
        device_id=device_id,
        ip=client.ip,
        user_agent=client.user_agent,
        expires_at=moment + timedelta(seconds=ctx.settings.session_max_age_s),
    )
    session.add(row)
    await session.flush()
    access, rights = _access_token(ctx, user, row)
    refresh, refresh_ttl = _new_refresh_token(ctx, session, row)
    return IssuedTokens(
        access_token=access,
        expires_in=ctx.settings.access_token_ttl_s,
        refresh_token=refresh,
        refresh_expires_in=refresh_ttl,
        session_id=str(row.id),
        acr=row.acr,
        rights=rights,
        user_id=str(user.id),
        company_id=str(user.company_id),
    )


async def refresh(ctx: Context, refresh_token: str, client: Client) -> IssuedTokens:
    """Rotate a refresh token; presenting an already-rotated one revokes its whole session."""
    error: NotAuthenticated | None = None
    issued: IssuedTokens | None = None
    async with ctx.tx() as s:
        current = (
            await s.exec(
                select(RefreshToken)
                .where(RefreshToken.token_hash == secrets.token_hash(refresh_token))
                .with_for_update()
            )
        ).first()
        row = await s.get(AuthSession, current.session_id, with_for_update=True) if current else None
        if current is None or row is None:
            error = NotAuthenticated(INVALID_REFRESH, code="invalid_refresh_token")
        elif current.rotated_at is not None:
            if row.revoked_at is None:
                row.revoked_at, row.revoked_reason = now(), "refresh_token_reuse"
                s.add(row)
            audit.record(
                s,
                "session.refresh_token_reused",
                client,
                company_id=row.company_id,
                user_id=row.user_id,
                session_id=str(row.id),
            )
            error = NotAuthenticated(
                "This refresh token was already used once. To protect the account, the session it belongs to "
                "is now closed on every device that shared it. Sign in again.",
                code="refresh_token_reused",
            )
        elif row.revoked_at is not None or row.expires_at <= now() or current.expires_at <= now():
            error = NotAuthenticated(INVALID_REFRESH, code="invalid_refresh_token")
        else:
            user = await s.get(User, row.user_id)
            if user is None or user.status != "active":
                row.revoked_at, row.revoked_reason = now(), "user_not_active"
                s.add(row)
                error = NotAuthenticated("This account is not active any more.", code="account_not_active")
            else:
                current.rotated_at = now()
                row.last_seen_at = now()
                s.add_all([current, row])
                access, rights = _access_token(ctx, user, row)
                token, refresh_ttl = _new_refresh_token(ctx, s, row)
                issued = IssuedTokens(
                    access_token=access,
                    expires_in=ctx.settings.access_token_ttl_s,
                    refresh_token=token,
                    refresh_expires_in=refresh_ttl,
                    session_id=str(row.id),
                    acr=row.acr,
                    rights=rights,
                    user_id=str(user.id),
                    company_id=str(user.company_id),
                )
    if error is not None:
        raise error
    assert issued is not None
    return issued


async def logout(ctx: Context, caller: Caller, client: Client) -> None:
    """End the caller's current session."""
    async with ctx.tx() as s:
        row = await s.get(AuthSession, caller.session_id, with_for_update=True)
        if row is not None and row.revoked_at is None:
            row.revoked_at, row.revoked_reason = now(), "logout"
            s.add(row)
        audit.record(s, "session.logout", client, company_id=caller.company.id, user_id=caller.user.id)


async def logout_with_refresh_token(ctx: Context, refresh_token: str, client: Client) -> None:
    """End the session a refresh token belongs to (for clients whose access token expired); silent if unknown."""
    async with ctx.tx() as s:
        current = (
            await s.exec(select(RefreshToken).where(RefreshToken.token_hash == secrets.token_hash(refresh_token)))
        ).first()
        row = await s.get(AuthSession, current.session_id, with_for_update=True) if current else None
        if row is not None and row.revoked_at is None:
            row.revoked_at, row.revoked_reason = now(), "logout"
            s.add(row)
            audit.record(s, "session.logout", client, company_id=row.company_id, user_id=row.user_id)


async def logout_everywhere(ctx: Context, caller: Caller, client: Client) -> int:
    """End every session of the caller, this one included."""
    async with ctx.tx() as s:
        count = await queries.revoke_sessions(s, caller.user.id, "logout_everywhere")
        audit.record(
            s, "session.logout_everywhere", client, company_id=caller.company.id, user_id=caller.user.id, sessions=count
        )
    return count


async def list_sessions(ctx: Context, caller: Caller) -> list[AuthSession]:
    """The caller's live sessions, newest first."""
    async with ctx.sessions() as s:
        rows = await s.exec(
            select(AuthSession)
            .where(
                AuthSession.user_id == caller.user.id,
                AuthSession.revoked_at.is_(None),  # type: ignore[union-attr]
                AuthSession.expires_at > now(),
            )
            .order_by(AuthSession.created_at.desc())  # type: ignore[attr-defined]
        )
        return list(rows.all())


async def revoke_own_session(ctx: Context, caller: Caller, session_id: str, client: Client) -> None:
    """End one of the caller's own sessions (e.g. a lost laptop)."""
    parsed = queries.parse_id(session_id)
    async with ctx.tx() as s:
        row = await s.get(AuthSession, parsed, with_for_update=True) if parsed else None
        if row is None or row.user_id != caller.user.id:
            raise NotFound("You have no session with this id.", field="session_id")
        if row.revoked_at is None:
            row.revoked_at, row.revoked_reason = now(), "revoked_by_user"
            s.add(row)
        audit.record(
            s, "session.revoked", client, company_id=caller.company.id, user_id=caller.user.id, session_id=str(row.id)
        )


async def authenticate(ctx: Context, token: str) -> Caller:
    """The caller of an identity endpoint: a valid token of a live session of an active user."""
    try:
        claims = await ctx.signer.verify(token)
    except ValueError as exc:
        raise NotAuthenticated(str(exc), code="invalid_token") from exc
    session_id = queries.parse_id(str(claims.get("sid", "")))
    if session_id is None:
        raise NotAuthenticated(
            "This token was not issued by a sign-in (no session id); sign in to use the account API.",
            code="invalid_token",
        )
    async with ctx.sessions() as s:
        found = (
            await s.exec(
                select(AuthSession, User, Company)
                .join(User, User.id == AuthSession.user_id)  # type: ignore[arg-type]
                .join(Company, Company.id == User.company_id)  # type: ignore[arg-type]
                .where(AuthSession.id == session_id)
            )
        ).first()
    if found is None:
        raise NotAuthenticated("Unknown session; sign in again.", code="invalid_token")
    row, user, company = found
    if row.revoked_at is not None or row.expires_at <= now():
        raise NotAuthenticated("This session was closed; sign in again.", code="session_closed")
    if str(user.id) != str(claims.get("sub")) or str(user.company_id) != str(claims.get("company_id")):
        raise NotAuthenticated("This token does not match its session.", code="invalid_token")
    if user.status != "active":
        raise Forbidden("This account is not active.", code="account_not_active")
    return Caller(
        user=user,
        company=company,
        session_id=row.id,
        acr=str(claims.get("acr", row.acr)),
        auth_time=int(claims.get("auth_time", row.auth_time.timestamp())),
        rights=frozenset(effective_rights(is_admin=user.is_admin, stored=user.rights)),
    )


def require_recent_auth(ctx: Context, caller: Caller) -> None:
    """Sensitive actions need a two-factor sign-in less than recent_auth_max_age_s old."""
    max_age = ctx.settings.recent_auth_max_age_s
    if caller.acr != "aal2" or now().timestamp() - caller.auth_time > max_age:
        raise Forbidden(
            f"This action needs a recent sign-in with your second factor (less than {max_age // 60} minutes old). "
            "Sign in again, then retry.",
            code="recent_authentication_required",
        )


def require_right(caller: Caller, right: str) -> None:
    """403 naming the right when the caller lacks it (rights as stored now, not as the token says)."""
    if not caller.has(right):
        raise Forbidden(f"This action needs the '{right}' right; ask your company administrator.", code="missing_right")
