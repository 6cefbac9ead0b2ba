"""Forgotten password and username: the same answer and time for every address; links single-use and short."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import MfaFactor, OneTimeToken, User
from identity.domain import secrets
from identity.domain.errors import ApiError, InvalidInput
from identity.domain.passwords import password_problem
from identity.domain.validation import normalise_email, normalise_phone
from identity.service import audit, outbound, queries, throttle
from identity.service.context import Client, Context, min_duration, now

Work = Callable[[AsyncSession], Awaitable[bool]]

INVALID_LINK = "This link cannot be used: it has expired or was already used. Ask for a new one from the sign-in page."


class InvalidLink(ApiError):
    status = 400
    code = "invalid_or_expired_link"


async def guarded_request(ctx: Context, client: Client, key: str, work: Work) -> None:
    """Run `work` (which may send one e-mail) behind the recovery limits, in constant time.

    One source may ask only so often (429 for everyone alike); one address receives only a
    few messages per window (further requests are answered the same and send nothing).
    """
    cfg = ctx.settings.throttle
    async with min_duration(ctx.settings.recovery_min_duration_s):
        async with ctx.tx() as s:
            wait = await throttle.source_wait_s(s, cfg, "recovery", client.ip, cfg.recovery_per_source)
            if wait == 0:
                throttle.add_event(s, "recovery", client.ip, "requested", key)
                if await throttle.sent_recently(s, cfg, "recovery", key) < cfg.recovery_per_account and await work(s):
                    throttle.add_event(s, "recovery", client.ip, throttle.SENT, key)
        if wait > 0:
            raise throttle.too_many(wait, "requests from your network")


async def replace_link_token(
    ctx: Context, s: AsyncSession, user_id: uuid.UUID, purpose: str, ttl_s: int
) -> tuple[str, OneTimeToken]:
    """A new single-use link token (only its hash is stored); earlier links of this purpose stop working."""
    await queries.void_tokens(s, user_id, purpose)
    token = secrets.new_token()
    row = OneTimeToken(
        user_id=user_id,
        purpose=purpose,
        token_hash=secrets.token_hash(token),
        expires_at=now() + timedelta(seconds=ttl_s),
    )
    s.add(row)
    await s.flush()
    return token, row


async def forgot_password(ctx: Context, email: str, client: Client) -> None:
    """Send a reset link to a known address; do nothing else differently for an unknown one."""

    async def work(s: AsyncSession) -> bool:
        user = await queries.user_by_email(s, normalise_email(email))
        if user is None or user.status == "disabled":
            return False
        ttl = ctx.settings.password_reset_ttl_s
        token, row = await replace_link_token(ctx, s, user.id, "reset_password", ttl)
        outbound.send_message(
            ctx,
            s,
            template="password-reset",
            recipient=user.email,
            locale=user.locale,
            params={
                "recipient_name": user.full_name,
                "reset_url": ctx.link("reset-password", token),
                "expires_in_minutes": ttl // 60,
            },
            key=f"password-reset:{row.id}",
            tenant=str(user.company_id),
        )
        audit.record(s, "password.reset_requested", client, company_id=user.company_id, user_id=user.id)
        return True

    await guarded_request(ctx, client, throttle.account_key(email), work)


async def reset_password(ctx: Context, token: str, new_password: str, client: Client) -> None:
    """Set a new password from a reset link; every session ends and the next sign-in still needs the second factor."""
    async with ctx.tx() as s:
        row = await queries.usable_token(s, token, "reset_password")
        user = await s.get(User, row.user_id, with_for_update=True) if row else None
        if row is None or user is None or user.status in ("deleted", "disabled"):
            raise InvalidLink(INVALID_LINK, field="token")
        problem = password_problem(new_password, email=user.email)
        if problem:
            # Checked before the token is spent, so a refused password does not burn the link.
            raise InvalidInput(problem.detail, field="new_password", code=problem.rule)
        user.password_hash = await ctx.passwords.hash(new_password)
        user.password_changed_at = now()
        if user.status in ("pending_verification", "invited"):
            # The link reached the mailbox: the address is proven.
            user.status, user.email_verified_at = "active", user.email_verified_at or now()
        s.add(user)
        row.used_at = now()
        s.add(row)
        await queries.void_tokens(s, user.id, "reset_password")
        revoked = await queries.revoke_sessions(s, user.id, "password_reset")
        audit.record(s, "password.reset", client, company_id=user.company_id, user_id=user.id, sessions_closed=revoked)
        outbound.security_alert(ctx, s, user, "password_changed", client, key=str(row.id))


async def forgot_username(
    ctx: Context, email: str | None, phone: str | None, country: str | None, client: Client
) -> None:
    """Remind each matching account of its login, at the account's own address; the answer never says if any matched."""
    if not email and not phone:
        raise InvalidInput("Give the e-mail address or the phone number of your account.", field="email")
    number = normalise_phone(phone, country) if phone else None

    async def work(s: AsyncSession) -> bool:
        users: list[User] = []
        if email:
            found = await queries.user_by_email(s, normalise_email(email))
            users = [found] if found else []
        elif number:
            sms_owners = select(MfaFactor.user_id).where(MfaFactor.phone == number, MfaFactor.kind == "sms")
            users = list(
                (
                    await s.exec(
                        select(User)
                        .where(or_(User.phone == number, User.id.in_(sms_owners)), User.status != "deleted")  # type: ignore[arg-type,union-attr,attr-defined]
                        .limit(5)
                    )
                ).all()
            )
        for user in users:
            outbound.send_message(
                ctx,
                s,
                template="username-reminder",
                recipient=user.email,
                locale=user.locale,
                params={"recipient_name": user.full_name, "username": user.email, "login_url": ctx.link("login")},
                key=f"username-reminder:{user.id}:{uuid.uuid4()}",
                tenant=str(user.company_id),
            )
            audit.record(
                s,
                "username.reminder_sent",
                client,
                company_id=user.company_id,
                user_id=user.id,
                asked_by="phone" if number and not email else "email",
            )
        return bool(users)

    key = throttle.account_key(email) if email else secrets.token_hash(f"phone:{number or phone}")
    await guarded_request(ctx, client, key, work)
