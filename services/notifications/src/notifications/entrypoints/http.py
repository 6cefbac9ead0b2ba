"""Notifications HTTP API for operators: the delivery ledger, behind the platform:operator right."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from notifications.adapters.tables import Delivery
from notifications.service import queries
from servicekit.auth import Principal, Right, require_right

log = logging.getLogger(__name__)

router = APIRouter(prefix="/deliveries", tags=["deliveries"])
Operator = Annotated[Principal, Depends(require_right(Right.OPERATOR))]
RIGHT_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "No access token, or an invalid one."},
    403: {"description": "The token does not carry the platform:operator right."},
}


class DeliveryView(BaseModel):
    """One ledger row as operators see it: no message parameters (they may hold links with tokens or codes)."""

    id: uuid.UUID = Field(description="Ledger id; also the local part of the e-mail's Message-ID.")
    idempotency_key: str = Field(description="Key of the request; the same key is one logical message.")
    request_event_id: str | None = Field(description="ce_id of the send request that created the row.")
    channel: str = Field(description="email or sms.")
    recipient: str = Field(description="E-mail address, or phone number in E.164.")
    template: str = Field(description="Template id.")
    locale: str = Field(description="Language asked for.")
    tenant: str | None = Field(description="Company the message was sent for.")
    status: str = Field(description="pending, sending, sent, failed or unknown.")
    attempts: int = Field(description="Delivery attempts made so far.")
    last_error: str | None = Field(description="The relay's or provider's last answer when it was not a success.")
    next_attempt_at: datetime = Field(description="When a pending row is tried next.")
    document_ref: str | None = Field(description="Signing archive path of the document, if any.")
    attach_document: bool | None = Field(description="The request's choice (null: the template decides).")
    document_attached: bool | None = Field(description="Whether the document went attached (false: link only).")
    created_at: datetime = Field(description="When the request was recorded.")
    updated_at: datetime = Field(description="Last change of the row.")
    completed_at: datetime | None = Field(description="When the final outcome was recorded.")

    @classmethod
    def of(cls, row: Delivery) -> DeliveryView:
        return cls.model_validate(row, from_attributes=True)


class DeliveryList(BaseModel):
    """Deliveries matching a look-up, newest first."""

    deliveries: list[DeliveryView] = Field(description="Matching ledger rows, newest first.")
    limit: int = Field(description="The most rows returned; narrow the look-up when this many came back.")


@router.get(
    "",
    summary="Deliveries for a recipient, an idempotency key or a request event id (operators only).",
    response_model=DeliveryList,
    responses={**RIGHT_RESPONSES, 422: {"description": "No filter given, or a bad one."}},
)
async def find_deliveries(
    request: Request,
    operator: Operator,
    recipient: Annotated[
        str | None, Query(max_length=320, description="E-mail address (any case) or phone number (any format).")
    ] = None,
    idempotency_key: Annotated[str | None, Query(max_length=500, description="The request's idempotency key.")] = None,
    event_id: Annotated[str | None, Query(max_length=200, description="ce_id of the send request event.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Most rows to return.")] = 100,
) -> DeliveryList:
    if not any((recipient, idempotency_key, event_id)):
        raise HTTPException(422, "give at least one of recipient, idempotency_key or event_id")
    settings = request.app.state.runtime.settings
    async with request.app.state.runtime.sessions() as session:
        rows = await queries.find_deliveries(
            session,
            recipient=recipient,
            idempotency_key=idempotency_key,
            event_id=event_id,
            default_region=getattr(settings, "sms_default_region", "FR"),
            limit=limit,
        )
    # Who looked up whose messages: recipients are personal data (the values stay out of the log).
    given = {"recipient": recipient, "idempotency_key": idempotency_key, "event_id": event_id}
    filters = [name for name, value in given.items() if value]
    log.info("operator %s looked up deliveries by %s: %d row(s)", operator.user_id, "+".join(filters), len(rows))
    return DeliveryList(deliveries=[DeliveryView.of(row) for row in rows], limit=limit)


@router.get(
    "/summary",
    summary="How many deliveries are in each state, per channel (operators only).",
    responses=RIGHT_RESPONSES,
)
async def summary(request: Request, operator: Operator) -> dict[str, dict[str, int]]:
    async with request.app.state.runtime.sessions() as session:
        return await queries.count_by_state(session)
