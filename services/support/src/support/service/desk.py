"""What agents do: work the queue, assign, reply, move cases, record identity checks, approve MFA resets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.topics import support as support_topics
from contracts.v1.support import MfaResetApproved
from servicekit.auth import Principal
from servicekit.outbox import add_to_outbox
from support import metrics
from support.adapters import repository
from support.adapters.tables import CaseIdentityCheck, CaseMessage, SupportCase
from support.domain.errors import Conflict, Forbidden, Invalid, NotFound
from support.domain.sla import ClockStatus
from support.domain.wording import MFA_RESET_NEXT_STEPS
from support.domain.workflow import (
    ACTIVE_STATES,
    CaseState,
    Category,
    IdentityCheck,
    RecordedCheck,
    check_agent_transition,
    check_mfa_reset_approvable,
)
from support.service import clocks, notify
from support.service.cases import after_commit
from support.service.context import SupportContext

NOTICE_FOR_STATE: dict[CaseState, notify.Notice] = {CaseState.WAITING: "waiting", CaseState.RESOLVED: "resolved"}


async def desk_case(session: AsyncSession, reference: str, *, for_update: bool = False) -> SupportCase:
    """Any case that reached the desk (cases awaiting e-mail confirmation are not there yet)."""
    case = await repository.case_by_reference(session, reference, for_update=for_update)
    if case is None or case.sla_started_at is None:
        raise NotFound("no-such-case", f"no case {reference.strip().upper()} on the desk")
    return case


@dataclass(frozen=True)
class QueueFilter:
    """What the agent asked the queue for."""

    states: Sequence[CaseState]
    categories: Sequence[str] | None = None
    sla: Sequence[str] | None = None  # breached, at_risk, on_track, paused
    assignee: str | None = None
    unassigned: bool = False


SLA_FILTER = {
    "breached": {ClockStatus.BREACHED, ClockStatus.MISSED},
    "at_risk": {ClockStatus.AT_RISK},
    "on_track": {ClockStatus.ON_TRACK},
    "paused": {ClockStatus.PAUSED},
}


async def queue(
    ctx: SupportContext, session: AsyncSession, wanted: QueueFilter
) -> list[tuple[SupportCase, clocks.SlaView]]:
    """Matching cases, most urgent first: breached, then at risk, then by deadline."""
    calendar = await ctx.calendar(session)
    now = ctx.now()
    rows = await repository.desk_cases(
        session,
        states=[str(s) for s in wanted.states],
        categories=wanted.categories,
        assignee=wanted.assignee,
        unassigned=wanted.unassigned,
    )
    allowed = set().union(*(SLA_FILTER[s] for s in wanted.sla)) if wanted.sla else None
    result = []
    for case in rows:
        view = clocks.sla_view(case, calendar, now, ctx.settings.at_risk_ratio)
        if allowed is None or view.risk in allowed:
            result.append((case, view))

    def urgency(item: tuple[SupportCase, clocks.SlaView]) -> tuple:
        case, view = item
        due = [c.due_at for c in (view.first_response, view.resolution) if c and c.due_at]
        return (
            0 if view.is_breached else 1 if view.risk == ClockStatus.AT_RISK else 2,
            min(due or [now]),
            case.reference,
        )

    return sorted(result, key=urgency)


async def assign(
    ctx: SupportContext, session: AsyncSession, agent: Principal, reference: str, assignee: str | None
) -> SupportCase:
    """Give the case to an agent (`assignee`, or nobody with None); a new case becomes open."""
    case = await desk_case(session, reference, for_update=True)
    if case.state == CaseState.CLOSED:
        raise Conflict("case-closed", "a closed case cannot be assigned")
    now = ctx.now()
    case.assignee_id = assignee
    if assignee is not None:
        await _move(ctx, session, case, CaseState.OPEN if case.state == CaseState.NEW else CaseState(case.state), now)
    case.updated_at = now
    session.add(case)
    return case


async def reply(
    ctx: SupportContext,
    session: AsyncSession,
    agent: Principal,
    reference: str,
    body: str,
    *,
    internal: bool,
    then: CaseState | None,
) -> tuple[SupportCase, CaseMessage]:
    """Post a reply (the customer sees it) or an internal note (agents only), optionally moving the case."""
    case = await desk_case(session, reference, for_update=True)
    if case.state == CaseState.CLOSED:
        raise Conflict("case-closed", "a closed case takes no more messages")
    now = ctx.now()
    target = then or (CaseState.OPEN if case.state == CaseState.NEW and not internal else CaseState(case.state))
    if target != case.state:
        check_agent_transition(CaseState(case.state), target)
    message = CaseMessage(
        case_id=case.id, author_kind="agent", author_id=agent.user_id, body=body, internal=internal, created_at=now
    )
    session.add(message)
    await session.flush()
    calendar = await ctx.calendar(session)
    if not internal and clocks.record_first_response(case, calendar, now):
        _count_breaches(session, case, calendar, ctx, now)
    moved = await _move(ctx, session, case, target, now)
    notice = NOTICE_FOR_STATE.get(target) if moved else None
    if notice is None and not internal:
        notice = "answered"
    if notice is not None:
        notify.notify_requester(ctx, session, case, notice, message.id)
    return case, message


async def change_state(
    ctx: SupportContext, session: AsyncSession, agent: Principal, reference: str, target: CaseState
) -> SupportCase:
    """Move the case (open, waiting on customer, resolved, closed, reopen) and tell the requester when it matters."""
    case = await desk_case(session, reference, for_update=True)
    check_agent_transition(CaseState(case.state), target)
    now = ctx.now()
    await _move(ctx, session, case, target, now)
    notice = NOTICE_FOR_STATE.get(target)
    if notice is not None:
        notify.notify_requester(ctx, session, case, notice, f"{target}:{now.isoformat()}")
    return case


async def _move(
    ctx: SupportContext, session: AsyncSession, case: SupportCase, target: CaseState, now: datetime
) -> bool:
    case.updated_at = now
    session.add(case)
    if case.state == target:
        return False
    before = case.state
    calendar = await ctx.calendar(session)
    clocks.move(case, target, calendar, now)
    if target in (CaseState.RESOLVED, CaseState.CLOSED):
        _count_breaches(session, case, calendar, ctx, now)
    notify.publish_state_change(ctx, session, case, before, "agent", now)
    return True


def _count_breaches(session: AsyncSession, case: SupportCase, calendar, ctx: SupportContext, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """Mark (once) and count targets missed, when the reply or resolution comes late."""
    for clock, _category in mark_breaches(case, clocks.sla_view(case, calendar, now, ctx.settings.at_risk_ratio), now):
        after_commit(session, lambda c=clock: metrics.SLA_BREACHES.labels(c).inc())


def mark_breaches(case: SupportCase, view: clocks.SlaView, now: datetime) -> list[tuple[str, str]]:
    """Set the breach time of each clock past its target that has none yet; returns (clock, category) pairs."""
    newly = []
    bad = (ClockStatus.BREACHED, ClockStatus.MISSED)
    if view.first_response and view.first_response.status in bad and case.first_response_breached_at is None:
        case.first_response_breached_at = view.first_response.due_at or now
        newly.append(("first_response", case.category))
    if view.resolution and view.resolution.status in bad and case.resolution_breached_at is None:
        case.resolution_breached_at = view.resolution.due_at or now
        newly.append(("resolution", case.category))
    return newly


async def record_identity_checks(
    ctx: SupportContext, session: AsyncSession, agent: Principal, reference: str, checks: Sequence[tuple[str, str]]
) -> list[CaseIdentityCheck]:
    """Record the checks an agent performed on an MFA-reset requester (notes say what was checked)."""
    case = await desk_case(session, reference, for_update=True)
    if case.category != Category.MFA_RESET:
        raise Conflict("not-an-mfa-reset", "identity checks are recorded on MFA-reset cases only")
    if case.mfa_reset_approved_at is not None:
        raise Conflict("already-approved", "this MFA reset was already approved")
    if case.state not in ACTIVE_STATES:
        raise Conflict("case-not-active", f"a case in state '{case.state}' takes no more checks")
    now = ctx.now()
    recorded = []
    for kind, note in checks:
        if kind == IdentityCheck.EMAIL_CONTROL:
            raise Invalid(
                "system-check", "'email-control' is recorded by the service when the requester opens the link"
            )
        row = CaseIdentityCheck(case_id=case.id, kind=kind, note=note, recorded_by=agent.user_id, recorded_at=now)
        session.add(row)
        recorded.append(row)
    case.updated_at = now
    session.add(case)
    return recorded


async def approve_mfa_reset(
    ctx: SupportContext, session: AsyncSession, agent: Principal, reference: str
) -> SupportCase:
    """Approve after the checks: publish support.mfa-reset-approved.v1 and tell the requester what happens next."""
    if agent.assurance != "aal2":
        raise Forbidden("strong-login-required", "approving an MFA reset needs a sign-in with your second factor")
    case = await desk_case(session, reference, for_update=True)
    if case.requester_user_id is not None and case.requester_user_id == agent.user_id:
        raise Forbidden("own-request", "another agent must approve a reset you requested for yourself")
    checks = await repository.identity_checks(session, case.id)
    check_mfa_reset_approvable(
        category=case.category,
        state=CaseState(case.state),
        email_verified=case.email_verified_at is not None,
        already_approved=case.mfa_reset_approved_at is not None,
        checks=[RecordedCheck(IdentityCheck(c.kind), c.note, c.recorded_by, c.recorded_at) for c in checks],
        minimum_agent_checks=ctx.settings.mfa_min_identity_checks,
    )
    now = ctx.now()
    case.mfa_reset_approved_at = now
    case.mfa_reset_approved_by = agent.user_id
    email = case.requester_email.lower()
    add_to_outbox(
        session,
        support_topics.MFA_RESET_APPROVED,
        MfaResetApproved(
            case_id=str(case.id),
            case_reference=case.reference,
            email=email,
            user_id=case.requester_user_id,
            approved_by=agent.user_id,
            identity_checks=[f"{c.kind}: {c.note}" for c in checks],
            approved_at=now,
            company_id=case.company_id,
            locale=case.locale,  # type: ignore[arg-type]
        ),
        source=ctx.source,
        key=email,
        tenant=case.company_id,
    )
    message = CaseMessage(
        case_id=case.id, author_kind="system", body=MFA_RESET_NEXT_STEPS[case.locale], internal=False, created_at=now
    )
    session.add(message)
    await session.flush()
    calendar = await ctx.calendar(session)
    if clocks.record_first_response(case, calendar, now):
        _count_breaches(session, case, calendar, ctx, now)
    await _move(ctx, session, case, CaseState.RESOLVED, now)
    # One e-mail: the next steps are in the thread, and e-mails never carry case content.
    notify.notify_requester(ctx, session, case, "answered", message.id)
    after_commit(session, metrics.MFA_RESETS_APPROVED.inc)
    return case
