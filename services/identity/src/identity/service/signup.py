"""Company sign-up: the company and its administrator, who confirms the e-mail address before signing in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import Company, User
from identity.domain.errors import InvalidInput
from identity.domain.passwords import password_problem
from identity.domain.validation import (
    country_problem,
    normalise_email,
    normalise_phone,
    normalise_vat_id,
    vat_problem,
)
from identity.service import audit, outbound, queries, throttle
from identity.service.context import Client, Context, min_duration, now
from identity.service.recovery import INVALID_LINK, InvalidLink, guarded_request, replace_link_token


@dataclass
class CompanyDetails:
    """What a company gives at sign-up (and may later change in its profile)."""

    legal_name: str
    country: str
    address_line1: str
    postcode: str
    city: str
    locale: str
    vat_id: str | None = None
    tax_id: str | None = None
    address_line2: str | None = None
    region: str | None = None


@dataclass
class FirstUser:
    """The person signing up, who becomes the company administrator."""

    email: str
    full_name: str
    password: str
    locale: str | None = None
    phone: str | None = None


def checked_company(details: CompanyDetails, prefix: str = "company") -> CompanyDetails:
    """The details normalised, or InvalidInput naming the field and the fix."""
    country = details.country.strip().upper()
    if problem := country_problem(country):
        raise InvalidInput(problem, field=f"{prefix}.country", code="invalid_country")
    vat_id = normalise_vat_id(details.vat_id) if details.vat_id else None
    if vat_id and (problem := vat_problem(vat_id, country)):
        raise InvalidInput(problem, field=f"{prefix}.vat_id", code="invalid_vat_id")
    tax_id = details.tax_id.strip() if details.tax_id else None
    if not vat_id and not tax_id:
        raise InvalidInput(
            "Give the company's VAT id or, if it has none, its tax or registration number.",
            field=f"{prefix}.vat_id",
            code="tax_identifier_required",
        )
    return CompanyDetails(
        legal_name=details.legal_name.strip(),
        country=country,
        vat_id=vat_id,
        tax_id=tax_id,
        address_line1=details.address_line1.strip(),
        address_line2=(details.address_line2 or "").strip() or None,
        postcode=details.postcode.strip(),
        city=details.city.strip(),
        region=(details.region or "").strip() or None,
        locale=details.locale,
    )


async def sign_up(ctx: Context, company_in: CompanyDetails, person: FirstUser, client: Client) -> None:
    """Create the company and its administrator, and send the confirmation link.

    When the address already has an account, the answer is the same and that account's owner
    gets a reminder of their login instead: sign-up never tells whether an address is known.
    """
    details = checked_company(company_in)
    if problem := password_problem(person.password, email=person.email):
        raise InvalidInput(problem.detail, field="user.password", code=problem.rule)
    phone = None
    if person.phone:
        phone = normalise_phone(person.phone, details.country)
        if phone is None:
            raise InvalidInput(
                "Give a valid phone number, e.g. +33612345678.", field="user.phone", code="invalid_phone"
            )
    cfg = ctx.settings.throttle
    async with min_duration(ctx.settings.recovery_min_duration_s):
        password_hash = await ctx.passwords.hash(person.password)
        existing: User | None = None
        wait = 0.0
        try:
            async with ctx.tx() as s:
                wait = await throttle.source_wait_s(s, cfg, "signup", client.ip, cfg.signups_per_source)
                if wait == 0:
                    throttle.add_event(s, "signup", client.ip, "requested")
                    existing = await queries.user_by_email(s, normalise_email(person.email))
                    if existing is None:
                        await _create(ctx, s, details, person, phone, password_hash, client)
                    else:
                        await _remind_existing(ctx, s, existing, client)
        except _SameAnswer:
            existing = None  # a parallel sign-up with this address won; it sends the link
        if wait > 0:
            raise throttle.too_many(wait, "sign-ups from your network")


async def _create(
    ctx: Context,
    s: AsyncSession,
    details: CompanyDetails,
    person: FirstUser,
    phone: str | None,
    password_hash: str,
    client: Client,
) -> None:
    company = Company(
        legal_name=details.legal_name,
        country=details.country,
        vat_id=details.vat_id,
        tax_id=details.tax_id,
        address_line1=details.address_line1,
        address_line2=details.address_line2,
        postcode=details.postcode,
        city=details.city,
        region=details.region,
        locale=details.locale,
    )
    user = User(
        company_id=company.id,
        email=person.email.strip(),
        email_normalized=normalise_email(person.email),
        full_name=person.full_name.strip(),
        phone=phone,
        locale=person.locale or details.locale,
        password_hash=password_hash,
        password_changed_at=now(),
        status="pending_verification",
        is_admin=True,
    )
    s.add(company)
    await s.flush()
    s.add(user)
    try:
        await s.flush()
    except IntegrityError:
        # The same address signed up a moment ago in a parallel request: same answer, nothing created.
        raise _SameAnswer() from None
    await send_verification(ctx, s, user)
    audit.record(s, "company.registered", client, company_id=company.id, user_id=user.id, actor_id=user.id)
    await outbound.publish_company_registered(ctx, s, company)
    await outbound.publish_user(ctx, s, user, "created")


class _SameAnswer(Exception):
    """Internal: a concurrent sign-up won the race for this address."""


async def _remind_existing(ctx: Context, s: AsyncSession, user: User, client: Client) -> None:
    """The address has an account: remind its owner of the login (a few times per window at most)."""
    cfg = ctx.settings.throttle
    key = throttle.account_key(user.email)
    audit.record(s, "signup.address_in_use", client, company_id=user.company_id, user_id=user.id)
    if await throttle.sent_recently(s, cfg, "recovery", key) >= cfg.recovery_per_account:
        return
    throttle.add_event(s, "recovery", client.ip, throttle.SENT, key)
    outbound.send_message(
        ctx,
        s,
        template="username-reminder",
        recipient=user.email,
        locale=user.locale,
        params={"recipient_name": user.full_name, "username": user.email, "login_url": ctx.link("login")},
        key=f"signup-existing:{user.id}:{uuid.uuid4()}",
        tenant=str(user.company_id),
    )


async def send_verification(ctx: Context, s: AsyncSession, user: User) -> None:
    """A new confirmation link for the address (older links stop working)."""
    ttl = ctx.settings.email_verification_ttl_s
    token, row = await replace_link_token(ctx, s, user.id, "verify_email", ttl)
    outbound.send_message(
        ctx,
        s,
        template="email-verification",
        recipient=user.email,
        locale=user.locale,
        params={
            "recipient_name": user.full_name,
            "verification_url": ctx.link("verify-email", token),
            "expires_in_hours": ttl // 3600,
        },
        key=f"email-verification:{row.id}",
        tenant=str(user.company_id),
    )


async def verify_email(ctx: Context, token: str, client: Client) -> None:
    """Confirm the address from the link; the account becomes active (second factor chosen at first sign-in)."""
    async with ctx.tx() as s:
        row = await queries.usable_token(s, token, "verify_email")
        user = await s.get(User, row.user_id, with_for_update=True) if row else None
        if row is None or user is None or user.status not in ("pending_verification", "active"):
            raise InvalidLink(INVALID_LINK, field="token")
        row.used_at = now()
        s.add(row)
        if user.status == "pending_verification":
            user.status, user.email_verified_at = "active", now()
            s.add(user)
            audit.record(s, "user.email_verified", client, company_id=user.company_id, user_id=user.id)
            await outbound.publish_user(ctx, s, user, "activated")


async def resend_verification(ctx: Context, email: str, client: Client) -> None:
    """A new confirmation link for an account still waiting for one; the same answer for any address."""

    async def work(s: AsyncSession) -> bool:
        user = await queries.user_by_email(s, normalise_email(email))
        if user is None or user.status != "pending_verification":
            return False
        await send_verification(ctx, s, user)
        return True

    await guarded_request(ctx, client, throttle.account_key(email), work)
