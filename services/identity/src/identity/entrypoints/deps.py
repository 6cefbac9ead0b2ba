"""FastAPI plumbing of the identity API: the context, the client address, the caller, the error shape."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from identity.domain.errors import ApiError, NotAuthenticated
from identity.entrypoints.schemas import ErrorBody
from identity.service.context import Client, Context
from identity.service.sessions import Caller, authenticate

ERRORS: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "Invalid or expired link token.",
        401: "Not signed in, wrong credentials or code.",
        403: "Missing right, or a recent two-factor sign-in is needed.",
        404: "No such object in your company.",
        409: "The action conflicts with the current state.",
        422: "A field is invalid; `field` names it.",
        429: "Too many attempts; `retry_after_s` says how long to wait.",
    }.items()
}


def context(request: Request) -> Context:
    return request.app.state.identity


def client(request: Request) -> Client:
    """The caller's address: the peer, or the right-most X-Forwarded-For entry when the peer is our gateway."""
    ctx: Context = request.app.state.identity
    peer = request.client.host if request.client else "unknown"
    address = peer
    if peer in ctx.settings.trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.split(",")[-1].strip() if forwarded else ""
        try:
            address = str(ipaddress.ip_address(last)) if last else peer
        except ValueError:
            address = peer
    agent = request.headers.get("user-agent")
    return Client(ip=address, user_agent=agent[:300] if agent else None)


async def caller(request: Request) -> Caller:
    """The signed-in user; 401 without a valid token of a live session, 403 for a disabled user."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("Send your access token: Authorization: Bearer <token>.", code="not_authenticated")
    return await authenticate(context(request), token.strip())


Ctx = Annotated[Context, Depends(context)]
ClientInfo = Annotated[Client, Depends(client)]
CallerDep = Annotated[Caller, Depends(caller)]


def error_response(exc: ApiError) -> JSONResponse:
    body: dict = {"error": exc.code, "detail": exc.detail}
    if exc.field:
        body["field"] = exc.field
    if exc.retry_after_s is not None:
        body["retry_after_s"] = exc.retry_after_s
    body.update(exc.extra)
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None else None
    if exc.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """ApiError and request validation errors both answer {error, detail, field}."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    async def on_invalid_request(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body") or "body",
                "detail": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors()
        ]
        first = problems[0] if problems else {"field": "body", "detail": "invalid request"}
        return JSONResponse(
            {
                "error": "invalid_input",
                "detail": f"{first['field']}: {first['detail']}",
                "field": first["field"],
                "errors": problems,
            },
            status_code=422,
        )

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
