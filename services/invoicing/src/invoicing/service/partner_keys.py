"""Partner keys from identity, and the authentication of each partner record against them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import Envelope
from contracts.v1 import PartnerInvoiceSubmitted
from contracts.v1.identity import PartnerCredentialRegistered, PartnerCredentialRevoked
from invoicing.adapters.signatures import RawRecord, signature_is_valid
from invoicing.adapters.tables import PartnerKeyRecord
from invoicing.service.context import Context


async def on_key_registered(
    ctx: Context, event: PartnerCredentialRegistered, envelope: Envelope, session: AsyncSession
) -> None:
    """Remember the key; a revocation seen earlier (topics are not ordered together) stays in force."""
    await session.execute(
        insert(PartnerKeyRecord)
        .values(
            key_id=event.key_id,
            company_id=event.company_id,
            partner_id=event.partner_id,
            partner_name=event.partner_name,
            algorithm=event.algorithm,
            public_key=event.public_key,
            registered_at=event.registered_at,
        )
        .on_conflict_do_update(
            index_elements=["key_id"],
            set_={
                "public_key": event.public_key,
                "partner_name": event.partner_name,
                "registered_at": event.registered_at,
            },
            where=PartnerKeyRecord.__table__.c.public_key.is_(None),  # type: ignore[attr-defined]
        )
    )


async def on_key_revoked(
    ctx: Context, event: PartnerCredentialRevoked, envelope: Envelope, session: AsyncSession
) -> None:
    """Revoke the key, or record the revocation before the registration arrives."""
    await session.execute(
        insert(PartnerKeyRecord)
        .values(
            key_id=event.key_id,
            company_id=event.company_id,
            partner_id=event.partner_id,
            revoked_at=event.revoked_at,
            revoked_reason=event.reason,
        )
        .on_conflict_do_update(
            index_elements=["key_id"],
            set_={"revoked_at": event.revoked_at, "revoked_reason": event.reason},
        )
    )


@dataclass(frozen=True)
class AuthProblem:
    """Why a partner record is not accepted as coming from the seller's registered partner system."""

    rule: str
    field: str
    en: str
    fr: str


AUTH_TEXTS = {
    "FX-AUTH-1": (
        "The record is not signed: send the factora_key_id and factora_signature headers "
        "(scheme factora-partner-signature-v1).",
        "L'enregistrement n'est pas signé : envoyez les en-têtes factora_key_id et factora_signature "
        "(schéma factora-partner-signature-v1).",
    ),
    "FX-AUTH-2": (
        "The key id is not a partner key registered in Factora: register the partner system in identity first.",
        "Cet identifiant de clé n'est pas une clé partenaire enregistrée : enregistrez d'abord le système partenaire.",
    ),
    "FX-AUTH-3": (
        "This partner key was revoked: ask the company administrator for a new one.",
        "Cette clé partenaire a été révoquée : demandez-en une nouvelle à l'administrateur de la société.",
    ),
    "FX-AUTH-4": (
        "The key belongs to another company than the one the record is published for (factora_tenant) "
        "or than the seller.",
        "La clé appartient à une autre société que celle pour laquelle l'enregistrement est publié "
        "(factora_tenant) ou que le vendeur.",
    ),
    "FX-AUTH-5": (
        "The signature does not match the record: sign the exact bytes sent, with the headers named in "
        "factora-partner-signature-v1.",
        "La signature ne correspond pas à l'enregistrement : signez exactement les octets envoyés, avec les "
        "en-têtes prévus par factora-partner-signature-v1.",
    ),
    "FX-AUTH-6": (
        "partner_id is not the partner system this key was registered for.",
        "partner_id ne désigne pas le système partenaire pour lequel cette clé a été enregistrée.",
    ),
}


def _problem(rule: str, field: str) -> AuthProblem:
    en, fr = AUTH_TEXTS[rule]
    return AuthProblem(rule, field, en, fr)


def unsigned_problem(record: RawRecord | None) -> AuthProblem | None:
    """FX-AUTH-1 when the record names no key or carries no signature (checked before any lookup)."""
    if record is None or not record.key_id or not record.signature:
        return _problem("FX-AUTH-1", "headers.factora_signature")
    return None


def check_signed_record(
    event: PartnerInvoiceSubmitted, record: RawRecord | None, key: PartnerKeyRecord | None
) -> AuthProblem | None:
    """None when the record is signed by a live key of the seller's own partner system.

    `key` is the stored partner key named by the record's factora_key_id (None when there is none); the
    caller reads it in the same statement as the rest of what intake needs (intake.submission_facts).
    """
    if record is None or not record.key_id or not record.signature:
        return unsigned_problem(record)
    if key is None or key.key_id != record.key_id or key.public_key is None:
        return _problem("FX-AUTH-2", "headers.factora_key_id")
    if key.revoked_at is not None:
        return _problem("FX-AUTH-3", "headers.factora_key_id")
    if not signature_is_valid(record, key.public_key):
        return _problem("FX-AUTH-5", "headers.factora_signature")
    if record.tenant != key.company_id or event.seller.company_id != key.company_id:
        return _problem("FX-AUTH-4", "seller.company_id")
    if event.partner_id != key.partner_id:
        return _problem("FX-AUTH-6", "partner_id")
    return None
