"""Partner systems: the ERPs and billing tools a company lets publish invoices for it, with their Ed25519 keys."""

from __future__ import annotations

import base64
import binascii
import secrets as random
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.topics import identity as topics
from contracts.v1.identity import SIGNATURE_SCHEME, PartnerCredentialRegistered, PartnerCredentialRevoked
from identity.adapters.tables import PartnerKey, PartnerSystem
from identity.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from identity.service import audit, queries
from identity.service.context import Client, Context, now
from identity.service.sessions import Caller, require_recent_auth, require_right
from servicekit.auth import Right
from servicekit.outbox import add_to_outbox

NO_SUCH_PARTNER = "Your company has no partner system with this id."


@dataclass
class IssuedKey:
    """A registered key; the private key is present only when we generated it, and shown only this once."""

    partner: PartnerSystem
    key: PartnerKey
    private_key_pem: str | None = None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_public_key(value: str) -> bytes:
    """A raw 32-byte Ed25519 public key from base64url/base64 text or a PEM SubjectPublicKeyInfo."""
    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 key")
            return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        raw = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key has 32 bytes")
        Ed25519PublicKey.from_public_bytes(raw)
        return raw
    except (ValueError, binascii.Error, TypeError) as exc:
        raise InvalidInput(
            f"public_key must be an Ed25519 public key: 32 bytes in base64url, or a PEM 'PUBLIC KEY' ({exc}).",
            field="public_key",
            code="invalid_public_key",
        ) from exc


def _require_admin(ctx: Context, caller: Caller) -> None:
    if not caller.user.is_admin:
        raise Forbidden("Only the company administrator manages partner systems.", code="not_admin")
    require_recent_auth(ctx, caller)


async def _new_key(
    ctx: Context, s: AsyncSession, caller: Caller, partner: PartnerSystem, public_key: str | None, client: Client
) -> IssuedKey:
    private_pem = None
    if public_key:
        raw = parse_public_key(public_key)
    else:
        private = Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        private_pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    key = PartnerKey(
        key_id=f"fpk_{random.token_urlsafe(12)}",
        partner_id=partner.id,
        company_id=partner.company_id,
        public_key=b64url(raw),
        created_by=caller.user.id,
    )
    s.add(key)
    await s.flush()
    add_to_outbox(
        s,
        topics.PARTNER_CREDENTIAL_REGISTERED,
        PartnerCredentialRegistered(
            company_id=str(partner.company_id),
            partner_id=str(partner.id),
            partner_name=partner.name,
            key_id=key.key_id,
            public_key=key.public_key,
            scheme=SIGNATURE_SCHEME,
            registered_at=key.created_at,
        ),
        source=ctx.source,
        key=key.key_id,
        tenant=str(partner.company_id),
    )
    audit.record(
        s,
        "partner.key_registered",
        client,
        company_id=partner.company_id,
        actor_id=caller.user.id,
        partner_id=str(partner.id),
        key_id=key.key_id,
        generated=private_pem is not None,
    )
    return IssuedKey(partner=partner, key=key, private_key_pem=private_pem)


async def list_partners(ctx: Context, caller: Caller) -> list[tuple[PartnerSystem, list[PartnerKey]]]:
    require_right(caller, Right.MANAGE_PARTNERS)
    async with ctx.sessions() as s:
        partners = (
            await s.exec(
                select(PartnerSystem)
                .where(PartnerSystem.company_id == caller.company.id)
                .order_by(PartnerSystem.created_at)  # type: ignore[arg-type]
            )
        ).all()
        keys = (await s.exec(select(PartnerKey).where(PartnerKey.company_id == caller.company.id))).all()
    return [(p, [k for k in keys if k.partner_id == p.id]) for p in partners]


async def register(ctx: Context, caller: Caller, name: str, public_key: str | None, client: Client) -> IssuedKey:
    """Register a partner system and its first key (generated here unless the partner sent its public key)."""
    _require_admin(ctx, caller)
    async with ctx.tx() as s:
        partner = PartnerSystem(company_id=caller.company.id, name=name.strip(), created_by=caller.user.id)
        s.add(partner)
        await s.flush()
        audit.record(
            s,
            "partner.registered",
            client,
            company_id=caller.company.id,
            actor_id=caller.user.id,
            partner_id=str(partner.id),
            name=partner.name,
        )
        return await _new_key(ctx, s, caller, partner, public_key, client)


async def _partner(s: AsyncSession, caller: Caller, partner_id: str) -> PartnerSystem:
    parsed = queries.parse_id(partner_id)
    partner = (
        (
            await s.exec(
                select(PartnerSystem)
                .where(PartnerSystem.id == parsed, PartnerSystem.company_id == caller.company.id)
                .with_for_update()
            )
        ).first()
        if parsed
        else None
    )
    if partner is None:
        raise NotFound(NO_SUCH_PARTNER, field="partner_id")
    return partner


async def add_key(ctx: Context, caller: Caller, partner_id: str, public_key: str | None, client: Client) -> IssuedKey:
    """Another key for a partner system (rotation: add the new key, switch, then revoke the old one)."""
    _require_admin(ctx, caller)
    async with ctx.tx() as s:
        partner = await _partner(s, caller, partner_id)
        if partner.status != "active":
            raise Conflict("This partner system was removed.", code="partner_removed")
        return await _new_key(ctx, s, caller, partner, public_key, client)


def _revoke(ctx: Context, s: AsyncSession, caller: Caller, key: PartnerKey, reason: str, client: Client) -> None:
    key.status, key.revoked_at, key.revoked_by = "revoked", now(), caller.user.id
    s.add(key)
    add_to_outbox(
        s,
        topics.PARTNER_CREDENTIAL_REVOKED,
        PartnerCredentialRevoked(
            company_id=str(key.company_id),
            partner_id=str(key.partner_id),
            key_id=key.key_id,
            revoked_at=key.revoked_at,
            reason=reason,
        ),
        source=ctx.source,
        key=key.key_id,
        tenant=str(key.company_id),
    )
    audit.record(
        s,
        "partner.key_revoked",
        client,
        company_id=key.company_id,
        actor_id=caller.user.id,
        partner_id=str(key.partner_id),
        key_id=key.key_id,
        reason=reason,
    )


async def revoke_key(ctx: Context, caller: Caller, partner_id: str, key_id: str, client: Client) -> PartnerKey:
    _require_admin(ctx, caller)
    async with ctx.tx() as s:
        partner = await _partner(s, caller, partner_id)
        key = (
            await s.exec(
                select(PartnerKey)
                .where(PartnerKey.key_id == key_id, PartnerKey.partner_id == partner.id)
                .with_for_update()
            )
        ).first()
        if key is None:
            raise NotFound("This partner system has no key with this id.", field="key_id")
        if key.status == "revoked":
            raise Conflict("This key is already revoked.", code="already_revoked")
        _revoke(ctx, s, caller, key, "revoked by the company administrator", client)
        return key


async def remove(ctx: Context, caller: Caller, partner_id: str, client: Client) -> None:
    """Remove a partner system: every key of it is revoked."""
    _require_admin(ctx, caller)
    async with ctx.tx() as s:
        partner = await _partner(s, caller, partner_id)
        keys = await s.exec(
            select(PartnerKey)
            .where(PartnerKey.partner_id == partner.id, PartnerKey.status == "active")
            .with_for_update()
        )
        for key in keys.all():
            _revoke(ctx, s, caller, key, "partner system removed", client)
        partner.status, partner.removed_at = "removed", now()
        s.add(partner)
        audit.record(
            s,
            "partner.removed",
            client,
            company_id=caller.company.id,
            actor_id=caller.user.id,
            partner_id=str(partner.id),
        )
