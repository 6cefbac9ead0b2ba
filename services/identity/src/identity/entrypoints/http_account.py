"""My account: profile, password, sessions, second factors and recovery codes of the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Response

from identity.adapters.tables import User
from identity.domain.rights import effective_rights
from identity.entrypoints.deps import ERRORS, CallerDep, ClientInfo, Ctx
from identity.entrypoints.schemas import (
    AddFactorIn,
    ChangePasswordIn,
    CodeIn,
    Done,
    EnrolmentOut,
    ProfileIn,
    RecoveryCodesOut,
    SecurityOut,
    SessionOut,
    UserOut,
)
from identity.service import account, sessions

router = APIRouter(prefix="/me", tags=["my account"], responses=ERRORS)


def user_out(user: User, mfa_methods: list[str] | None = None, rights: list[str] | None = None) -> UserOut:
    return UserOut(
        id=str(user.id),
        company_id=str(user.company_id),
        email=user.email,
        full_name=user.full_name,
        phone=user.phone,
        locale=user.locale,
        status=user.status,
        is_admin=user.is_admin,
        rights=rights if rights is not None else effective_rights(is_admin=user.is_admin, stored=user.rights),
        mfa_methods=mfa_methods or [],
        last_login_at=user.last_login_at,
        created_at=user.created_at,
    )


@router.get("", summary="Who I am: my profile and rights.")
async def me(who: CallerDep, ctx: Ctx) -> UserOut:
    return user_out(who.user, await account.mfa_methods(ctx, who), sorted(who.rights))


@router.patch("", summary="Change my name, language or phone number.")
async def update_me(body: ProfileIn, who: CallerDep, ctx: Ctx, client: ClientInfo) -> UserOut:
    user = await account.update_profile(
        ctx, who, full_name=body.full_name, locale=body.locale, phone=body.phone, client=client
    )
    return user_out(user)


@router.post("/password", summary="Change my password (my other sessions end).")
async def change_password(body: ChangePasswordIn, who: CallerDep, ctx: Ctx, client: ClientInfo) -> Done:
    await account.change_password(ctx, who, body.current_password, body.new_password, client)
    return Done(status="password_changed", detail="Your other sessions were closed.")


@router.get("/sessions", summary="My open sessions.")
async def my_sessions(who: CallerDep, ctx: Ctx) -> list[SessionOut]:
    rows = await sessions.list_sessions(ctx, who)
    return [
        SessionOut(
            id=str(r.id),
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            expires_at=r.expires_at,
            ip=r.ip,
            user_agent=r.user_agent,
            current=r.id == who.session_id,
        )
        for r in rows
    ]


@router.delete("/sessions/{session_id}", status_code=204, summary="Close one of my sessions.")
async def close_session(session_id: str, who: CallerDep, ctx: Ctx, client: ClientInfo) -> Response:
    await sessions.revoke_own_session(ctx, who, session_id, client)
    return Response(status_code=204)


@router.get("/mfa", summary="My second factors and recovery codes left.")
async def my_security(who: CallerDep, ctx: Ctx) -> SecurityOut:
    overview = await account.security_overview(ctx, who)
    return SecurityOut.model_validate(overview, from_attributes=True)


@router.post("/mfa/factors", summary="Add or replace a second factor (needs a recent sign-in).")
async def add_factor(body: AddFactorIn, who: CallerDep, ctx: Ctx, client: ClientInfo) -> EnrolmentOut:
    factor_id, setup = await account.add_factor(ctx, who, body.method, body.phone, client)
    out = EnrolmentOut.model_validate(setup, from_attributes=True)
    out.factor_id = factor_id
    return out


@router.post("/mfa/factors/{factor_id}/confirm", summary="Confirm a factor being added with one of its codes.")
async def confirm_factor(
    factor_id: str, body: CodeIn, who: CallerDep, ctx: Ctx, client: ClientInfo
) -> RecoveryCodesOut:
    """A confirmed factor replaces the previous factor of the same kind; you are alerted by e-mail."""
    return RecoveryCodesOut(recovery_codes=await account.confirm_factor(ctx, who, factor_id, body.code, client))


@router.delete("/mfa/factors/{factor_id}", status_code=204, summary="Remove a factor (needs a recent sign-in).")
async def remove_factor(factor_id: str, who: CallerDep, ctx: Ctx, client: ClientInfo) -> Response:
    await account.remove_factor(ctx, who, factor_id, client)
    return Response(status_code=204)


@router.post("/mfa/recovery-codes", summary="New recovery codes; the old ones stop working (recent sign-in).")
async def new_recovery_codes(who: CallerDep, ctx: Ctx, client: ClientInfo) -> RecoveryCodesOut:
    return RecoveryCodesOut(recovery_codes=await account.regenerate_recovery_codes(ctx, who, client))
