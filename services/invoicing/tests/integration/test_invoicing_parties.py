"""Read models from identity's events on real PostgreSQL: company profiles by version, partner keys, welcome credits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from contracts.envelope import Envelope
from contracts.v1.identity import (
    CompanyAddress,
    CompanyContact,
    CompanyProfile,
    CompanyRegistered,
    CompanyUpdated,
    PartnerCredentialRegistered,
    PartnerCredentialRevoked,
)
from invoicing.adapters.tables import CreditAccount, CreditMovement, PartnerKeyRecord, PartyRecord
from invoicing.service import handlers

pytestmark = pytest.mark.integration


def profile(company_id: str, version: int, name: str, email: str = "ap@example.com") -> CompanyProfile:
    return CompanyProfile(
        company_id=company_id,
        legal_name=name,
        country="FR",
        vat_id="FR40303265045",
        address=CompanyAddress(line1="1 rue A", postcode="75001", city="Paris", country="FR"),
        locale="en",
        contacts=[CompanyContact(contact_id="k1", name="AP", email=email, roles=["invoice_recipient"], locale="en")],
        version=version,
        updated_at=datetime.now(UTC),
    )


async def apply(world, handler, event) -> None:
    async with world.sessions() as session, session.begin():
        await handler(world.ctx, event, Envelope.new(source="/factora/identity", type="t"), session)


async def test_the_newest_profile_version_wins_whatever_the_order_of_arrival(world):
    company = str(uuid.uuid4())
    await apply(
        world,
        handlers.on_company_registered,
        CompanyRegistered(company=profile(company, 1, "Old"), registered_at=datetime.now(UTC)),
    )
    await apply(
        world,
        handlers.on_company_updated,
        CompanyUpdated(company=profile(company, 3, "New", "new@example.com"), changed=["legal_name"]),
    )
    await apply(
        world, handlers.on_company_updated, CompanyUpdated(company=profile(company, 2, "Stale"), changed=["legal_name"])
    )

    async with world.sessions() as session:
        party = await session.get(PartyRecord, company)
    assert (party.legal_name, party.version, party.locale) == ("New", 3, "en")
    assert party.contacts[0]["email"] == "new@example.com" and party.registered_at is not None


async def test_welcome_credits_are_granted_once_per_company(world):
    company = str(uuid.uuid4())
    event = CompanyRegistered(company=profile(company, 1, "Acme"), registered_at=datetime.now(UTC))
    await apply(world, handlers.on_company_registered, event)
    await apply(world, handlers.on_company_registered, event)

    async with world.sessions() as session:
        assert (await session.get(CreditAccount, company)).balance == world.ctx.welcome_credits
        moves = (await session.exec(select(CreditMovement).where(CreditMovement.company_id == company))).all()
    assert [(m.kind, m.delta) for m in moves] == [("welcome", world.ctx.welcome_credits)]


async def test_a_revocation_that_arrives_before_the_registration_stays_in_force(world):
    now = datetime.now(UTC)
    revoked = PartnerCredentialRevoked(
        company_id="c-1", partner_id="p", key_id="pk-early", revoked_at=now, reason="lost"
    )
    registered = PartnerCredentialRegistered(
        company_id="c-1", partner_id="p", partner_name="ERP", key_id="pk-early", public_key="AAAA", registered_at=now
    )
    await apply(world, handlers.on_key_revoked, revoked)
    await apply(world, handlers.on_key_registered, registered)

    async with world.sessions() as session:
        key = await session.get(PartnerKeyRecord, "pk-early")
    assert key.public_key == "AAAA" and key.revoked_at is not None and key.revoked_reason == "lost"
