"""My company: the profile other members see and the contacts (invoice recipients, accounts payable...)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from identity.adapters.tables import Company, Contact
from identity.domain.errors import Forbidden, InvalidInput, NotFound
from identity.domain.validation import normalise_phone
from identity.service import audit, outbound, queries
from identity.service.context import Client, Context, now
from identity.service.sessions import Caller, require_recent_auth, require_right
from identity.service.signup import CompanyDetails, checked_company
from servicekit.auth import Right

PROFILE_FIELDS = (
    "legal_name",
    "country",
    "vat_id",
    "tax_id",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "region",
    "locale",
)
NO_SUCH_CONTACT = "Your company has no contact with this id."


async def profile(ctx: Context, caller: Caller) -> tuple[Company, list[Contact]]:
    """The caller's company and its contacts (any user of the company may read them)."""
    async with ctx.sessions() as s:
        company = await queries.company(s, caller.company.id)
        return company, await _contacts(s, company)


async def _contacts(s, company: Company) -> list[Contact]:  # type: ignore[no-untyped-def]
    rows = await s.exec(select(Contact).where(Contact.company_id == company.id).order_by(Contact.created_at))  # type: ignore[arg-type]
    return list(rows.all())


async def update_profile(ctx: Context, caller: Caller, changes: dict[str, Any], client: Client) -> Company:
    """Change the profile (administrator); requiring TOTP also needs a recent sign-in. Publishes company-updated."""
    if not caller.user.is_admin:
        raise Forbidden("Only the company administrator can change the company profile.", code="not_admin")
    if "require_totp" in changes:
        require_recent_auth(ctx, caller)
    async with ctx.tx() as s:
        company = await queries.company(s, caller.company.id, lock=True)
        merged = {f: getattr(company, f) for f in PROFILE_FIELDS} | {
            k: v for k, v in changes.items() if k in PROFILE_FIELDS
        }
        details = checked_company(CompanyDetails(**merged), prefix="company")
        changed = [f for f in PROFILE_FIELDS if getattr(details, f) != getattr(company, f)]
        for field in changed:
            setattr(company, field, getattr(details, field))
        if "require_totp" in changes and changes["require_totp"] != company.require_totp:
            company.require_totp = bool(changes["require_totp"])
            changed.append("require_totp")
        if changed:
            audit.record(s, "company.updated", client, company_id=company.id, actor_id=caller.user.id, changed=changed)
            await outbound.publish_company_updated(ctx, s, company, changed)
        return company


def _checked_contact(fields: dict[str, Any], country: str) -> dict[str, Any]:
    if fields.get("phone"):
        number = normalise_phone(fields["phone"], country)
        if number is None:
            raise InvalidInput("Give a valid phone number, e.g. +33612345678.", field="phone", code="invalid_phone")
        fields["phone"] = number
    if "roles" in fields:
        fields["roles"] = sorted(set(fields["roles"]))
    if fields.get("name") is not None:
        fields["name"] = fields["name"].strip()
    return fields


async def add_contact(ctx: Context, caller: Caller, fields: dict[str, Any], client: Client) -> Contact:
    require_right(caller, Right.MANAGE_CONTACTS)
    async with ctx.tx() as s:
        company = await queries.company(s, caller.company.id, lock=True)
        contact = Contact(company_id=company.id, **_checked_contact(dict(fields), company.country))
        s.add(contact)
        await s.flush()
        audit.record(
            s, "contact.created", client, company_id=company.id, actor_id=caller.user.id, contact_id=str(contact.id)
        )
        await outbound.publish_company_updated(ctx, s, company, ["contacts"])
        return contact


async def get_contact(ctx: Context, caller: Caller, contact_id: str) -> Contact:
    async with ctx.sessions() as s:
        return await _contact(s, caller, contact_id)


async def _contact(s, caller: Caller, contact_id: str, lock: bool = False) -> Contact:  # type: ignore[no-untyped-def]
    parsed = queries.parse_id(contact_id)
    query = select(Contact).where(Contact.id == parsed, Contact.company_id == caller.company.id)
    if lock:
        query = query.with_for_update()
    contact = (await s.exec(query)).first() if parsed else None
    if contact is None:
        raise NotFound(NO_SUCH_CONTACT, field="contact_id")
    return contact


async def update_contact(
    ctx: Context, caller: Caller, contact_id: str, fields: dict[str, Any], client: Client
) -> Contact:
    require_right(caller, Right.MANAGE_CONTACTS)
    async with ctx.tx() as s:
        company = await queries.company(s, caller.company.id, lock=True)
        contact = await _contact(s, caller, contact_id, lock=True)
        for key, value in _checked_contact(dict(fields), company.country).items():
            setattr(contact, key, value)
        contact.updated_at = now()
        s.add(contact)
        audit.record(
            s,
            "contact.updated",
            client,
            company_id=company.id,
            actor_id=caller.user.id,
            contact_id=str(contact.id),
            fields=sorted(fields),
        )
        await outbound.publish_company_updated(ctx, s, company, ["contacts"])
        return contact


async def delete_contact(ctx: Context, caller: Caller, contact_id: str, client: Client) -> None:
    require_right(caller, Right.MANAGE_CONTACTS)
    async with ctx.tx() as s:
        company = await queries.company(s, caller.company.id, lock=True)
        contact = await _contact(s, caller, contact_id, lock=True)
        await s.delete(contact)
        await s.flush()
        audit.record(
            s, "contact.deleted", client, company_id=company.id, actor_id=caller.user.id, contact_id=str(contact.id)
        )
        await outbound.publish_company_updated(ctx, s, company, ["contacts"])
