"""Member companies as identity announces them: a profile and its identity.company-registered.v1 event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from contracts.topics import identity as identity_topics
from contracts.v1.identity import CompanyAddress, CompanyContact, CompanyProfile, CompanyRegistered
from factora_testing.kafka_io import publish_event


def company_profile(name: str, vat_id: str, email: str, *, country: str = "FR") -> CompanyProfile:
    """A new company in Paris-style address form, whose invoice-recipient contact is `email`."""
    return CompanyProfile(
        company_id=str(uuid.uuid4()),
        legal_name=name,
        country=country,
        vat_id=vat_id,
        address=CompanyAddress(line1="1 rue de la Paix", postcode="75002", city="Paris", country=country),
        locale="fr",
        contacts=[
            CompanyContact(contact_id=str(uuid.uuid4()), name="Comptabilité", email=email, roles=["invoice_recipient"])
        ],
        version=1,
        updated_at=datetime.now(UTC),
    )


async def register_company(bootstrap: str, name: str, vat_id: str, email: str, *, country: str = "FR") -> str:
    """identity.company-registered.v1, as identity publishes it at sign-up; the new company's id."""
    profile = company_profile(name, vat_id, email, country=country)
    event = CompanyRegistered(company=profile, registered_at=datetime.now(UTC))
    await publish_event(
        bootstrap, identity_topics.COMPANY_REGISTERED, event, key=profile.company_id, tenant=profile.company_id
    )
    return profile.company_id
