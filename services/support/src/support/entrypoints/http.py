"""The support HTTP API: its routers, and how use-case errors become HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from support.domain.errors import SupportError
from support.entrypoints import cases, desk, help

ROUTERS = (help.router, cases.router, desk.router)


async def support_error(request: Request, exc: Exception) -> JSONResponse:
    """`{"detail": what to do, "code": stable id}` with the error's status."""
    assert isinstance(exc, SupportError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=exc.status, headers=headers)


def install_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(SupportError, support_error)
