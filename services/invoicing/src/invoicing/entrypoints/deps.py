"""What every invoicing endpoint depends on: a session, the caller with their rights, the language, the errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from invoicing.adapters.tables import PartyRecord
from invoicing.domain.errors import InvalidInvoice, InvoicingError, StepUpRequired
from invoicing.domain.findings import ValidationReport
from invoicing.service.context import Context
from servicekit.auth import CurrentPrincipal, Principal
from servicekit.http import DbSession

Session = DbSession


def context(request: Request) -> Context:
    return request.app.state.invoicing_context


Ctx = Annotated[Context, Depends(context)]


def wake_relay(request: Request) -> None:
    """After a commit that wrote outbox rows: publish now rather than at the next poll."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        runtime.relay.wake()


def require_any(*rights: str):  # type: ignore[no-untyped-def]
    """The caller, if the token carries one of `rights`; 403 naming them otherwise."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not any(principal.has(right) for right in rights):
            names = "' or '".join(rights)
            raise HTTPException(403, f"this action needs the '{names}' right")
        return principal

    return dependency


async def locale(request: Request, principal: CurrentPrincipal) -> str:
    """fr or en: the Accept-Language header first, then the company's language, else English."""
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in ("fr", "en"):
            return tag
    # A session of its own: the endpoint's session must not have begun a transaction yet.
    async with request.app.state.runtime.sessions() as db:
        party = await db.get(PartyRecord, principal.company_id)
    return party.locale if party is not None and party.locale in ("fr", "en") else "en"


Locale = Annotated[str, Depends(locale)]


def localized_report(report: ValidationReport | dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """A stored or fresh report with each finding's message in the reader's language (both kept)."""
    if report is None:
        return None
    data = report.as_dict() if isinstance(report, ValidationReport) else report
    return {
        "valid": data["valid"],
        "findings": [
            {**finding, "message": finding["messages"].get(lang) or finding["messages"].get("en")}
            for finding in data["findings"]
        ],
    }


def install_error_handlers(app: FastAPI) -> None:
    """Use-case errors become JSON answers with a stable code and what to do."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InvoicingError)
        body: dict[str, Any] = {"detail": exc.detail, "code": exc.code}
        headers: dict[str, str] = {}
        for key, value in exc.extra.items():
            if key == "report":
                lang = request.headers.get("accept-language", "en")[:2].lower()
                body["validation_report"] = localized_report(value, lang if lang in ("fr", "en") else "en")
            else:
                body[key] = value
        if isinstance(exc, StepUpRequired):
            headers["WWW-Authenticate"] = (
                f'Bearer error="insufficient_user_authentication", error_description="{exc.detail}", '
                f'acr_values="{exc.extra.get("acr_values", "aal2")}", max_age={exc.extra.get("max_age", 0)}'
            )
        if isinstance(exc, InvalidInvoice) and "validation_report" not in body:
            body["validation_report"] = None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    app.add_exception_handler(InvoicingError, handle)
