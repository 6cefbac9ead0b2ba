"""Turn case rows into what the customer and the agents are shown."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from support.adapters.tables import CaseAttachment, CaseIdentityCheck, CaseMessage, SupportCase
from support.domain.workflow import CaseState
from support.entrypoints import schemas
from support.service import clocks
from support.service.expectations import Expectation


def minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def expectation(value: Expectation) -> schemas.Expectation:
    return schemas.Expectation(kind=value.kind, by=value.by, text=value.text, hours=value.hours)


def message(row: CaseMessage) -> schemas.MessageOut:
    return schemas.MessageOut(
        id=row.id,
        author=row.author_kind,
        body=row.body,
        internal=row.internal,
        created_at=row.created_at,  # type: ignore[arg-type]
    )


def attachment(row: CaseAttachment, path_prefix: str) -> schemas.AttachmentOut:
    return schemas.AttachmentOut(
        id=row.id,
        filename=row.filename,
        media_type=row.media_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        uploaded_by=row.uploaded_by_kind,  # type: ignore[arg-type]
        internal=row.internal,
        created_at=row.created_at,
        download_path=f"{path_prefix}/attachments/{row.id}",
    )


def customer_case(
    case: SupportCase,
    messages: Sequence[CaseMessage],
    files: Sequence[CaseAttachment],
    expected: Expectation,
    reopen_window: timedelta,
) -> schemas.CustomerCase:
    reopen_until = case.resolved_at + reopen_window if case.state == CaseState.RESOLVED and case.resolved_at else None
    return schemas.CustomerCase(
        reference=case.reference,
        category=case.category,
        subject=case.subject,
        description=case.description,
        state=case.state,
        locale=case.locale,
        created_at=case.created_at,
        updated_at=case.updated_at,
        email_confirmed=case.email_verified_at is not None or case.channel == "member",
        expectation=expectation(expected),
        reopen_until=reopen_until,
        mfa_reset_approved_at=case.mfa_reset_approved_at,
        messages=[message(m) for m in messages if not m.internal],
        attachments=[attachment(f, f"/cases/{case.reference}") for f in files if not f.internal],
    )


def case_summary(case: SupportCase) -> schemas.CaseSummary:
    return schemas.CaseSummary.model_validate(case, from_attributes=True)


def clock(view: clocks.ClockView | None, breached_at: datetime | None) -> schemas.ClockOut | None:
    if view is None:
        return None
    return schemas.ClockOut(
        status=view.status,
        target_business_minutes=minutes(view.target),
        due_at=view.due_at,
        remaining_business_minutes=minutes(view.remaining),
        breached_at=breached_at,
    )


def sla(case: SupportCase, view: clocks.SlaView) -> schemas.SlaOut:
    return schemas.SlaOut(
        risk=view.risk,
        first_response=clock(view.first_response, case.first_response_breached_at),
        resolution=clock(view.resolution, case.resolution_breached_at),
    )


def _queue_fields(case: SupportCase, view: clocks.SlaView) -> dict:
    return {
        "reference": case.reference,
        "category": case.category,
        "subject": case.subject,
        "state": case.state,
        "channel": case.channel,
        "company_id": case.company_id,
        "requester_name": case.requester_name,
        "assignee_id": case.assignee_id,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "sla": sla(case, view),
    }


def queue_item(case: SupportCase, view: clocks.SlaView) -> schemas.QueueItem:
    return schemas.QueueItem(**_queue_fields(case, view))


def agent_case(
    case: SupportCase,
    view: clocks.SlaView,
    messages: Sequence[CaseMessage],
    files: Sequence[CaseAttachment],
    checks: Sequence[CaseIdentityCheck],
    expected: Expectation,
) -> schemas.AgentCase:
    return schemas.AgentCase(
        **_queue_fields(case, view),
        description=case.description,
        locale=case.locale,
        requester_email=case.requester_email,
        requester_user_id=case.requester_user_id,
        email_confirmed_at=case.email_verified_at,
        mfa_reset_approved_at=case.mfa_reset_approved_at,
        mfa_reset_approved_by=case.mfa_reset_approved_by,
        identity_checks=[schemas.CheckOut.model_validate(c, from_attributes=True) for c in checks],
        messages=[message(m) for m in messages],
        attachments=[attachment(f, f"/desk/cases/{case.reference}") for f in files],
        expectation=expectation(expected),
    )
