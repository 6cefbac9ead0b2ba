"""Requester side of the HTTP API: open a case, confirm the e-mail, follow, write, attach, reopen."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from servicekit.auth import CurrentPrincipal, Right
from support.adapters import repository
from support.domain.phone_hours import zone
from support.entrypoints import schemas, views
from support.entrypoints.deps import Context, CurrentRequester, ReadSession, WriteSession
from support.entrypoints.uploads import DOWNLOAD_OPENAPI, UPLOAD_OPENAPI, as_download, read_capped
from support.service import cases, expectations
from support.service.cases import CaseDraft

router = APIRouter(prefix="/cases", tags=["cases"])

TimeZoneQuery = Annotated[
    str | None, Query(max_length=64, description="IANA time zone to write times in (default GMT), e.g. Europe/Paris.")
]


def _draft(body: schemas.CaseRequest) -> CaseDraft:
    return CaseDraft(
        category=body.category,
        subject=body.subject,
        description=body.description,
        name=body.name,
        email=str(body.email),
        locale=body.locale,
    )


async def _case_page(ctx, session, case, tz: str | None = None) -> schemas.CustomerCase:  # type: ignore[no-untyped-def]
    calendar = await ctx.calendar(session)
    expected = expectations.for_case(case, calendar, ctx.now(), ctx.reopen_window, tz=zone(tz) if tz else None)
    messages = await repository.messages(session, case.id, include_internal=False)
    files = await repository.attachments(session, case.id, include_internal=False)
    return views.customer_case(case, messages, files, expected, ctx.reopen_window)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Open a case as a signed-in member.",
    description="The case reaches the desk at once. For an MFA reset, a confirmation link is also e-mailed: "
    "approval needs proof that the requester reads that mailbox.",
)
async def open_case(
    body: schemas.CaseRequest, principal: CurrentPrincipal, ctx: Context, session: WriteSession
) -> schemas.CustomerCase:
    case = await cases.open_member_case(ctx, session, principal, _draft(body))
    return await _case_page(ctx, session, case)


@router.post(
    "/by-email",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Open a case without signing in (e.g. locked out); confirmed by an e-mailed link.",
    description="Nobody sees the case until the requester opens the link sent to the address given; the link "
    "leads to the portal page that calls POST /cases/{reference}/confirm.",
)
async def open_case_by_email(
    body: schemas.CaseRequest, ctx: Context, session: WriteSession
) -> schemas.EmailCaseAccepted:
    case = await cases.open_email_case(ctx, session, _draft(body))
    calendar = await ctx.calendar(session)
    return schemas.EmailCaseAccepted(
        reference=case.reference,
        state=case.state,
        confirmation_sent_to=case.requester_email,
        expectation=views.expectation(expectations.for_case(case, calendar, ctx.now(), ctx.reopen_window)),
    )


@router.post(
    "/{reference}/confirm",
    summary="Confirm the requester's e-mail address with the token of the link we sent.",
)
async def confirm(
    reference: str,
    ctx: Context,
    session: WriteSession,
    x_case_token: Annotated[str, Header(alias="X-Case-Token", description="The token from the confirmation link.")],
) -> schemas.Confirmed:
    case, access = await cases.confirm_email(ctx, session, reference, x_case_token)
    return schemas.Confirmed(
        reference=case.reference, access_token=access, access_expires_in_days=ctx.settings.access_link_ttl_days
    )


@router.get("", summary="My cases (a company administrator sees every case of the company).")
async def my_cases(
    principal: CurrentPrincipal,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[schemas.CaseSummary]:
    user = None if principal.has(Right.ADMIN) else principal.user_id
    rows = await repository.cases_of_requester(session, principal.company_id, user, limit=limit, offset=offset)
    return [views.case_summary(c) for c in rows]


@router.get(
    "/{reference}",
    summary="A case with its thread, files and when to expect an answer.",
    description="Signed in (Bearer) for members, or with the X-Case-Token of an e-mailed link. Any case the "
    "caller may not see answers 404, whether or not it exists.",
)
async def get_case(
    reference: str, requester: CurrentRequester, ctx: Context, session: ReadSession, tz: TimeZoneQuery = None
) -> schemas.CustomerCase:
    case = await cases.requester_case(session, requester, reference)
    return await _case_page(ctx, session, case, tz)


@router.post("/{reference}/messages", status_code=status.HTTP_201_CREATED, summary="Write to the desk.")
async def post_message(
    reference: str, body: schemas.MessageRequest, requester: CurrentRequester, ctx: Context, session: WriteSession
) -> schemas.CustomerCase:
    case, _ = await cases.customer_message(ctx, session, requester, reference, body.body)
    return await _case_page(ctx, session, case)


@router.post("/{reference}/reopen", summary="Reopen a resolved case (within the reopen window).")
async def reopen(
    reference: str, requester: CurrentRequester, ctx: Context, session: WriteSession
) -> schemas.CustomerCase:
    case = await cases.customer_reopen(ctx, session, requester, reference)
    return await _case_page(ctx, session, case)


@router.post("/{reference}/resolve", summary="Tell us the problem is solved.")
async def resolve(
    reference: str, requester: CurrentRequester, ctx: Context, session: WriteSession
) -> schemas.CustomerCase:
    case = await cases.customer_resolve(ctx, session, requester, reference)
    return await _case_page(ctx, session, case)


@router.post(
    "/{reference}/attachments",
    status_code=status.HTTP_201_CREATED,
    summary="Attach a file (PDF, image, text, CSV or XML), sent as the raw request body.",
    description="The content decides: a file whose bytes are not on the allow-list, or whose name or "
    "Content-Type disagrees with its bytes, is refused (415); an oversize file 413.",
    openapi_extra=UPLOAD_OPENAPI,
)
async def upload(
    reference: str,
    request: Request,
    requester: CurrentRequester,
    ctx: Context,
    session: WriteSession,
    filename: Annotated[str | None, Query(max_length=255, description="The file's name.")] = None,
) -> schemas.AttachmentOut:
    content = await read_capped(request, ctx.settings.max_attachment_bytes)
    row = await cases.customer_attachment(
        ctx,
        session,
        requester,
        reference,
        content=content,
        filename=filename,
        declared_type=request.headers.get("content-type"),
    )
    return views.attachment(row, f"/cases/{reference.strip().upper()}")


@router.get(
    "/{reference}/attachments/{attachment_id}",
    summary="Download a file of the case (always as an attachment).",
    response_class=Response,
    openapi_extra=DOWNLOAD_OPENAPI,
)
async def download(
    reference: str, attachment_id: uuid.UUID, requester: CurrentRequester, session: ReadSession
) -> Response:
    case = await cases.requester_case(session, requester, reference)
    row, content = await cases.download(session, case, attachment_id, include_internal=False)
    return as_download(row, content)
