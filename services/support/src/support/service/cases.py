"""What a requester does with a case: open it (signed in or by e-mail), confirm, write, attach, reopen."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.auth import Principal, Right
from support import metrics
from support.adapters import repository
from support.adapters.tables import (
    CaseAttachment,
    CaseAttachmentContent,
    CaseIdentityCheck,
    CaseMessage,
    SupportCase,
)
from support.domain import attachments as screening
from support.domain.errors import Conflict, Invalid, NotFound, TooLarge, TooManyRequests, Unauthorized
from support.domain.workflow import (
    ACTIVE_STATES,
    CaseState,
    Category,
    IdentityCheck,
    customer_can_reopen,
    state_after_customer_message,
)
from support.service import clocks, notify
from support.service.context import SupportContext


@dataclass(frozen=True)
class CaseDraft:
    """What a requester fills in to open a case."""

    category: str
    subject: str
    description: str
    name: str
    email: str
    locale: str


@dataclass(frozen=True)
class Member:
    """A signed-in member of a company (access token)."""

    principal: Principal


@dataclass(frozen=True)
class LinkHolder:
    """Someone holding a valid e-mailed link to one case."""

    case_id: uuid.UUID


Requester = Member | LinkHolder


def after_commit(session: AsyncSession, action) -> None:  # type: ignore[no-untyped-def]
    """Run `action` once the session's transaction commits (metrics must not count rolled-back work)."""
    event.listen(session.sync_session, "after_commit", lambda _s: action(), once=True)


def _new_case(
    draft: CaseDraft, reference: str, target_first_s: int, target_resolution_s: int, now: datetime
) -> SupportCase:
    return SupportCase(
        reference=reference,
        category=draft.category,
        subject=draft.subject,
        description=draft.description,
        state=CaseState.NEW,
        locale=draft.locale,
        channel="member",
        requester_name=draft.name,
        requester_email=draft.email.strip().lower(),
        first_response_target_s=target_first_s,
        resolution_target_s=target_resolution_s,
        created_at=now,
        updated_at=now,
    )


async def _targets(session: AsyncSession, code: str) -> tuple[int, int]:
    category = await repository.category(session, code)
    if category is None:
        codes = ", ".join(c.code for c in await repository.categories(session))
        raise Invalid("unknown-category", f"category '{code}' does not exist; choose one of: {codes}")
    return category.first_response_minutes * 60, category.resolution_minutes * 60


async def reach_desk(ctx: SupportContext, session: AsyncSession, case: SupportCase, now: datetime) -> None:
    """Start the clocks, announce the case and tell the requester it is logged."""
    calendar = await ctx.calendar(session)
    clocks.start(case, calendar, now)
    session.add(case)
    await session.flush()
    first, resolution = clocks.first_response_clock(case), clocks.resolution_clock(case)
    assert first is not None and resolution is not None
    notify.publish_opened(ctx, session, case, first.due_at(calendar) or now, resolution.due_at(calendar) or now)
    notify.notify_requester(ctx, session, case, "opened", case.id)
    category = case.category
    after_commit(session, lambda: metrics.CASES_OPENED.labels(category).inc())


async def open_member_case(
    ctx: SupportContext, session: AsyncSession, principal: Principal, draft: CaseDraft
) -> SupportCase:
    """A signed-in member opens a case: it reaches the desk at once.

    The contact address is the one the member typed, so an MFA-reset case still sends a
    confirmation link: approval needs proof that the requester reads that mailbox.
    """
    first_s, resolution_s = await _targets(session, draft.category)
    now = ctx.now()
    case = _new_case(draft, await repository.next_reference(session, now.year), first_s, resolution_s, now)
    case.company_id = principal.company_id
    case.requester_user_id = principal.user_id
    await reach_desk(ctx, session, case, now)
    if case.category == Category.MFA_RESET:
        notify.send_verification(ctx, session, case, now)
    return case


async def open_email_case(ctx: SupportContext, session: AsyncSession, draft: CaseDraft) -> SupportCase:
    """Someone who cannot sign in opens a case; it reaches the desk once the e-mail link is confirmed."""
    first_s, resolution_s = await _targets(session, draft.category)
    now = ctx.now()
    email = draft.email.strip().lower()
    waiting = await repository.unconfirmed_cases_since(session, email, now - timedelta(hours=1))
    if waiting >= ctx.settings.unverified_cases_per_email_per_hour:
        raise TooManyRequests(
            "too-many-unconfirmed-cases",
            "several cases for this address are already waiting for confirmation: open the link in the e-mail "
            "we sent, or try again in an hour",
        )
    case = _new_case(draft, await repository.next_reference(session, now.year), first_s, resolution_s, now)
    case.channel = "email"
    session.add(case)
    await session.flush()
    notify.send_verification(ctx, session, case, now)
    return case


INVALID_LINK = "this link is invalid or has expired; open your case page from the latest e-mail we sent you"


async def confirm_email(
    ctx: SupportContext, session: AsyncSession, reference: str, secret: str
) -> tuple[SupportCase, str]:
    """The requester opened the confirmation link: the address is proven, the case reaches the desk.

    Returns the case and a fresh access token for the case page (the confirmation link works once).
    """
    now = ctx.now()
    token = await repository.token(session, notify.hash_token(secret), for_update=True)
    case = await session.get(SupportCase, token.case_id, with_for_update=True) if token else None
    if (
        token is None
        or case is None
        or token.purpose != "verify"
        or case.reference != reference.strip().upper()
        or token.expires_at <= now
        or token.used_at is not None
    ):
        raise Unauthorized("invalid-link", INVALID_LINK)
    token.used_at = now
    session.add(token)
    if case.email_verified_at is None:
        case.email_verified_at = now
        case.updated_at = now
        if case.category == Category.MFA_RESET:
            session.add(
                CaseIdentityCheck(
                    case_id=case.id,
                    kind=IdentityCheck.EMAIL_CONTROL,
                    note=f"requester opened the link sent to {case.requester_email}",
                    recorded_by="system",
                    recorded_at=now,
                )
            )
        if case.sla_started_at is None:
            await reach_desk(ctx, session, case, now)
        session.add(case)
    access = notify.mint_token(session, case, "access", now + timedelta(days=ctx.settings.access_link_ttl_days))
    return case, access


async def link_holder(ctx: SupportContext, session: AsyncSession, reference: str, secret: str) -> LinkHolder:
    """Who holds this case link; Unauthorized when it is unknown, expired or for another case."""
    token = await repository.token(session, notify.hash_token(secret))
    case = await session.get(SupportCase, token.case_id) if token else None
    if (
        token is None
        or case is None
        or token.purpose != "access"
        or token.expires_at <= ctx.now()
        or case.reference != reference.strip().upper()
    ):
        raise Unauthorized("invalid-link", INVALID_LINK)
    return LinkHolder(case_id=case.id)


def visible_to(case: SupportCase | None, requester: Requester) -> bool:
    """A member sees their own cases (administrators: their company's); a link opens its one case."""
    if case is None:
        return False
    if isinstance(requester, LinkHolder):
        return case.id == requester.case_id
    principal = requester.principal
    if case.company_id is None or case.company_id != principal.company_id:
        return False
    return case.requester_user_id == principal.user_id or principal.has(Right.ADMIN)


async def requester_case(
    session: AsyncSession, requester: Requester, reference: str, *, for_update: bool = False
) -> SupportCase:
    """The case if this requester may see it; NotFound otherwise (no hint that it exists)."""
    case = await repository.case_by_reference(session, reference, for_update=for_update)
    if not visible_to(case, requester):
        raise NotFound("no-such-case", f"no case {reference.strip().upper()} among yours")
    assert case is not None
    return case


def _author(requester: Requester) -> str | None:
    return requester.principal.user_id if isinstance(requester, Member) else None


async def customer_message(
    ctx: SupportContext, session: AsyncSession, requester: Requester, reference: str, body: str
) -> tuple[SupportCase, CaseMessage]:
    """The requester writes: a case waiting on them goes back to the desk; a resolved one reopens."""
    case = await requester_case(session, requester, reference, for_update=True)
    _require_confirmed(case)
    now = ctx.now()
    target = state_after_customer_message(CaseState(case.state), case.resolved_at, ctx.reopen_window, now)
    message = CaseMessage(
        case_id=case.id, author_kind="customer", author_id=_author(requester), body=body, created_at=now
    )
    session.add(message)
    await _move(ctx, session, case, target, "customer", now)
    return case, message


async def customer_reopen(
    ctx: SupportContext, session: AsyncSession, requester: Requester, reference: str
) -> SupportCase:
    """Reopen a resolved case within the window."""
    case = await requester_case(session, requester, reference, for_update=True)
    now = ctx.now()
    if not customer_can_reopen(CaseState(case.state), case.resolved_at, ctx.reopen_window, now):
        raise Conflict(
            "cannot-reopen",
            f"only a resolved case can be reopened, within {ctx.settings.reopen_window_days} days; "
            "open a new case and quote this reference",
        )
    await _move(ctx, session, case, CaseState.OPEN, "customer", now)
    return case


async def customer_resolve(
    ctx: SupportContext, session: AsyncSession, requester: Requester, reference: str
) -> SupportCase:
    """The requester says the problem is solved."""
    case = await requester_case(session, requester, reference, for_update=True)
    if case.state not in ACTIVE_STATES:
        raise Conflict("not-active", f"the case is already {case.state}")
    await _move(ctx, session, case, CaseState.RESOLVED, "customer", ctx.now())
    return case


def _require_confirmed(case: SupportCase) -> None:
    if case.sla_started_at is None:
        raise Conflict("email-not-confirmed", "confirm your e-mail address with the link we sent first")


async def _move(
    ctx: SupportContext, session: AsyncSession, case: SupportCase, target: CaseState, actor: notify.Actor, now: datetime
) -> bool:
    """Change state with its clock effects and event; False when the case already was there."""
    case.updated_at = now
    session.add(case)
    if case.state == target:
        return False
    before = case.state
    clocks.move(case, target, await ctx.calendar(session), now)
    notify.publish_state_change(ctx, session, case, before, actor, now)
    return True


async def add_attachment(
    ctx: SupportContext,
    session: AsyncSession,
    case: SupportCase,
    *,
    content: bytes,
    filename: str | None,
    declared_type: str | None,
    uploaded_by_kind: str,
    uploaded_by: str | None,
    internal: bool = False,
) -> CaseAttachment:
    """Screen the file by its content, check the case's limits, store it in the database."""
    settings = ctx.settings
    if case.state == CaseState.CLOSED:
        raise Conflict("case-closed", "this case is closed; open a new case to send more files")
    if len(content) > settings.max_attachment_bytes:
        metrics.ATTACHMENTS_REFUSED.labels("too-large").inc()
        raise TooLarge("file-too-large", f"a file can be at most {_mib(settings.max_attachment_bytes)}")
    try:
        screened = screening.screen(content, filename, declared_type)
    except (Invalid, screening.UnsupportedType) as exc:
        metrics.ATTACHMENTS_REFUSED.labels(exc.code).inc()
        raise
    count, total = await repository.attachment_usage(session, case.id)
    if count >= settings.max_attachments_per_case:
        metrics.ATTACHMENTS_REFUSED.labels("too-many").inc()
        raise Conflict("too-many-files", f"a case holds at most {settings.max_attachments_per_case} files")
    if total + len(content) > settings.max_case_attachment_bytes:
        metrics.ATTACHMENTS_REFUSED.labels("case-full").inc()
        raise TooLarge(
            "case-attachments-full",
            f"the files of one case can total at most {_mib(settings.max_case_attachment_bytes)}",
        )
    now = ctx.now()
    attachment = CaseAttachment(
        case_id=case.id,
        filename=screened.filename,
        media_type=screened.media_type,
        declared_type=(declared_type or None) and declared_type[:200],
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by_kind=uploaded_by_kind,
        uploaded_by=uploaded_by,
        internal=internal,
        created_at=now,
    )
    session.add(attachment)
    await session.flush()
    session.add(CaseAttachmentContent(attachment_id=attachment.id, content=content))
    case.updated_at = now
    session.add(case)
    return attachment


async def customer_attachment(
    ctx: SupportContext,
    session: AsyncSession,
    requester: Requester,
    reference: str,
    *,
    content: bytes,
    filename: str | None,
    declared_type: str | None,
) -> CaseAttachment:
    case = await requester_case(session, requester, reference, for_update=True)
    _require_confirmed(case)
    return await add_attachment(
        ctx,
        session,
        case,
        content=content,
        filename=filename,
        declared_type=declared_type,
        uploaded_by_kind="customer",
        uploaded_by=_author(requester),
    )


async def download(
    session: AsyncSession, case: SupportCase, attachment_id: uuid.UUID, *, include_internal: bool
) -> tuple[CaseAttachment, bytes]:
    found = await repository.attachment_with_content(session, case.id, attachment_id)
    if found is None or (found[0].internal and not include_internal):
        raise NotFound("no-such-file", "no such file on this case")
    return found


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"
