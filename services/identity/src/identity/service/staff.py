"""Factora staff (support agents, operators): users of the staff company, created by an operator command."""

from __future__ import annotations

from sqlmodel import select

from identity.adapters.tables import Company, User
from identity.domain.errors import Conflict
from identity.domain.validation import normalise_email
from identity.service import audit, outbound, queries
from identity.service.context import SYSTEM, Context
from identity.service.recovery import replace_link_token
from servicekit.auth import Right

ROLE_RIGHTS = {
    "agent": [Right.SUPPORT_AGENT],
    "operator": [Right.OPERATOR, Right.SUPPORT_AGENT],
}


async def staff_company(ctx: Context, s) -> Company:  # type: ignore[no-untyped-def]
    """The one staff company, created on first use."""
    company = (await s.exec(select(Company).where(Company.is_staff).with_for_update())).first()
    if company is None:
        company = Company(
            legal_name=ctx.settings.staff_company_name,
            country=ctx.settings.staff_company_country,
            tax_id="FACTORA-STAFF",
            address_line1="-",
            postcode="-",
            city="-",
            locale="en",
            is_staff=True,
        )
        s.add(company)
        await s.flush()
    return company


async def create_staff(ctx: Context, *, email: str, role: str, full_name: str | None, locale: str) -> tuple[User, str]:
    """An invited staff user with the role's rights; returns them and the link to choose a password."""
    async with ctx.tx() as s:
        company = await staff_company(ctx, s)
        if await queries.user_by_email(s, normalise_email(email)):
            raise Conflict(f"{email} already has a Factora account.", field="email", code="email_in_use")
        user = User(
            company_id=company.id,
            email=email.strip(),
            email_normalized=normalise_email(email),
            full_name=(full_name or email.split("@")[0]).strip(),
            locale=locale,
            status="invited",
            rights=ROLE_RIGHTS[role],
        )
        s.add(user)
        await s.flush()
        token, _row = await replace_link_token(ctx, s, user.id, "invitation", ctx.settings.invitation_ttl_s)
        audit.record(s, "staff.created", SYSTEM, company_id=company.id, user_id=user.id, role=role)
        await outbound.publish_user(ctx, s, user, "invited")
    return user, ctx.link("accept-invitation", token)
