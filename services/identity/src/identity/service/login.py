"""Sign-in: password (throttled, account-blind answers), then a second factor, or its first enrolment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import Company, KnownDevice, LoginChallenge, MfaFactor, RecoveryCode, User
from identity.domain import secrets, totp
from identity.domain.errors import ApiError, Conflict, Forbidden, InvalidInput, NotAuthenticated, TooManyAttempts
from identity.domain.validation import mask_phone, normalise_email, normalise_phone
from identity.service import audit, outbound, queries, throttle
from identity.service.context import Client, Context, min_duration, now
from identity.service.sessions import IssuedTokens, open_session
from identity.service.signup import send_verification

INVALID_CREDENTIALS = (
    "The e-mail address or the password is not right. Check both, or use 'Forgot password' to choose a new one."
)
METHOD_ORDER = ("totp", "sms", "email")


@dataclass
class LoginStep:
    """A sign-in waiting for its second factor (mfa_required) or for the first one (mfa_enrolment_required)."""

    status: str
    mfa_token: str
    expires_in: int
    methods: list[str] = field(default_factory=list)
    code_sent_to: str | None = None


@dataclass
class EnrolmentSetup:
    """What the user needs to finish enrolling a factor: the TOTP secret and QR code, or where a code went."""

    method: str
    secret: str | None = None
    otpauth_uri: str | None = None
    qr_svg: str | None = None
    code_sent_to: str | None = None


async def login(ctx: Context, email: str, password: str, device_token: str | None, client: Client) -> LoginStep:
    """Check the password; the answer for an unknown address is the same, in content and in time."""
    async with min_duration(ctx.settings.login_min_duration_s):
        return await _login(ctx, email, password, device_token, client)


async def _login(ctx: Context, email: str, password: str, device_token: str | None, client: Client) -> LoginStep:
    key = throttle.account_key(email)
    async with ctx.tx() as s:
        user = await queries.user_by_email(s, normalise_email(email))
        device = await queries.known_device(s, user, device_token)
        wait = await throttle.login_wait_s(s, ctx.settings.throttle, key, client.ip, device_known=device is not None)
        if wait > 0:
            audit.record(s, "login.throttled", client, company_id=user and user.company_id, user_id=user and user.id)
        else:
            # Counted as a failure before the slow check, so parallel guesses already see each other.
            attempt = throttle.add_event(s, "login", client.ip, throttle.FAILED, key)
    if wait > 0:
        raise throttle.too_many(wait, "sign-in attempts")

    ok = await ctx.passwords.verify(user.password_hash if user else None, password)
    error: ApiError | None = None
    step: LoginStep | None = None
    async with ctx.tx() as s:
        if not ok or user is None or user.status in ("invited", "deleted"):
            audit.record(
                s,
                "login.failed",
                client,
                company_id=user and user.company_id,
                user_id=user and user.id,
                reason="bad_credentials",
                account_known=user is not None,
            )
            error = NotAuthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
        else:
            await s.exec(update(throttle.T).where(throttle.T.id == attempt.id).values(outcome=throttle.PASSWORD_OK))  # type: ignore[arg-type]
            user = await s.get(User, user.id, with_for_update=True)
            assert user is not None
            error, step = await _after_password(ctx, s, user, password, device, client)
    if error is not None:
        raise error
    assert step is not None
    return step


async def _after_password(
    ctx: Context, s: AsyncSession, user: User, password: str, device: KnownDevice | None, client: Client
) -> tuple[ApiError | None, LoginStep | None]:
    if user.status == "disabled":
        audit.record(s, "login.refused", client, company_id=user.company_id, user_id=user.id, reason="disabled")
        return Forbidden(
            "Your access was disabled by your company's administrator; ask them to restore it.",
            code="account_disabled",
        ), None
    if user.status == "pending_verification":
        await send_verification(ctx, s, user)
        audit.record(s, "login.refused", client, company_id=user.company_id, user_id=user.id, reason="unverified")
        return Forbidden(
            "Confirm your e-mail address first: we have just sent you a new confirmation link.",
            code="email_not_verified",
        ), None
    if user.password_hash and ctx.passwords.needs_rehash(user.password_hash):
        user.password_hash = await ctx.passwords.hash(password)
        s.add(user)
    company = await queries.company(s, user.company_id)
    factors = await queries.confirmed_factors(s, user.id)
    token = secrets.new_token()
    challenge = LoginChallenge(
        user_id=user.id,
        token_hash=secrets.token_hash(token),
        stage="verify" if factors else "enrol",
        device_id=device.id if device else None,
        ip=client.ip,
        user_agent=client.user_agent,
        expires_at=now() + timedelta(seconds=ctx.settings.login_challenge_ttl_s),
    )
    s.add(challenge)
    await s.flush()
    audit.record(s, "login.password_verified", client, company_id=user.company_id, user_id=user.id)
    if not factors:
        return None, LoginStep(
            status="mfa_enrolment_required",
            mfa_token=token,
            expires_in=ctx.settings.login_challenge_ttl_s,
            methods=allowed_enrolment_methods(company),
        )
    methods = usable_methods(company, factors)
    sent_to = None
    first = next(f for f in factors if f.kind == methods[0]) if methods[0] != "recovery_code" else None
    if first is not None and first.kind in ("sms", "email"):
        sent_to = send_code(ctx, s, challenge, user, first)
    return None, LoginStep(
        status="mfa_required",
        mfa_token=token,
        expires_in=ctx.settings.login_challenge_ttl_s,
        methods=methods,
        code_sent_to=sent_to,
    )


def allowed_enrolment_methods(company: Company) -> list[str]:
    """TOTP only when the company requires it; otherwise the user's choice."""
    return ["totp"] if company.require_totp else list(METHOD_ORDER)


def usable_methods(company: Company, factors: list[MfaFactor]) -> list[str]:
    """Factors accepted at sign-in, preferred first; a company that requires TOTP refuses SMS and e-mail codes."""
    kinds = [k for k in METHOD_ORDER if any(f.kind == k for f in factors)]
    if company.require_totp and "totp" in kinds:
        kinds = ["totp"]
    return [*kinds, "recovery_code"]


def send_code(ctx: Context, s: AsyncSession, challenge: LoginChallenge, user: User, factor: MfaFactor) -> str | None:
    """Send a fresh single-use code for `factor` (SMS or e-mail); returns the masked destination."""
    code = secrets.new_numeric_code()
    challenge.code_hash = secrets.code_hash(str(challenge.id), code)
    challenge.code_factor_id = factor.id
    challenge.code_expires_at = now() + timedelta(seconds=ctx.settings.mfa_code_ttl_s)
    challenge.codes_sent += 1
    s.add(challenge)
    sms = factor.kind == "sms"
    outbound.send_message(
        ctx,
        s,
        template="mfa-code",
        channel="sms" if sms else "email",
        recipient=(factor.phone or "") if sms else user.email,
        locale=user.locale,
        params={"code": code, "expires_in_minutes": ctx.settings.mfa_code_ttl_s // 60},
        key=f"mfa-code:{challenge.id}:{challenge.codes_sent}",
        tenant=str(user.company_id),
    )
    return mask_phone(factor.phone) if sms else _mask_email(user.email)


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


EXPIRED = "This sign-in expired or was abandoned after too many wrong codes. Sign in again with your password."


async def _challenge_or_fail(s: AsyncSession, mfa_token: str) -> tuple[LoginChallenge, User, Company]:
    challenge = await queries.live_challenge(s, mfa_token)
    user = await s.get(User, challenge.user_id, with_for_update=True) if challenge else None
    if challenge is None or user is None or user.status != "active":
        raise NotAuthenticated(EXPIRED, code="mfa_token_expired")
    return challenge, user, await queries.company(s, user.company_id)


def _wrong_code(
    ctx: Context, s: AsyncSession, challenge: LoginChallenge, user: User, client: Client, why: str
) -> ApiError:
    """Count a wrong code; after mfa_max_attempts the whole sign-in is void."""
    challenge.failed_attempts += 1
    left = max(0, ctx.settings.mfa_max_attempts - challenge.failed_attempts)
    if left == 0:
        challenge.expires_at = now()
        challenge.code_hash = None
    s.add(challenge)
    throttle.add_event(s, "login", client.ip, throttle.FAILED, throttle.account_key(user.email))
    audit.record(
        s, "login.mfa_failed", client, company_id=user.company_id, user_id=user.id, reason=why, attempts_left=left
    )
    if left == 0:
        return NotAuthenticated(EXPIRED, code="mfa_token_expired")
    return NotAuthenticated(
        f"This code is not right, has expired or was already used. {left} attempt(s) left.",
        code="invalid_code",
        field="code",
        extra={"attempts_left": left},
    )


async def _check_totp(s: AsyncSession, factor: MfaFactor, code: str, client: Client, user: User) -> bool:
    """Accept a TOTP code once: a code of a step already used (replay) is refused."""
    step = totp.matching_step(factor.secret or "", code)
    if step is None:
        return False
    if factor.last_used_step is not None and step <= factor.last_used_step:
        audit.record(s, "login.totp_replay_refused", client, company_id=user.company_id, user_id=user.id)
        return False
    factor.last_used_step = step
    s.add(factor)
    return True


def _check_sent_code(challenge: LoginChallenge, factor_id: object, code: str) -> bool:
    if challenge.code_factor_id != factor_id or challenge.code_expires_at is None or challenge.code_expires_at <= now():
        return False
    if not secrets.codes_equal(challenge.code_hash, str(challenge.id), code):
        return False
    challenge.code_hash = None  # single use
    return True


async def _use_recovery_code(ctx: Context, s: AsyncSession, user: User, code: str, client: Client) -> bool:
    row = (
        await s.exec(
            select(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == secrets.recovery_code_hash(code),
                RecoveryCode.used_at.is_(None),  # type: ignore[union-attr]
            )
            .with_for_update()
        )
    ).first()
    if row is None:
        return False
    row.used_at = now()
    s.add(row)
    await s.flush()
    left = await queries.recovery_codes_left(s, user.id)
    audit.record(s, "mfa.recovery_code_used", client, company_id=user.company_id, user_id=user.id, codes_left=left)
    outbound.send_message(
        ctx,
        s,
        template="recovery-code-used",
        recipient=user.email,
        locale=user.locale,
        params={
            "recipient_name": user.full_name,
            "used_at": row.used_at.isoformat(),
            "codes_remaining": left,
            "security_url": ctx.link("account/security"),
        },
        key=f"recovery-code-used:{row.id}",
        tenant=str(user.company_id),
    )
    return True


async def verify(
    ctx: Context,
    mfa_token: str,
    *,
    code: str | None,
    method: str | None,
    recovery_code: str | None,
    client: Client,
) -> IssuedTokens | LoginStep:
    """Second step of a sign-in: a TOTP, SMS or e-mail code, or a recovery code."""
    error: ApiError | None = None
    result: IssuedTokens | LoginStep | None = None
    async with ctx.tx() as s:
        challenge, user, company = await _challenge_or_fail(s, mfa_token)
        if challenge.stage != "verify":
            raise Conflict(
                "Choose and confirm a second factor first (POST /login/mfa/enrol).", code="enrolment_required"
            )
        factors = await queries.confirmed_factors(s, user.id, lock=True)
        allowed = usable_methods(company, factors)
        used: str | None = None
        if recovery_code:
            used = "recovery_code" if await _use_recovery_code(ctx, s, user, recovery_code, client) else None
        else:
            chosen = method or (
                next(f.kind for f in factors if f.id == challenge.code_factor_id)
                if challenge.code_factor_id and any(f.id == challenge.code_factor_id for f in factors)
                else allowed[0]
            )
            if chosen not in allowed or chosen == "recovery_code":
                raise InvalidInput(
                    f"Use one of your methods: {', '.join(allowed)}.", field="method", code="method_not_allowed"
                )
            if not code:
                raise InvalidInput("Type the code of your second factor.", field="code", code="code_required")
            factor = next(f for f in factors if f.kind == chosen)
            ok = (
                await _check_totp(s, factor, code, client, user)
                if chosen == "totp"
                else _check_sent_code(challenge, factor.id, code)
            )
            used = chosen if ok else None
        if used is None:
            error = _wrong_code(
                ctx, s, challenge, user, client, "wrong_recovery_code" if recovery_code else "wrong_code"
            )
        elif company.require_totp and used in ("sms", "email") and not any(f.kind == "totp" for f in factors):
            # The company now requires TOTP: the old factor proved who this is, now the app is added.
            challenge.stage, challenge.verified_with = "enrol", used
            s.add(challenge)
            result = LoginStep(
                status="mfa_enrolment_required",
                mfa_token=mfa_token,
                expires_in=max(0, int((challenge.expires_at - now()).total_seconds())),
                methods=["totp"],
            )
        else:
            result = await complete(
                ctx, s, challenge, user, amr=["pwd", "rcode" if used == "recovery_code" else used], client=client
            )
    if error is not None:
        raise error
    assert result is not None
    return result


async def send_another_code(ctx: Context, mfa_token: str, method: str, client: Client) -> str | None:
    """Send a (new) SMS or e-mail code for a pending sign-in; a few per sign-in, not more than every 30 s."""
    async with ctx.tx() as s:
        challenge, user, company = await _challenge_or_fail(s, mfa_token)
        if challenge.stage == "enrol":
            factor = await s.get(MfaFactor, challenge.pending_factor_id) if challenge.pending_factor_id else None
            if factor is None or factor.kind != method:
                raise InvalidInput(f"Start enrolling {method} first (POST /login/mfa/enrol).", field="method")
        else:
            factors = await queries.confirmed_factors(s, user.id)
            if method not in ("sms", "email") or method not in usable_methods(company, factors):
                raise InvalidInput("Codes are sent for your SMS or e-mail method only.", field="method")
            factor = next(f for f in factors if f.kind == method)
        if challenge.codes_sent >= ctx.settings.mfa_max_attempts:
            raise TooManyAttempts("Too many codes were sent for this sign-in. Sign in again.", retry_after_s=60)
        if challenge.code_expires_at is not None:
            sent_at = challenge.code_expires_at - timedelta(seconds=ctx.settings.mfa_code_ttl_s)
            if (now() - sent_at).total_seconds() < 30:
                raise TooManyAttempts("A code was sent less than 30 seconds ago; wait for it.", retry_after_s=30)
        return send_code(ctx, s, challenge, user, factor)


async def start_enrolment(
    ctx: Context, mfa_token: str, method: str, phone: str | None, client: Client
) -> EnrolmentSetup:
    """First sign-in (or after a reset): set up the chosen factor; a code then proves it works."""
    async with ctx.tx() as s:
        challenge, user, company = await _challenge_or_fail(s, mfa_token)
        if challenge.stage != "enrol":
            raise Conflict("This account already has a second factor; verify it instead.", code="already_enrolled")
        allowed = allowed_enrolment_methods(company)
        if method not in allowed:
            raise InvalidInput(f"Choose one of: {', '.join(allowed)}.", field="method", code="method_not_allowed")
        factor, setup = build_factor(ctx, user, company, method, phone)
        await discard_pending_factors(s, user.id)
        s.add(factor)
        await s.flush()
        challenge.pending_factor_id = factor.id
        challenge.code_hash = None
        s.add(challenge)
        if method in ("sms", "email"):
            setup.code_sent_to = send_code(ctx, s, challenge, user, factor)
        audit.record(s, "mfa.enrolment_started", client, company_id=user.company_id, user_id=user.id, method=method)
        return setup


def build_factor(
    ctx: Context, user: User, company: Company, method: str, phone: str | None
) -> tuple[MfaFactor, EnrolmentSetup]:
    """An unconfirmed factor and what to show the user to confirm it."""
    if method == "totp":
        secret = totp.new_secret()
        uri = totp.provisioning_uri(secret, user.email, ctx.settings.totp_issuer)
        return MfaFactor(user_id=user.id, kind="totp", secret=secret), EnrolmentSetup(
            method="totp", secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg_data_uri(uri)
        )
    if method == "sms":
        number = normalise_phone(phone or "", company.country)
        if number is None:
            raise InvalidInput(
                "Give a mobile number that can receive SMS, in international form (e.g. +33612345678).",
                field="phone",
                code="invalid_phone",
            )
        return MfaFactor(user_id=user.id, kind="sms", phone=number), EnrolmentSetup(method="sms")
    return MfaFactor(user_id=user.id, kind="email"), EnrolmentSetup(method="email")


async def discard_pending_factors(s: AsyncSession, user_id: object) -> None:
    """Forget half-enrolled factors (only one enrolment is pending at a time)."""
    pending = await s.exec(
        select(MfaFactor).where(MfaFactor.user_id == user_id, MfaFactor.confirmed_at.is_(None))  # type: ignore[union-attr]
    )
    for factor in pending.all():
        await s.delete(factor)


async def confirm_enrolment(ctx: Context, mfa_token: str, code: str, client: Client) -> IssuedTokens:
    """Prove the new factor with a code: it is confirmed, ten recovery codes are issued, the sign-in completes."""
    error: ApiError | None = None
    issued: IssuedTokens | None = None
    async with ctx.tx() as s:
        challenge, user, _company = await _challenge_or_fail(s, mfa_token)
        factor = (
            await s.get(MfaFactor, challenge.pending_factor_id, with_for_update=True)
            if challenge.stage == "enrol" and challenge.pending_factor_id
            else None
        )
        if factor is None or factor.confirmed_at is not None:
            raise Conflict("Choose a method first (POST /login/mfa/enrol).", code="no_enrolment_pending")
        ok = (
            await _check_totp(s, factor, code, client, user)
            if factor.kind == "totp"
            else _check_sent_code(challenge, factor.id, code)
        )
        if not ok:
            error = _wrong_code(ctx, s, challenge, user, client, "wrong_enrolment_code")
        else:
            first_ever = user.last_login_at is None
            factor.confirmed_at = now()
            s.add(factor)
            if factor.kind == "sms" and not user.phone:
                user.phone = factor.phone
            codes = await queries.replace_recovery_codes(s, user.id)
            audit.record(s, "mfa.enrolled", client, company_id=user.company_id, user_id=user.id, method=factor.kind)
            if not first_ever:
                outbound.security_alert(ctx, s, user, "mfa_changed", client, key=str(factor.id))
            await s.flush()
            await outbound.publish_user(ctx, s, user, "mfa_changed")
            amr = ["pwd", challenge.verified_with or factor.kind, factor.kind]
            issued = await complete(ctx, s, challenge, user, amr=list(dict.fromkeys(amr)), client=client)
            issued.recovery_codes = codes
    if error is not None:
        raise error
    assert issued is not None
    return issued


async def complete(
    ctx: Context, s: AsyncSession, challenge: LoginChallenge, user: User, *, amr: list[str], client: Client
) -> IssuedTokens:
    """Both factors proven: open the session, remember the device, alert on a new device, audit."""
    challenge.completed_at = now()
    s.add(challenge)
    device_token = None
    device_id = challenge.device_id
    if device_id is not None:
        await s.exec(
            update(KnownDevice)
            .where(KnownDevice.id == device_id)  # type: ignore[arg-type]
            .values(last_seen_at=now(), last_ip=client.ip)
        )
    else:
        seen_before = (
            await s.exec(select(func.count()).where(KnownDevice.user_id == user.id))  # type: ignore[arg-type]
        ).one()
        device_token = secrets.new_token()
        device = KnownDevice(
            user_id=user.id,
            token_hash=secrets.token_hash(device_token),
            user_agent=client.user_agent,
            last_ip=client.ip,
        )
        s.add(device)
        await s.flush()
        device_id = device.id
        if seen_before:
            audit.record(s, "login.new_device", client, company_id=user.company_id, user_id=user.id)
            outbound.security_alert(ctx, s, user, "new_device_sign_in", client, key=str(device.id))
    user.last_login_at = now()
    s.add(user)
    throttle.add_event(s, "login", client.ip, throttle.SUCCEEDED, throttle.account_key(user.email))
    issued = await open_session(ctx, s, user, amr=amr, client=client, device_id=device_id)
    issued.device_token = device_token
    audit.record(
        s, "login.succeeded", client, company_id=user.company_id, user_id=user.id, amr=amr, session_id=issued.session_id
    )
    return issued
