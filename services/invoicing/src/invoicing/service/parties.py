"""The party read model: member companies as identity's company events describe them."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import Envelope
from contracts.v1 import Party, PostalAddress
from contracts.v1.identity import CompanyProfile, CompanyRegistered, CompanyUpdated
from invoicing.adapters.tables import PartyRecord
from invoicing.service import credits
from invoicing.service.context import Context


async def apply_profile(session: AsyncSession, profile: CompanyProfile, *, registered: bool = False) -> None:
    """Keep the newest version of the profile; an older or repeated one changes nothing."""
    values = {
        "company_id": profile.company_id,
        "legal_name": profile.legal_name,
        "country": profile.country.upper(),
        "vat_id": profile.vat_id,
        "tax_id": profile.tax_id,
        "address": profile.address.model_dump(mode="json"),
        "locale": profile.locale,
        "contacts": [c.model_dump(mode="json") for c in profile.contacts],
        "version": profile.version,
        "updated_at": profile.updated_at,
    }
    if registered:
        values["registered_at"] = profile.updated_at
    statement = insert(PartyRecord).values(**values)
    update = {k: statement.excluded[k] for k in values if k not in ("company_id", "registered_at")}
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["company_id"],
            set_=update,
            where=PartyRecord.__table__.c.version < statement.excluded.version,  # type: ignore[attr-defined]
        )
    )


async def on_company_registered(
    ctx: Context, event: CompanyRegistered, envelope: Envelope, session: AsyncSession
) -> None:
    """A new member: remember it and open its credit account with the welcome credits."""
    await apply_profile(session, event.company, registered=True)
    await credits.ensure_account(ctx, session, event.company.company_id)


async def on_company_updated(ctx: Context, event: CompanyUpdated, envelope: Envelope, session: AsyncSession) -> None:
    """A profile or contact change."""
    await apply_profile(session, event.company)


async def get_party(session: AsyncSession, company_id: str) -> PartyRecord | None:
    return await session.get(PartyRecord, company_id)


def invoice_email(record: PartyRecord) -> str | None:
    """The first invoice-recipient contact's e-mail (EN 16931 buyer/seller contact e-mail)."""
    for contact in record.contacts:
        if contact.get("email") and "invoice_recipient" in (contact.get("roles") or []):
            return str(contact["email"])
    return None


def as_party(record: PartyRecord, *, email: str | None = None) -> Party:
    """The EN 16931 party of a known company; `email` overrides the invoice contact."""
    address = record.address
    return Party(
        company_id=record.company_id,
        name=record.legal_name,
        vat_id=record.vat_id,
        tax_id=record.tax_id,
        address=PostalAddress(
            line1=address.get("line1", ""),
            line2=address.get("line2"),
            city=address.get("city", ""),
            postcode=address.get("postcode", ""),
            region=address.get("region"),
            country=(address.get("country") or record.country).upper(),
        ),
        email=email or invoice_email(record),
        locale=record.locale if record.locale in ("fr", "en") else "fr",  # type: ignore[arg-type]
    )
