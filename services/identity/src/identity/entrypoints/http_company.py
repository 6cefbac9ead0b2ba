"""My company: users and rights, administrator transfer, audit log, profile, contacts, partner systems."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from contracts.v1.identity import KEY_ID_HEADER, SIGNATURE_HEADER, SIGNATURE_SCHEME
from identity.adapters.tables import Company, Contact, PartnerKey, PartnerSystem
from identity.entrypoints.deps import ERRORS, CallerDep, ClientInfo, Ctx
from identity.entrypoints.http_account import user_out
from identity.entrypoints.schemas import (
    AddressIn,
    AuditOut,
    CompanyOut,
    CompanyPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    InviteIn,
    IssuedKeyOut,
    PartnerIn,
    PartnerKeyIn,
    PartnerKeyOut,
    PartnerOut,
    RightsIn,
    TransferIn,
    UserOut,
)
from identity.service import company, partners, users
from identity.service.users import UserView

router = APIRouter(prefix="/company", responses=ERRORS)

SIGNING = (
    f"Sign each Kafka record with this key ({SIGNATURE_SCHEME}): Ed25519 over the line "
    f"'{SIGNATURE_SCHEME}', then ce_type, ce_id, ce_time and factora_tenant, each followed by a line feed, "
    f"then the payload bytes; send the signature (base64url, no padding) in the '{SIGNATURE_HEADER}' header "
    f"and the key id in '{KEY_ID_HEADER}'. See contracts.v1.identity.partner_signing_input."
)


def view_out(view: UserView) -> UserOut:
    return user_out(view.user, view.mfa_methods, view.rights)


# --------------------------------------------------------------------------- users


@router.get("/users", tags=["users"], summary="The company's users and their rights (manage_users).")
async def list_users(who: CallerDep, ctx: Ctx) -> list[UserOut]:
    return [view_out(v) for v in await users.list_users(ctx, who)]


@router.post("/users", status_code=201, tags=["users"], summary="Invite a user by e-mail (manage_users).")
async def invite_user(body: InviteIn, who: CallerDep, ctx: Ctx, client: ClientInfo) -> UserOut:
    view = await users.invite(
        ctx, who, email=str(body.email), full_name=body.full_name, rights=body.rights, locale=body.locale, client=client
    )
    return view_out(view)


@router.get("/users/{user_id}", tags=["users"], summary="One user of the company (manage_users).")
async def get_user(user_id: str, who: CallerDep, ctx: Ctx) -> UserOut:
    return view_out(await users.get_user(ctx, who, user_id))


@router.post("/users/{user_id}/invitation", status_code=204, tags=["users"], summary="Send the invitation again.")
async def resend_invitation(user_id: str, who: CallerDep, ctx: Ctx, client: ClientInfo) -> Response:
    await users.resend_invitation(ctx, who, user_id, client)
    return Response(status_code=204)


@router.put("/users/{user_id}/rights", tags=["users"], summary="Replace a user's rights (manage_users).")
async def set_rights(user_id: str, body: RightsIn, who: CallerDep, ctx: Ctx, client: ClientInfo) -> UserOut:
    return view_out(await users.set_rights(ctx, who, user_id, body.rights, client))


@router.post("/users/{user_id}/disable", tags=["users"], summary="Disable a user: their sessions end at once.")
async def disable_user(user_id: str, who: CallerDep, ctx: Ctx, client: ClientInfo) -> UserOut:
    return view_out(await users.set_enabled(ctx, who, user_id, False, client))


@router.post("/users/{user_id}/enable", tags=["users"], summary="Enable a disabled user again.")
async def enable_user(user_id: str, who: CallerDep, ctx: Ctx, client: ClientInfo) -> UserOut:
    return view_out(await users.set_enabled(ctx, who, user_id, True, client))


@router.delete("/users/{user_id}", status_code=204, tags=["users"], summary="Delete a user (recent sign-in).")
async def delete_user(user_id: str, who: CallerDep, ctx: Ctx, client: ClientInfo) -> Response:
    await users.delete_user(ctx, who, user_id, client)
    return Response(status_code=204)


@router.post("/admin-transfer", tags=["users"], summary="Transfer the administrator role (administrator only).")
async def transfer_admin(body: TransferIn, who: CallerDep, ctx: Ctx, client: ClientInfo) -> UserOut:
    """Atomic: the company has exactly one administrator before and after. Needs a recent two-factor sign-in.
    Both users are told by e-mail; the former administrator keeps `former_admin_rights`."""
    return view_out(await users.transfer_admin(ctx, who, body.new_admin_user_id, body.former_admin_rights, client))


@router.get("/audit-log", tags=["users"], summary="The company's security audit log (administrator only).")
async def audit_log(
    who: CallerDep,
    ctx: Ctx,
    limit: int = Query(default=100, ge=1, le=500),
    before_id: int | None = Query(default=None, description="Entries older than this id (next page)."),
) -> list[AuditOut]:
    rows = await users.audit_log(ctx, who, limit=limit, before_id=before_id)
    return [
        AuditOut(
            id=r.id or 0,
            at=r.at,
            event=r.event,
            user_id=str(r.user_id) if r.user_id else None,
            actor_id=str(r.actor_id) if r.actor_id else None,
            ip=r.ip,
            user_agent=r.user_agent,
            details=r.details,
        )
        for r in rows
    ]


# --------------------------------------------------------------------------- profile and contacts


def company_out(c: Company) -> CompanyOut:
    return CompanyOut(
        id=str(c.id),
        legal_name=c.legal_name,
        country=c.country,
        vat_id=c.vat_id,
        tax_id=c.tax_id,
        address=AddressIn(
            line1=c.address_line1, line2=c.address_line2, postcode=c.postcode, city=c.city, region=c.region
        ),
        locale=c.locale,
        require_totp=c.require_totp,
        version=c.version,
    )


def contact_out(c: Contact) -> ContactOut:
    return ContactOut(
        id=str(c.id),
        name=c.name,
        email=c.email,
        phone=c.phone,
        roles=c.roles,
        locale=c.locale,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


@router.get("", tags=["company"], summary="My company's profile.")
async def get_company(who: CallerDep, ctx: Ctx) -> CompanyOut:
    found, _ = await company.profile(ctx, who)
    return company_out(found)


@router.patch("", tags=["company"], summary="Change the company profile (administrator).")
async def update_company(body: CompanyPatch, who: CallerDep, ctx: Ctx, client: ClientInfo) -> CompanyOut:
    """Other members see the change through identity.company-updated.v1. Requiring TOTP needs a recent sign-in."""
    changes = body.model_dump(exclude_unset=True, exclude={"address"})
    if body.address is not None:
        changes |= {
            "address_line1": body.address.line1,
            "address_line2": body.address.line2,
            "postcode": body.address.postcode,
            "city": body.address.city,
            "region": body.address.region,
        }
    return company_out(await company.update_profile(ctx, who, changes, client))


@router.get("/contacts", tags=["contacts"], summary="The company's contacts.")
async def list_contacts(who: CallerDep, ctx: Ctx) -> list[ContactOut]:
    _, contacts = await company.profile(ctx, who)
    return [contact_out(c) for c in contacts]


@router.post("/contacts", status_code=201, tags=["contacts"], summary="Add a contact (contacts right).")
async def add_contact(body: ContactIn, who: CallerDep, ctx: Ctx, client: ClientInfo) -> ContactOut:
    fields = body.model_dump()
    fields["email"] = str(body.email) if body.email else None
    return contact_out(await company.add_contact(ctx, who, fields, client))


@router.get("/contacts/{contact_id}", tags=["contacts"], summary="One contact.")
async def get_contact(contact_id: str, who: CallerDep, ctx: Ctx) -> ContactOut:
    return contact_out(await company.get_contact(ctx, who, contact_id))


@router.patch("/contacts/{contact_id}", tags=["contacts"], summary="Change a contact (contacts right).")
async def update_contact(
    contact_id: str, body: ContactPatch, who: CallerDep, ctx: Ctx, client: ClientInfo
) -> ContactOut:
    fields = body.model_dump(exclude_unset=True)
    if "email" in fields:
        fields["email"] = str(body.email) if body.email else None
    return contact_out(await company.update_contact(ctx, who, contact_id, fields, client))


@router.delete("/contacts/{contact_id}", status_code=204, tags=["contacts"], summary="Delete a contact.")
async def delete_contact(contact_id: str, who: CallerDep, ctx: Ctx, client: ClientInfo) -> Response:
    await company.delete_contact(ctx, who, contact_id, client)
    return Response(status_code=204)


# --------------------------------------------------------------------------- partner systems


def key_out(k: PartnerKey) -> PartnerKeyOut:
    return PartnerKeyOut(
        key_id=k.key_id,
        algorithm=k.algorithm,
        public_key=k.public_key,
        status=k.status,
        created_at=k.created_at,
        revoked_at=k.revoked_at,
    )


def partner_out(p: PartnerSystem, keys: list[PartnerKey]) -> PartnerOut:
    return PartnerOut(
        partner_id=str(p.id), name=p.name, status=p.status, created_at=p.created_at, keys=[key_out(k) for k in keys]
    )


def issued_out(issued: partners.IssuedKey) -> IssuedKeyOut:
    return IssuedKeyOut(
        partner=partner_out(issued.partner, [issued.key]),
        key=key_out(issued.key),
        private_key_pem=issued.private_key_pem,
        signing=SIGNING,
    )


@router.get("/partners", tags=["partner systems"], summary="Partner systems and their keys (partners right).")
async def list_partners(who: CallerDep, ctx: Ctx) -> list[PartnerOut]:
    return [partner_out(p, keys) for p, keys in await partners.list_partners(ctx, who)]


@router.post("/partners", status_code=201, tags=["partner systems"], summary="Register a partner system.")
async def register_partner(body: PartnerIn, who: CallerDep, ctx: Ctx, client: ClientInfo) -> IssuedKeyOut:
    """Administrator, recent sign-in. Without `public_key`, an Ed25519 key pair is generated and its private
    key returned only in this answer; the public key is published to invoicing."""
    return issued_out(await partners.register(ctx, who, body.name, body.public_key, client))


@router.post("/partners/{partner_id}/keys", status_code=201, tags=["partner systems"], summary="Add a key.")
async def add_partner_key(
    partner_id: str, body: PartnerKeyIn, who: CallerDep, ctx: Ctx, client: ClientInfo
) -> IssuedKeyOut:
    return issued_out(await partners.add_key(ctx, who, partner_id, body.public_key, client))


@router.post("/partners/{partner_id}/keys/{key_id}/revoke", tags=["partner systems"], summary="Revoke a partner key.")
async def revoke_partner_key(
    partner_id: str, key_id: str, who: CallerDep, ctx: Ctx, client: ClientInfo
) -> PartnerKeyOut:
    return key_out(await partners.revoke_key(ctx, who, partner_id, key_id, client))


@router.delete("/partners/{partner_id}", status_code=204, tags=["partner systems"], summary="Remove a partner.")
async def remove_partner(partner_id: str, who: CallerDep, ctx: Ctx, client: ClientInfo) -> Response:
    await partners.remove(ctx, who, partner_id, client)
    return Response(status_code=204)
