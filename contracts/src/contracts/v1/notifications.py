"""Notification command and delivery outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from contracts.v1.base import Event

Channel = Literal["email", "sms"]
DeliveryOutcome = Literal["sent", "failed", "unknown"]


class SendRequested(Event):
    """Command: deliver one templated message to one recipient."""

    idempotency_key: str = Field(description="Same key = same logical message; it is delivered once.")
    channel: Channel = Field(description="email or sms.")
    recipient: str = Field(description="E-mail address or E.164 phone number.")
    locale: Literal["fr", "en"] = Field(default="fr", description="Language of the message.")
    template: str = Field(description="Template id, e.g. invoice-delivered.")
    params: dict[str, Any] = Field(default_factory=dict, description="Values the template needs.")
    document_ref: str | None = Field(default=None, description="Signing archive path of a document to link or attach.")
    tenant: str | None = Field(default=None, description="Company the message is sent for.")
    attach_document: bool | None = Field(
        default=None,
        description=(
            "E-mail only: attach the document_ref document (true), never attach it (false), or let the template "
            "decide (absent). When it cannot be attached (too large, unavailable) the message carries the link only."
        ),
    )


class DeliveryStatus(Event):
    """The outcome of delivering one message."""

    ledger_id: str = Field(description="Delivery ledger id (also the Message-ID's local part).")
    idempotency_key: str = Field(description="Key of the originating request.")
    channel: Channel = Field(description="email or sms.")
    template: str = Field(description="Template id.")
    outcome: DeliveryOutcome = Field(description="sent, failed or unknown.")
    attempts: int = Field(description="Attempts made.")
    detail: str | None = Field(default=None, description="Provider answer or error, without secrets.")
    at: datetime = Field(description="When the outcome was recorded.")
    request_event_id: str | None = Field(
        default=None, description="ce_id of the send request that created this delivery."
    )
    document_attached: bool | None = Field(
        default=None,
        description="true: the requested document went as an attachment; false: link only; absent: none was asked.",
    )
