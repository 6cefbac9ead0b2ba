"""The delivery ledger: one row per logical message, channel and recipient."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from servicekit.messaging_tables import utcnow


class Delivery(SQLModel, table=True):
    """One message to deliver: pending -> sending -> sent | failed | unknown."""

    __tablename__ = "delivery"
    __table_args__ = (sa.UniqueConstraint("idempotency_key", "channel", "recipient", name="uq_delivery_logical"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    idempotency_key: str
    channel: str
    recipient: str
    locale: str
    template: str
    params: dict[str, Any] = Field(sa_column=Column(sa.JSON, nullable=False))
    document_ref: str | None = None
    # None: the template decides whether document_ref is attached (see ATTACHING_TEMPLATES).
    attach_document: bool | None = None
    # Set once sent: whether the document went as an attachment (False: link only).
    document_attached: bool | None = None
    tenant: str | None = None
    # ce_id of the send request that created the row (a repeated request adds no row).
    request_event_id: str | None = None
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    # Set (and committed) just before this attempt is handed to the provider; cleared by each claim.
    # A row left 'sending' by a crash with no hand-over never reached the provider: it is sent again.
    handed_over_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
    # When the final outcome (sent, failed, unknown) was recorded.
    completed_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
