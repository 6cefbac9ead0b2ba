"""What identity tells the network: notification requests and its company, user and partner events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import catalogue
from contracts.topics import identity as topics
from contracts.v1 import SendRequested
from contracts.v1.identity import (
    CompanyAddress,
    CompanyContact,
    CompanyProfile,
    CompanyRegistered,
    CompanyUpdated,
    UserChanged,
)
from identity.adapters.tables import Company, Contact, MfaFactor, User
from identity.domain.rights import effective_rights
from identity.service.context import Client, Context, now
from servicekit.outbox import add_to_outbox


def send_message(
    ctx: Context,
    session: AsyncSession,
    *,
    template: str,
    recipient: str,
    locale: str,
    params: dict[str, Any],
    key: str,
    tenant: str | None,
    channel: str = "email",
) -> None:
    """Ask notifications to deliver one templated message; `key` makes a retry the same message."""
    idempotency_key = f"identity:{key}"
    add_to_outbox(
        session,
        catalogue.SEND_REQUESTED,
        SendRequested(
            idempotency_key=idempotency_key,
            channel=channel,  # type: ignore[arg-type]
            recipient=recipient,
            locale=locale if locale in ("fr", "en") else "fr",  # type: ignore[arg-type]
            template=template,
            params=params,
            tenant=tenant,
        ),
        source=ctx.source,
        key=idempotency_key,
        tenant=tenant,
    )


def security_alert(
    ctx: Context,
    session: AsyncSession,
    user: User,
    event: str,
    client: Client,
    *,
    key: str,
    at: datetime | None = None,
) -> None:
    """E-mail `user` about a security event (security-alert template, in the user's language)."""
    moment = at or now()
    send_message(
        ctx,
        session,
        template="security-alert",
        recipient=user.email,
        locale=user.locale,
        params={
            "recipient_name": user.full_name,
            "event": event,
            "occurred_at": moment.isoformat(),
            "ip_address": client.ip if client.ip != "internal" else None,
            "security_url": ctx.link("account/security"),
        },
        key=f"alert:{event}:{user.id}:{key}",
        tenant=str(user.company_id),
    )


async def confirmed_methods(session: AsyncSession, user_id: Any) -> list[str]:
    """The kinds of second factor a user has confirmed, TOTP first."""
    factors = (
        await session.exec(select(MfaFactor).where(MfaFactor.user_id == user_id, MfaFactor.confirmed_at.is_not(None)))  # type: ignore[union-attr]
    ).all()
    order = {"totp": 0, "sms": 1, "email": 2}
    return sorted({f.kind for f in factors}, key=lambda kind: order.get(kind, 9))


async def publish_user(ctx: Context, session: AsyncSession, user: User, change: str) -> None:
    """Publish the user as they now are (identity.user-changed.v1); bumps the user's version."""
    user.version += 1
    user.updated_at = now()
    session.add(user)
    add_to_outbox(
        session,
        topics.USER_CHANGED,
        UserChanged(
            user_id=str(user.id),
            company_id=str(user.company_id),
            email=user.email,
            full_name=user.full_name,
            locale=user.locale,  # type: ignore[arg-type]
            status=user.status,  # type: ignore[arg-type]
            is_admin=user.is_admin,
            rights=effective_rights(is_admin=user.is_admin, stored=user.rights),
            mfa_methods=await confirmed_methods(session, user.id),
            change=change,  # type: ignore[arg-type]
            occurred_at=user.updated_at,
            version=user.version,
        ),
        source=ctx.source,
        key=str(user.id),
        tenant=str(user.company_id),
    )


async def company_profile(session: AsyncSession, company: Company) -> CompanyProfile:
    """The company's public profile with every contact, as its events carry it."""
    contacts = (
        await session.exec(select(Contact).where(Contact.company_id == company.id).order_by(Contact.created_at))  # type: ignore[arg-type]
    ).all()
    return CompanyProfile(
        company_id=str(company.id),
        legal_name=company.legal_name,
        country=company.country,
        vat_id=company.vat_id,
        tax_id=company.tax_id,
        address=CompanyAddress(
            line1=company.address_line1,
            line2=company.address_line2,
            postcode=company.postcode,
            city=company.city,
            region=company.region,
            country=company.country,
        ),
        locale=company.locale,  # type: ignore[arg-type]
        contacts=[
            CompanyContact(
                contact_id=str(c.id),
                name=c.name,
                email=c.email,
                phone=c.phone,
                roles=c.roles,  # type: ignore[arg-type]
                locale=c.locale,  # type: ignore[arg-type]
            )
            for c in contacts
        ],
        version=company.version,
        updated_at=company.updated_at,
    )


async def publish_company_registered(ctx: Context, session: AsyncSession, company: Company) -> None:
    """identity.company-registered.v1 with the profile at sign-up."""
    add_to_outbox(
        session,
        topics.COMPANY_REGISTERED,
        CompanyRegistered(company=await company_profile(session, company), registered_at=company.created_at),
        source=ctx.source,
        key=str(company.id),
        tenant=str(company.id),
    )


async def publish_company_updated(ctx: Context, session: AsyncSession, company: Company, changed: list[str]) -> None:
    """Bump the company's version and publish its whole profile (identity.company-updated.v1)."""
    company.version += 1
    company.updated_at = now()
    session.add(company)
    await session.flush()
    add_to_outbox(
        session,
        topics.COMPANY_UPDATED,
        CompanyUpdated(company=await company_profile(session, company), changed=sorted(set(changed))),
        source=ctx.source,
        key=str(company.id),
        tenant=str(company.id),
    )
