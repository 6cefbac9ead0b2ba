"""Support tables. Support is mostly CRUD: these SQLModel tables are its model (see README)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Column, Field, SQLModel

from servicekit.messaging_tables import utcnow


def timestamp(*, nullable: bool = True, index: bool = False) -> Any:
    """A timezone-aware timestamp column (a new Column object per field, as SQLAlchemy requires)."""
    return Field(
        default=None,
        sa_column=Column(sa.DateTime(timezone=True), nullable=nullable, index=index),
    )


KB_SEARCH_VECTOR = (
    "CASE WHEN locale = 'fr' THEN "
    "setweight(to_tsvector('support_french'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('support_french'::regconfig, coalesce(keywords, '')), 'B') || "
    "setweight(to_tsvector('support_french'::regconfig, coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('support_french'::regconfig, coalesce(body, '')), 'C') "
    "ELSE "
    "setweight(to_tsvector('support_english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('support_english'::regconfig, coalesce(keywords, '')), 'B') || "
    "setweight(to_tsvector('support_english'::regconfig, coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('support_english'::regconfig, coalesce(body, '')), 'C') END"
)


class KnowledgeArticle(SQLModel, table=True):
    """A help article in one language; `slug` is shared by its translations."""

    __tablename__ = "kb_article"
    __table_args__ = (sa.UniqueConstraint("slug", "locale"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str
    locale: str
    title: str
    body: str = Field(sa_column=Column(sa.Text, nullable=False))
    topic: str = Field(default="invoicing")
    summary: str = Field(default="")
    keywords: str = Field(default="")
    search_vector: str | None = Field(
        default=None,
        sa_column=Column(TSVECTOR, sa.Computed(KB_SEARCH_VECTOR, persisted=True)),
    )


class KbTopic(SQLModel, table=True):
    """A topic grouping articles and tutorials, with its label in each language."""

    __tablename__ = "kb_topic"

    code: str = Field(primary_key=True)
    position: int
    label_fr: str
    label_en: str


class Tutorial(SQLModel, table=True):
    """A step-by-step guide in one language, optionally with a video."""

    __tablename__ = "tutorial"
    __table_args__ = (sa.UniqueConstraint("slug", "locale"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str
    locale: str
    topic: str = Field(foreign_key="kb_topic.code")
    position: int = 0
    title: str
    summary: str
    steps: list[str] = Field(sa_column=Column(sa.JSON, nullable=False))
    video_url: str | None = None


class CaseCategory(SQLModel, table=True):
    """A case category and its SLA targets, in business minutes."""

    __tablename__ = "case_category"

    code: str = Field(primary_key=True)
    position: int
    label_fr: str
    label_en: str
    first_response_minutes: int
    resolution_minutes: int


class SlaHoliday(SQLModel, table=True):
    """A day the desk does not work in one holiday calendar (FR, GB, ...)."""

    __tablename__ = "sla_holiday"

    calendar: str = Field(primary_key=True)
    day: date = Field(sa_column=Column(sa.Date, primary_key=True))
    name: str


class SupportLine(SQLModel, table=True):
    """A local support phone number and when it answers, in the line's own time zone."""

    __tablename__ = "support_line"

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(index=True)
    country_name_fr: str
    country_name_en: str
    phone: str
    languages: list[str] = Field(sa_column=Column(sa.JSON, nullable=False))
    timezone: str
    opens: time = Field(sa_column=Column(sa.Time, nullable=False))
    closes: time = Field(sa_column=Column(sa.Time, nullable=False))
    weekdays: list[int] = Field(sa_column=Column(sa.JSON, nullable=False))
    holiday_calendar: str | None = None


class SupportCase(SQLModel, table=True):
    """A support case with its requester, state and SLA bookkeeping (business seconds)."""

    __tablename__ = "support_case"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    reference: str = Field(unique=True)
    category: str = Field(foreign_key="case_category.code")
    subject: str
    description: str = Field(sa_column=Column(sa.Text, nullable=False))
    state: str = Field(index=True)
    locale: str
    channel: str  # member (signed in) or email (could not sign in, verified by a link)
    company_id: str | None = Field(default=None, index=True)
    requester_user_id: str | None = None
    requester_name: str
    requester_email: str = Field(index=True)
    assignee_id: str | None = None
    email_verified_at: datetime | None = timestamp()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    sla_started_at: datetime | None = timestamp()
    first_response_target_s: int
    resolution_target_s: int
    paused_since: datetime | None = timestamp()
    paused_business_s: int = 0
    first_response_at: datetime | None = timestamp()
    first_response_elapsed_s: int | None = None
    resolved_at: datetime | None = timestamp()
    resolution_elapsed_s: int | None = None
    closed_at: datetime | None = timestamp()
    first_response_breached_at: datetime | None = timestamp()
    resolution_breached_at: datetime | None = timestamp()
    mfa_reset_approved_at: datetime | None = timestamp()
    mfa_reset_approved_by: str | None = None


class CaseMessage(SQLModel, table=True):
    """One message of a case thread; internal notes are for agents only."""

    __tablename__ = "case_message"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="support_case.id", index=True)
    author_kind: str  # customer, agent, system
    author_id: str | None = None
    body: str = Field(sa_column=Column(sa.Text, nullable=False))
    internal: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class CaseAttachment(SQLModel, table=True):
    """What we know of an attached file; its bytes sit in case_attachment_content."""

    __tablename__ = "case_attachment"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="support_case.id", index=True)
    filename: str
    media_type: str  # sniffed from the content, never the declared type
    declared_type: str | None = None
    size_bytes: int
    sha256: str
    uploaded_by_kind: str  # customer or agent
    uploaded_by: str | None = None
    internal: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class CaseAttachmentContent(SQLModel, table=True):
    """The bytes of one attachment, apart so listings never load them."""

    __tablename__ = "case_attachment_content"

    attachment_id: uuid.UUID = Field(foreign_key="case_attachment.id", primary_key=True)
    content: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))


class CaseIdentityCheck(SQLModel, table=True):
    """An identity check recorded on an MFA-reset case before approval."""

    __tablename__ = "case_identity_check"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="support_case.id", index=True)
    kind: str
    note: str
    recorded_by: str  # agent user id, or "system" for the e-mail link
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class CaseToken(SQLModel, table=True):
    """A secret sent by e-mail: `verify` confirms the address once, `access` opens the case for a while."""

    __tablename__ = "case_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="support_case.id", index=True)
    purpose: str
    token_hash: str = Field(unique=True)  # SHA-256 hex: a database leak gives no working link
    expires_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    used_at: datetime | None = timestamp()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))
