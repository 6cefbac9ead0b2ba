"""The outbox and inbox tables every service carries in its own database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlmodel import Column, Field, SQLModel


def utcnow() -> datetime:
    """Timezone-aware now, for timestamp columns."""
    return datetime.now(UTC)


class OutboxMessage(SQLModel, table=True):
    """An event written in the same transaction as the state change that caused it."""

    __tablename__ = "outbox"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    topic: str
    key: str | None = None
    headers: dict[str, str] = Field(sa_column=Column(sa.JSON, nullable=False))
    payload: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
    attempts: int = 0
    last_error: str | None = None


class InboxMessage(SQLModel, table=True):
    """A consumed event id, inserted with the handler's effect so a redelivery is skipped."""

    __tablename__ = "inbox"

    message_id: str = Field(primary_key=True)
    consumer: str = Field(primary_key=True)
    topic: str
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))


def create_messaging_tables() -> None:
    """Alembic upgrade step creating outbox and inbox; call from a service's first migration."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(), nullable=True),
    )
    # The relay only ever scans unpublished rows; keep that scan tiny.
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["created_at"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("message_id", sa.String(), primary_key=True),
        sa.Column("consumer", sa.String(), primary_key=True),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def drop_messaging_tables() -> None:
    """Alembic downgrade step matching create_messaging_tables."""
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")
