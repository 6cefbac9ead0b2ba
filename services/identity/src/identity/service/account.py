"""My account: profile, password, second factors and recovery codes of the signed-in user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import select

from identity.adapters.tables import MfaFactor, User
from identity.domain import secrets, totp
from identity.domain.errors import ApiError, Conflict, Forbidden, InvalidInput, NotFound
from identity.domain.passwords import password_problem
from identity.domain.validation import mask_phone, normalise_phone
from identity.service import audit, outbound, queries, throttle
from identity.service.context import Client, Context, now
from identity.service.login import EnrolmentSetup, allowed_enrolment_methods, build_factor, discard_pending_factors
from identity.service.sessions import Caller, require_recent_auth


@dataclass
class FactorView:
    """A second factor as the security page shows it (never its secret)."""

    id: str
    method: str
    confirmed: bool
    phone: str | None
    created_at: str


@dataclass
class SecurityOverview:
    """The security page: factors, recovery codes left, whether TOTP is required."""

    factors: list[FactorView]
    recovery_codes_left: int
    company_requires_totp: bool


async def security_overview(ctx: Context, caller: Caller) -> SecurityOverview:
    async with ctx.sessions() as s:
        factors = (
            await s.exec(select(MfaFactor).where(MfaFactor.user_id == caller.user.id).order_by(MfaFactor.created_at))  # type: ignore[arg-type]
        ).all()
        left = await queries.recovery_codes_left(s, caller.user.id)
    return SecurityOverview(
        factors=[
            FactorView(
                id=str(f.id),
                method=f.kind,
                confirmed=f.confirmed_at is not None,
                phone=mask_phone(f.phone),
                created_at=f.created_at.isoformat(),
            )
            for f in factors
        ],
        recovery_codes_left=left,
        company_requires_totp=caller.company.require_totp,
    )


async def mfa_methods(ctx: Context, caller: Caller) -> list[str]:
    """The caller's confirmed second factors, TOTP first."""
    async with ctx.sessions() as s:
        return await outbound.confirmed_methods(s, caller.user.id)


async def update_profile(
    ctx: Context, caller: Caller, *, full_name: str | None, locale: str | None, phone: str | None, client: Client
) -> User:
    """Change the caller's name, language or contact phone (not the login e-mail)."""
    async with ctx.tx() as s:
        user = await s.get(User, caller.user.id, with_for_update=True)
        assert user is not None
        if full_name is not None:
            user.full_name = full_name.strip()
        if locale is not None:
            user.locale = locale
        if phone is not None:
            number = normalise_phone(phone, caller.company.country) if phone else None
            if phone and number is None:
                raise InvalidInput("Give a valid phone number, e.g. +33612345678.", field="phone", code="invalid_phone")
            user.phone = number
        s.add(user)
        audit.record(s, "user.profile_changed", client, company_id=user.company_id, user_id=user.id, actor_id=user.id)
        await outbound.publish_user(ctx, s, user, "profile_changed")
        return user


async def change_password(ctx: Context, caller: Caller, current: str, new: str, client: Client) -> None:
    """Change the password knowing the current one; the caller's other sessions end."""
    key = throttle.account_key(caller.user.email)
    async with ctx.sessions() as s:
        wait = await throttle.login_wait_s(s, ctx.settings.throttle, key, client.ip, device_known=True)
    if wait > 0:
        raise throttle.too_many(wait, "wrong passwords")
    if not await ctx.passwords.verify(caller.user.password_hash, current):
        async with ctx.tx() as s:
            throttle.add_event(s, "login", client.ip, throttle.FAILED, key)
            audit.record(s, "password.change_refused", client, company_id=caller.company.id, user_id=caller.user.id)
        raise Forbidden("Your current password is not right.", field="current_password", code="wrong_password")
    if problem := password_problem(new, email=caller.user.email):
        raise InvalidInput(problem.detail, field="new_password", code=problem.rule)
    password_hash = await ctx.passwords.hash(new)
    async with ctx.tx() as s:
        user = await s.get(User, caller.user.id, with_for_update=True)
        assert user is not None
        user.password_hash, user.password_changed_at = password_hash, now()
        s.add(user)
        closed = await queries.revoke_sessions(s, user.id, "password_changed", keep=caller.session_id)
        audit.record(s, "password.changed", client, company_id=user.company_id, user_id=user.id, sessions_closed=closed)
        outbound.security_alert(ctx, s, user, "password_changed", client, key=str(secrets.new_token()[:12]))


async def add_factor(
    ctx: Context, caller: Caller, method: str, phone: str | None, client: Client
) -> tuple[str, EnrolmentSetup]:
    """Start adding (or replacing) a factor; it counts once a code confirms it. Needs a recent sign-in."""
    require_recent_auth(ctx, caller)
    allowed = allowed_enrolment_methods(caller.company)
    if method not in allowed:
        raise InvalidInput(f"Choose one of: {', '.join(allowed)}.", field="method", code="method_not_allowed")
    async with ctx.tx() as s:
        user = await s.get(User, caller.user.id, with_for_update=True)
        assert user is not None
        factor, setup = build_factor(ctx, user, caller.company, method, phone)
        await discard_pending_factors(s, user.id)
        s.add(factor)
        await s.flush()
        if method in ("sms", "email"):
            code = secrets.new_numeric_code()
            factor.code_hash = secrets.code_hash(str(factor.id), code)
            factor.code_expires_at = now() + timedelta(seconds=ctx.settings.mfa_code_ttl_s)
            s.add(factor)
            outbound.send_message(
                ctx,
                s,
                template="mfa-code",
                channel=method,
                recipient=(factor.phone or "") if method == "sms" else user.email,
                locale=user.locale,
                params={"code": code, "expires_in_minutes": ctx.settings.mfa_code_ttl_s // 60},
                key=f"mfa-enrol:{factor.id}",
                tenant=str(user.company_id),
            )
            setup.code_sent_to = mask_phone(factor.phone) if method == "sms" else user.email
        audit.record(s, "mfa.enrolment_started", client, company_id=user.company_id, user_id=user.id, method=method)
        return str(factor.id), setup


async def confirm_factor(ctx: Context, caller: Caller, factor_id: str, code: str, client: Client) -> list[str] | None:
    """Confirm a factor being added; it replaces a previous factor of the same kind.

    Returns new recovery codes when the user had none left, else None.
    """
    require_recent_auth(ctx, caller)
    error: ApiError | None = None
    codes: list[str] | None = None
    async with ctx.tx() as s:
        parsed = queries.parse_id(factor_id)
        factor = await s.get(MfaFactor, parsed, with_for_update=True) if parsed else None
        if factor is None or factor.user_id != caller.user.id or factor.confirmed_at is not None:
            raise NotFound("You have no factor waiting for confirmation with this id.", field="factor_id")
        if factor.kind == "totp":
            step = totp.matching_step(factor.secret or "", code)
            ok = step is not None
            factor.last_used_step = step
        else:
            ok = (
                factor.code_expires_at is not None
                and factor.code_expires_at > now()
                and secrets.codes_equal(factor.code_hash, str(factor.id), code)
            )
        if not ok:
            factor.code_attempts += 1
            if factor.code_attempts >= ctx.settings.mfa_max_attempts:
                await s.delete(factor)
                error = InvalidInput("Too many wrong codes; start again.", field="code", code="enrolment_abandoned")
            else:
                s.add(factor)
                error = InvalidInput("This code is not right or has expired.", field="code", code="invalid_code")
        else:
            replaced = [f for f in await queries.confirmed_factors(s, caller.user.id) if f.kind == factor.kind]
            for old in replaced:
                await s.delete(old)
            factor.confirmed_at, factor.code_hash = now(), None
            s.add(factor)
            user = await s.get(User, caller.user.id, with_for_update=True)
            assert user is not None
            if factor.kind == "sms" and not user.phone:
                user.phone = factor.phone
            if await queries.recovery_codes_left(s, user.id) == 0:
                codes = await queries.replace_recovery_codes(s, user.id)
            audit.record(
                s,
                "mfa.factor_added",
                client,
                company_id=user.company_id,
                user_id=user.id,
                method=factor.kind,
                replaced=len(replaced),
            )
            outbound.security_alert(ctx, s, user, "mfa_changed", client, key=str(factor.id))
            await s.flush()
            await outbound.publish_user(ctx, s, user, "mfa_changed")
    if error is not None:
        raise error
    return codes


async def remove_factor(ctx: Context, caller: Caller, factor_id: str, client: Client) -> None:
    """Remove a factor; the last one (or the last TOTP where the company requires it) stays. Needs a recent sign-in."""
    require_recent_auth(ctx, caller)
    async with ctx.tx() as s:
        parsed = queries.parse_id(factor_id)
        factor = await s.get(MfaFactor, parsed, with_for_update=True) if parsed else None
        if factor is None or factor.user_id != caller.user.id:
            raise NotFound("You have no factor with this id.", field="factor_id")
        if factor.confirmed_at is not None:
            others = [f for f in await queries.confirmed_factors(s, caller.user.id, lock=True) if f.id != factor.id]
            if not others:
                raise Conflict(
                    "This is your only second factor. Add another one first, then remove this one.",
                    code="last_factor",
                )
            if caller.company.require_totp and factor.kind == "totp" and not any(f.kind == "totp" for f in others):
                raise Conflict("Your company requires an authenticator app; keep at least one.", code="totp_required")
        await s.delete(factor)
        user = await s.get(User, caller.user.id, with_for_update=True)
        assert user is not None
        audit.record(s, "mfa.factor_removed", client, company_id=user.company_id, user_id=user.id, method=factor.kind)
        if factor.confirmed_at is not None:
            outbound.security_alert(ctx, s, user, "mfa_changed", client, key=f"removed:{factor.id}")
            await s.flush()
            await outbound.publish_user(ctx, s, user, "mfa_changed")


async def regenerate_recovery_codes(ctx: Context, caller: Caller, client: Client) -> list[str]:
    """Ten new recovery codes; the old ones stop working. Needs a recent sign-in."""
    require_recent_auth(ctx, caller)
    async with ctx.tx() as s:
        user = await s.get(User, caller.user.id, with_for_update=True)
        assert user is not None
        codes = await queries.replace_recovery_codes(s, user.id)
        audit.record(s, "mfa.recovery_codes_regenerated", client, company_id=user.company_id, user_id=user.id)
        outbound.security_alert(ctx, s, user, "recovery_codes_regenerated", client, key=secrets.new_token()[:12])
        return codes
