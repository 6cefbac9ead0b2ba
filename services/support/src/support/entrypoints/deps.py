"""FastAPI dependencies: the use-case context, database sessions, and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.auth import Principal, Right, current_principal
from support.domain.errors import Forbidden, Unauthorized
from support.service.cases import Member, Requester, link_holder
from support.service.context import SupportContext


def context(request: Request) -> SupportContext:
    return request.app.state.support


Context = Annotated[SupportContext, Depends(context)]


async def read_session(ctx: Context) -> AsyncIterator[AsyncSession]:
    """A session for reads (no transaction kept open beyond the request)."""
    async with ctx.sessions() as session:
        yield session


async def write_session(ctx: Context) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    async with ctx.sessions() as session, session.begin():
        yield session
    ctx.wake_relay()


# scope="function": the transaction commits before the response is sent, never after it.
ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]
WriteSession = Annotated[AsyncSession, Depends(write_session, scope="function")]

CaseTokenHeader = Annotated[
    str | None,
    Header(
        alias="X-Case-Token",
        description="The token of an e-mailed case link, for requesters who cannot sign in.",
    ),
]


async def requester(request: Request, ctx: Context, reference: str, x_case_token: CaseTokenHeader = None) -> Requester:
    """A signed-in member (Authorization: Bearer) or the holder of a case link (X-Case-Token)."""
    if request.headers.get("authorization"):
        return Member(await current_principal(request))
    if x_case_token:
        async with ctx.sessions() as session:
            return await link_holder(ctx, session, reference, x_case_token)
    raise Unauthorized(
        "sign-in-required",
        "sign in (Authorization: Bearer <token>) or open the case from the link we e-mailed you (X-Case-Token)",
    )


CurrentRequester = Annotated[Requester, Depends(requester)]


async def desk_reader(request: Request) -> Principal:
    """Support agents and operators may read the desk."""
    principal = await current_principal(request)
    if not (principal.has(Right.SUPPORT_AGENT) or principal.has(Right.OPERATOR)):
        raise Forbidden("desk-only", f"the support desk needs the '{Right.SUPPORT_AGENT}' or '{Right.OPERATOR}' right")
    return principal


async def agent(request: Request) -> Principal:
    """Only support agents change cases."""
    principal = await current_principal(request)
    if not principal.has(Right.SUPPORT_AGENT):
        raise Forbidden("agent-only", f"this action needs the '{Right.SUPPORT_AGENT}' right")
    return principal


DeskReader = Annotated[Principal, Depends(desk_reader)]
Agent = Annotated[Principal, Depends(agent)]
