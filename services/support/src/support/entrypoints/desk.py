"""Agent side of the HTTP API: the queue, case details, assignment, replies, states, MFA-reset approval."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from support.adapters import repository
from support.domain.workflow import ACTIVE_STATES, CaseState
from support.entrypoints import schemas, views
from support.entrypoints.deps import Agent, Context, DeskReader, ReadSession, WriteSession
from support.entrypoints.uploads import DOWNLOAD_OPENAPI, UPLOAD_OPENAPI, as_download, read_capped
from support.service import cases, clocks, desk, expectations

router = APIRouter(prefix="/desk", tags=["agent desk"])

SlaRisk = Literal["breached", "at_risk", "on_track", "paused"]


async def _agent_view(ctx, session, case) -> schemas.AgentCase:  # type: ignore[no-untyped-def]
    calendar = await ctx.calendar(session)
    now = ctx.now()
    view = clocks.sla_view(case, calendar, now, ctx.settings.at_risk_ratio)
    return views.agent_case(
        case,
        view,
        await repository.messages(session, case.id, include_internal=True),
        await repository.attachments(session, case.id, include_internal=True),
        await repository.identity_checks(session, case.id),
        expectations.for_case(case, calendar, now, ctx.reopen_window),
    )


@router.get(
    "/queue",
    summary="The queue, most urgent first; filter by state, category, SLA risk and assignee.",
    description="Cases appear once they reach the desk. Default states: new, open, waiting_on_customer. "
    "`sla=breached` also lists cases whose first response came late.",
)
async def queue(
    reader: DeskReader,
    ctx: Context,
    session: ReadSession,
    state: Annotated[list[CaseState] | None, Query(description="Repeat to combine.")] = None,
    category: Annotated[list[str] | None, Query(description="Category codes; repeat to combine.")] = None,
    sla: Annotated[list[SlaRisk] | None, Query(description="SLA standing; repeat to combine.")] = None,
    assignee: Annotated[
        str | None, Query(description="An agent id, 'me', or 'none' for unassigned cases.", max_length=200)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[schemas.QueueItem]:
    who = reader.user_id if assignee == "me" else assignee
    wanted = desk.QueueFilter(
        states=state or sorted(ACTIVE_STATES),
        categories=category,
        sla=sla,
        assignee=None if who == "none" else who,
        unassigned=who == "none",
    )
    rows = await desk.queue(ctx, session, wanted)
    return [views.queue_item(c, v) for c, v in rows[offset : offset + limit]]


@router.get("/cases/{reference}", summary="A case with everything: internal notes, identity checks, SLA clocks.")
async def get_case(reference: str, reader: DeskReader, ctx: Context, session: ReadSession) -> schemas.AgentCase:
    case = await desk.desk_case(session, reference)
    return await _agent_view(ctx, session, case)


@router.post("/cases/{reference}/assign", summary="Take the case, give it to another agent, or release it.")
async def assign(
    reference: str, body: schemas.AssignRequest, agent: Agent, ctx: Context, session: WriteSession
) -> schemas.AgentCase:
    assignee = None if body.unassign else (body.assignee_id or agent.user_id)
    case = await desk.assign(ctx, session, agent, reference, assignee)
    return await _agent_view(ctx, session, case)


@router.post(
    "/cases/{reference}/messages",
    status_code=status.HTTP_201_CREATED,
    summary="Reply to the customer, or add an internal note; optionally move the case.",
    description="A reply stops the first-response clock and e-mails the customer (answered, waiting on you or "
    "resolved, in their language); an internal note is never shown to the customer nor e-mailed.",
)
async def post_message(
    reference: str, body: schemas.AgentMessageRequest, agent: Agent, ctx: Context, session: WriteSession
) -> schemas.AgentCase:
    case, _ = await desk.reply(ctx, session, agent, reference, body.body, internal=body.internal, then=body.then)
    return await _agent_view(ctx, session, case)


@router.post("/cases/{reference}/state", summary="Move the case: open, waiting_on_customer, resolved, closed.")
async def change_state(
    reference: str, body: schemas.StateRequest, agent: Agent, ctx: Context, session: WriteSession
) -> schemas.AgentCase:
    case = await desk.change_state(ctx, session, agent, reference, body.state)
    return await _agent_view(ctx, session, case)


@router.post(
    "/cases/{reference}/identity-checks",
    status_code=status.HTTP_201_CREATED,
    summary="Record the identity checks performed on an MFA-reset requester.",
)
async def record_checks(
    reference: str, body: schemas.ChecksRequest, agent: Agent, ctx: Context, session: WriteSession
) -> schemas.AgentCase:
    await desk.record_identity_checks(ctx, session, agent, reference, [(c.kind, c.note) for c in body.checks])
    case = await desk.desk_case(session, reference)
    return await _agent_view(ctx, session, case)


@router.post(
    "/cases/{reference}/mfa-reset/approve",
    summary="Approve an MFA reset: publishes support.mfa-reset-approved.v1 for identity.",
    description="Needs the agent right, a sign-in with a second factor (acr aal2), the requester's e-mail "
    "confirmed and enough identity checks recorded; the requester is told what happens next.",
)
async def approve_mfa_reset(reference: str, agent: Agent, ctx: Context, session: WriteSession) -> schemas.AgentCase:
    case = await desk.approve_mfa_reset(ctx, session, agent, reference)
    return await _agent_view(ctx, session, case)


@router.post(
    "/cases/{reference}/attachments",
    status_code=status.HTTP_201_CREATED,
    summary="Attach a file as an agent (internal=true keeps it from the customer).",
    openapi_extra=UPLOAD_OPENAPI,
)
async def upload(
    reference: str,
    request: Request,
    agent: Agent,
    ctx: Context,
    session: WriteSession,
    filename: Annotated[str | None, Query(max_length=255)] = None,
    internal: bool = False,
) -> schemas.AttachmentOut:
    content = await read_capped(request, ctx.settings.max_attachment_bytes)
    case = await desk.desk_case(session, reference, for_update=True)
    row = await cases.add_attachment(
        ctx,
        session,
        case,
        content=content,
        filename=filename,
        declared_type=request.headers.get("content-type"),
        uploaded_by_kind="agent",
        uploaded_by=agent.user_id,
        internal=internal,
    )
    return views.attachment(row, f"/desk/cases/{case.reference}")


@router.get(
    "/cases/{reference}/attachments/{attachment_id}",
    summary="Download a file of the case (always as an attachment, never rendered).",
    response_class=Response,
    openapi_extra=DOWNLOAD_OPENAPI,
)
async def download(reference: str, attachment_id: uuid.UUID, reader: DeskReader, session: ReadSession) -> Response:
    case = await desk.desk_case(session, reference)
    row, content = await cases.download(session, case, attachment_id, include_internal=True)
    return as_download(row, content)
