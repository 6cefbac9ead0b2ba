"""My account > Users: collaborators, their rights, invitations, and the transfer of the administrator role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import AuditEntry, Company, MfaFactor, OneTimeToken, RecoveryCode, User
from identity.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from identity.domain.passwords import password_problem
from identity.domain.rights import DEFAULT_FORMER_ADMIN_RIGHTS, effective_rights, grant_problem
from identity.domain.validation import normalise_email
from identity.service import audit, outbound, queries
from identity.service.context import Client, Context, now
from identity.service.recovery import INVALID_LINK, InvalidLink, replace_link_token
from identity.service.sessions import Caller, require_recent_auth, require_right
from servicekit.auth import Right


@dataclass
class UserView:
    """A collaborator as the users page lists them."""

    user: User
    rights: list[str]
    mfa_methods: list[str]


NO_SUCH_USER = "Your company has no user with this id."


async def _view(s: AsyncSession, user: User) -> UserView:
    return UserView(
        user=user,
        rights=effective_rights(is_admin=user.is_admin, stored=user.rights),
        mfa_methods=await outbound.confirmed_methods(s, user.id),
    )


async def list_users(ctx: Context, caller: Caller) -> list[UserView]:
    """Every (not deleted) user of the caller's company with their rights."""
    require_right(caller, Right.MANAGE_USERS)
    async with ctx.sessions() as s:
        users = (
            await s.exec(
                select(User)
                .where(User.company_id == caller.company.id, User.status != "deleted")
                .order_by(User.created_at)  # type: ignore[arg-type]
            )
        ).all()
        return [await _view(s, u) for u in users]


async def get_user(ctx: Context, caller: Caller, user_id: str) -> UserView:
    require_right(caller, Right.MANAGE_USERS)
    async with ctx.sessions() as s:
        user = await queries.company_user(s, caller.company.id, user_id)
        if user is None:
            raise NotFound(NO_SUCH_USER, field="user_id")
        return await _view(s, user)


def _check_grant(caller: Caller, rights: list[str]) -> list[str]:
    if problem := grant_problem(rights, granter_is_admin=caller.user.is_admin, staff_company=caller.company.is_staff):
        raise InvalidInput(problem, field="rights", code="right_not_grantable")
    return sorted(set(rights))


async def _send_invitation(ctx: Context, s: AsyncSession, user: User, inviter: User, company: Company) -> None:
    ttl = ctx.settings.invitation_ttl_s
    token, row = await replace_link_token(ctx, s, user.id, "invitation", ttl)
    outbound.send_message(
        ctx,
        s,
        template="invitation",
        recipient=user.email,
        locale=user.locale,
        params={
            "inviter_name": inviter.full_name,
            "company_name": company.legal_name,
            "invitation_url": ctx.link("accept-invitation", token),
            "expires_in_days": max(1, ttl // 86400),
        },
        key=f"invitation:{row.id}",
        tenant=str(company.id),
    )


async def invite(
    ctx: Context, caller: Caller, *, email: str, full_name: str, rights: list[str], locale: str | None, client: Client
) -> UserView:
    """Invite a collaborator by e-mail; they choose their password from the link."""
    require_right(caller, Right.MANAGE_USERS)
    granted = _check_grant(caller, rights)
    async with ctx.tx() as s:
        if await queries.user_by_email(s, normalise_email(email)):
            raise Conflict(
                "This address already has a Factora account; a login address belongs to one company only. "
                "Ask the person for another address.",
                field="email",
                code="email_in_use",
            )
        user = User(
            company_id=caller.company.id,
            email=email.strip(),
            email_normalized=normalise_email(email),
            full_name=full_name.strip(),
            locale=locale or caller.company.locale,
            status="invited",
            rights=granted,
        )
        s.add(user)
        try:
            await s.flush()
        except IntegrityError:  # the same address invited a moment ago, in a parallel request
            raise Conflict("This address already has a Factora account.", field="email", code="email_in_use") from None
        await _send_invitation(ctx, s, user, caller.user, caller.company)
        audit.record(
            s,
            "user.invited",
            client,
            company_id=caller.company.id,
            user_id=user.id,
            actor_id=caller.user.id,
            rights=granted,
        )
        await outbound.publish_user(ctx, s, user, "invited")
        return await _view(s, user)


async def resend_invitation(ctx: Context, caller: Caller, user_id: str, client: Client) -> None:
    require_right(caller, Right.MANAGE_USERS)
    async with ctx.tx() as s:
        user = await queries.company_user(s, caller.company.id, user_id, lock=True)
        if user is None:
            raise NotFound(NO_SUCH_USER, field="user_id")
        if user.status != "invited":
            raise Conflict("This user already accepted the invitation.", code="not_invited")
        await _send_invitation(ctx, s, user, caller.user, caller.company)
        audit.record(
            s, "user.invitation_resent", client, company_id=caller.company.id, user_id=user.id, actor_id=caller.user.id
        )


async def accept_invitation(ctx: Context, token: str, password: str, full_name: str | None, client: Client) -> None:
    """The invited person chooses a password; they choose a second factor at their first sign-in."""
    async with ctx.tx() as s:
        row = await queries.usable_token(s, token, "invitation")
        user = await s.get(User, row.user_id, with_for_update=True) if row else None
        if row is None or user is None or user.status != "invited":
            raise InvalidLink(INVALID_LINK, field="token")
        if problem := password_problem(password, email=user.email):
            raise InvalidInput(problem.detail, field="password", code=problem.rule)
        user.password_hash = await ctx.passwords.hash(password)
        user.password_changed_at = now()
        user.status, user.email_verified_at = "active", now()
        if full_name:
            user.full_name = full_name.strip()
        s.add(user)
        row.used_at = now()
        s.add(row)
        audit.record(s, "user.invitation_accepted", client, company_id=user.company_id, user_id=user.id)
        await outbound.publish_user(ctx, s, user, "activated")


async def _managed_user(s: AsyncSession, caller: Caller, user_id: str) -> User:
    """A colleague the caller may manage: not themselves, not the administrator, not a manager unless admin."""
    user = await queries.company_user(s, caller.company.id, user_id, lock=True)
    if user is None:
        raise NotFound(NO_SUCH_USER, field="user_id")
    if user.id == caller.user.id:
        raise Conflict("You cannot change your own access; ask another user manager.", code="self_action")
    if user.is_admin:
        raise Forbidden(
            "The administrator's access cannot be changed; the administrator can transfer the role first.",
            code="target_is_admin",
        )
    if Right.MANAGE_USERS in user.rights and not caller.user.is_admin:
        raise Forbidden("Only the administrator can change another user manager.", code="target_is_manager")
    return user


async def set_rights(ctx: Context, caller: Caller, user_id: str, rights: list[str], client: Client) -> UserView:
    """Replace a collaborator's rights; they are told by e-mail."""
    require_right(caller, Right.MANAGE_USERS)
    granted = _check_grant(caller, rights)
    async with ctx.tx() as s:
        user = await _managed_user(s, caller, user_id)
        before = sorted(user.rights)
        user.rights = granted
        s.add(user)
        audit.record(
            s,
            "user.rights_changed",
            client,
            company_id=caller.company.id,
            user_id=user.id,
            actor_id=caller.user.id,
            before=before,
            after=granted,
        )
        if user.status == "active":
            outbound.security_alert(ctx, s, user, "rights_changed", client, key=f"{user.version}")
        await outbound.publish_user(ctx, s, user, "rights_changed")
        return await _view(s, user)


async def set_enabled(ctx: Context, caller: Caller, user_id: str, enabled: bool, client: Client) -> UserView:
    """Disable a collaborator (every session ends at once) or enable them again."""
    require_right(caller, Right.MANAGE_USERS)
    async with ctx.tx() as s:
        user = await _managed_user(s, caller, user_id)
        if enabled:
            if user.status != "disabled":
                raise Conflict("This user is not disabled.", code="not_disabled")
            user.status = "active"
        else:
            if user.status == "disabled":
                raise Conflict("This user is already disabled.", code="already_disabled")
            user.status = "disabled"
            await queries.revoke_sessions(s, user.id, "user_disabled")
            outbound.security_alert(ctx, s, user, "access_removed", client, key=f"disabled:{user.version}")
        s.add(user)
        audit.record(
            s,
            "user.enabled" if enabled else "user.disabled",
            client,
            company_id=caller.company.id,
            user_id=user.id,
            actor_id=caller.user.id,
        )
        await outbound.publish_user(ctx, s, user, "enabled" if enabled else "disabled")
        return await _view(s, user)


async def delete_user(ctx: Context, caller: Caller, user_id: str, client: Client) -> None:
    """Delete a collaborator: sessions, factors and links go; the audit trail stays. Needs a recent sign-in."""
    require_right(caller, Right.MANAGE_USERS)
    require_recent_auth(ctx, caller)
    async with ctx.tx() as s:
        user = await _managed_user(s, caller, user_id)
        await queries.revoke_sessions(s, user.id, "user_deleted")
        for table in (MfaFactor, RecoveryCode, OneTimeToken):
            rows = await s.exec(select(table).where(table.user_id == user.id))  # type: ignore[attr-defined]
            for row in rows.all():
                await s.delete(row)
        outbound.security_alert(ctx, s, user, "access_removed", client, key=f"deleted:{user.id}")
        user.status, user.password_hash, user.phone = "deleted", None, None
        s.add(user)
        audit.record(s, "user.deleted", client, company_id=caller.company.id, user_id=user.id, actor_id=caller.user.id)
        await outbound.publish_user(ctx, s, user, "deleted")


async def transfer_admin(
    ctx: Context, caller: Caller, new_admin_id: str, former_admin_rights: list[str] | None, client: Client
) -> UserView:
    """Hand the administrator role to an active colleague, atomically; both are told by e-mail.

    Only the current administrator may do it, after a recent two-factor sign-in. The company
    keeps exactly one administrator at every moment; the former one keeps `former_admin_rights`.
    """
    if not caller.user.is_admin:
        raise Forbidden("Only the company administrator can transfer the administrator role.", code="not_admin")
    require_recent_auth(ctx, caller)
    keep = list(DEFAULT_FORMER_ADMIN_RIGHTS) if former_admin_rights is None else former_admin_rights
    if problem := grant_problem(keep, granter_is_admin=True, staff_company=caller.company.is_staff):
        raise InvalidInput(problem, field="former_admin_rights", code="right_not_grantable")
    async with ctx.tx() as s:
        # Serialises concurrent transfers in one company.
        await queries.company(s, caller.company.id, lock=True)
        me = await s.get(User, caller.user.id, with_for_update=True)
        if me is None or not me.is_admin:
            raise Forbidden("You are no longer the administrator.", code="not_admin")
        target = await queries.company_user(s, caller.company.id, new_admin_id, lock=True)
        if target is None:
            raise NotFound(NO_SUCH_USER, field="new_admin_user_id")
        if target.id == me.id:
            raise Conflict("You already are the administrator.", code="self_action", field="new_admin_user_id")
        if target.status != "active":
            raise Conflict(
                "The new administrator must be an active user (invitation accepted, not disabled).",
                field="new_admin_user_id",
                code="target_not_active",
            )
        # Clear the old flag before setting the new one: a unique index allows one administrator per company.
        await s.exec(
            update(User).where(User.id == me.id).values(is_admin=False, rights=sorted(set(keep)))  # type: ignore[arg-type]
        )
        await s.exec(update(User).where(User.id == target.id).values(is_admin=True))  # type: ignore[arg-type]
        await s.refresh(me)
        await s.refresh(target)
        audit.record(
            s,
            "admin.transferred",
            client,
            company_id=caller.company.id,
            user_id=target.id,
            actor_id=me.id,
            former_admin_rights=sorted(set(keep)),
        )
        for user in (me, target):
            outbound.security_alert(
                ctx, s, user, "admin_rights_transferred", client, key=f"{me.id}:{target.id}:{me.version}"
            )
        await outbound.publish_user(ctx, s, me, "admin_revoked")
        await outbound.publish_user(ctx, s, target, "admin_granted")
        return await _view(s, target)


async def audit_log(ctx: Context, caller: Caller, *, limit: int, before_id: int | None) -> list[AuditEntry]:
    """The company's security audit log, newest first (administrator only)."""
    if not caller.user.is_admin:
        raise Forbidden("Only the company administrator can read the audit log.", code="not_admin")
    async with ctx.sessions() as s:
        query = select(AuditEntry).where(AuditEntry.company_id == caller.company.id)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)  # type: ignore[operator,arg-type]
        rows = await s.exec(query.order_by(AuditEntry.id.desc()).limit(limit))  # type: ignore[union-attr]
        return list(rows.all())
