"""Request and response bodies of the support HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from support.domain.workflow import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    MESSAGE_MAX,
    SUBJECT_MAX,
    SUBJECT_MIN,
    CaseState,
    IdentityCheck,
)

Locale = Literal["fr", "en"]


def _stripped(value: str) -> str:
    return value.strip()


class CaseRequest(BaseModel):
    """What a requester fills in to open a case."""

    category: str = Field(
        min_length=1,
        max_length=40,
        description="Category code from GET /categories: login, mfa-reset, invoicing, billing, connections, other.",
    )
    subject: str = Field(min_length=SUBJECT_MIN, max_length=SUBJECT_MAX, description="A short title.")
    description: str = Field(
        min_length=DESCRIPTION_MIN,
        max_length=DESCRIPTION_MAX,
        description=f"The problem in detail ({DESCRIPTION_MIN}-{DESCRIPTION_MAX} characters): what you did, "
        "what you saw, references of the invoices concerned.",
    )
    name: str = Field(min_length=1, max_length=120, description="How we should address you.")
    email: EmailStr = Field(
        description="Where we write to you. For an MFA reset, the address you sign in with: we send a "
        "confirmation link to it."
    )
    locale: Locale = Field(default="fr", description="Language of our replies and e-mails.")

    _strip = field_validator("subject", "description", "name", mode="after")(_stripped)

    @field_validator("description", mode="after")
    @classmethod
    def _long_enough_once_trimmed(cls, value: str) -> str:
        if len(value) < DESCRIPTION_MIN:
            raise ValueError(f"describe the problem in at least {DESCRIPTION_MIN} characters")
        return value

    @field_validator("subject", mode="after")
    @classmethod
    def _subject_not_blank(cls, value: str) -> str:
        if len(value) < SUBJECT_MIN:
            raise ValueError(f"give a subject of at least {SUBJECT_MIN} characters")
        return value


class EmailCaseAccepted(BaseModel):
    """A case opened without signing in: it waits for the e-mail confirmation."""

    reference: str = Field(description="Case reference, e.g. SUP-2026-000123.")
    state: str = Field(description="Always 'new' here.")
    confirmation_sent_to: str = Field(description="The address the confirmation link went to.")
    expectation: Expectation


class Confirmed(BaseModel):
    """The e-mail address is confirmed; the token opens the case page from now on."""

    reference: str
    access_token: str = Field(description="Send it as X-Case-Token to read and add to the case.")
    access_expires_in_days: int


class MessageRequest(BaseModel):
    """A message on a case."""

    body: str = Field(min_length=1, max_length=MESSAGE_MAX, description="The message (plain text).")

    _strip = field_validator("body", mode="after")(_stripped)


class AgentMessageRequest(MessageRequest):
    """An agent's reply or internal note."""

    internal: bool = Field(default=False, description="True: an internal note, never shown to the customer.")
    then: CaseState | None = Field(
        default=None, description="Move the case afterwards, e.g. waiting_on_customer or resolved."
    )


class StateRequest(BaseModel):
    """Move a case."""

    state: CaseState = Field(description="open, waiting_on_customer, resolved or closed.")


class AssignRequest(BaseModel):
    """Who works on the case."""

    assignee_id: str | None = Field(
        default=None, description="Agent user id; omit to take the case yourself, null with unassign=true to release."
    )
    unassign: bool = Field(default=False, description="Release the case (nobody assigned).")


class CheckEntry(BaseModel):
    """One identity check performed."""

    kind: IdentityCheck = Field(description="Which check.")
    note: str = Field(
        min_length=5,
        max_length=500,
        description="What was checked and the outcome (never a password, code or document number).",
    )


class ChecksRequest(BaseModel):
    """Identity checks performed on an MFA-reset requester."""

    checks: list[CheckEntry] = Field(min_length=1, max_length=10)


class Expectation(BaseModel):
    """When the customer can expect something, in words and as a time."""

    kind: str = Field(
        description="awaiting_verification, first_response, resolution, overdue, waiting_on_you, resolved, closed."
    )
    by: datetime | None = Field(default=None, description="The time it refers to (UTC), when there is one.")
    text: str = Field(description="The sentence to show, in the case's language.")
    hours: str = Field(description="The desk's opening hours, in words.")


class MessageOut(BaseModel):
    """A message of the thread."""

    id: uuid.UUID
    author: Literal["customer", "agent", "system"]
    body: str
    internal: bool = Field(description="Internal note (only agents ever see these).")
    created_at: datetime


class AttachmentOut(BaseModel):
    """A file on the case (download it from its `download_path`)."""

    id: uuid.UUID
    filename: str
    media_type: str = Field(description="Type found in the content (downloads are always octet-stream).")
    size_bytes: int
    sha256: str
    uploaded_by: Literal["customer", "agent"]
    internal: bool
    created_at: datetime
    download_path: str


class CustomerCase(BaseModel):
    """A case as its requester sees it."""

    reference: str
    category: str
    subject: str
    description: str
    state: str
    locale: str
    created_at: datetime
    updated_at: datetime
    email_confirmed: bool
    expectation: Expectation
    reopen_until: datetime | None = Field(description="Until when a resolved case can be reopened.")
    mfa_reset_approved_at: datetime | None
    messages: list[MessageOut]
    attachments: list[AttachmentOut]


class CaseSummary(BaseModel):
    """A case in the requester's list."""

    reference: str
    category: str
    subject: str
    state: str
    created_at: datetime
    updated_at: datetime


class ClockOut(BaseModel):
    """One SLA clock."""

    status: str = Field(description="on_track, at_risk, breached, paused, met or missed.")
    target_business_minutes: int
    due_at: datetime | None = Field(description="Deadline if the clock keeps running; null while paused or done.")
    remaining_business_minutes: int = Field(description="Negative once breached.")
    breached_at: datetime | None


class SlaOut(BaseModel):
    """Both clocks and the overall standing."""

    risk: str | None = Field(description="Worst clock status: breached, missed, at_risk, on_track, paused, met.")
    first_response: ClockOut | None
    resolution: ClockOut | None


class QueueItem(BaseModel):
    """A case in the agent queue."""

    reference: str
    category: str
    subject: str
    state: str
    channel: str
    company_id: str | None
    requester_name: str
    assignee_id: str | None
    created_at: datetime
    updated_at: datetime
    sla: SlaOut


class CheckOut(BaseModel):
    """A recorded identity check."""

    kind: str
    note: str
    recorded_by: str
    recorded_at: datetime


class AgentCase(QueueItem):
    """A case as agents see it: everything, internal notes included."""

    description: str
    locale: str
    requester_email: str
    requester_user_id: str | None
    email_confirmed_at: datetime | None
    mfa_reset_approved_at: datetime | None
    mfa_reset_approved_by: str | None
    identity_checks: list[CheckOut]
    messages: list[MessageOut]
    attachments: list[AttachmentOut]
    expectation: Expectation


class CategoryOut(BaseModel):
    """A case category with its targets and, for a case opened now, when to expect an answer."""

    code: str
    label: str
    first_response_business_hours: float
    resolution_business_hours: float
    expectation: Expectation


class ArticleOut(BaseModel):
    """A knowledge-base article."""

    slug: str
    locale: str
    topic: str
    title: str
    summary: str
    body: str


class SearchHit(ArticleOut):
    """An article found by a search, with its relevance."""

    rank: float = Field(description="ts_rank of the article for the query (higher is better).")


class TopicOut(BaseModel):
    """A topic with its label."""

    code: str
    label: str


class TutorialOut(BaseModel):
    """A step-by-step tutorial."""

    slug: str
    locale: str
    topic: str
    title: str
    summary: str
    steps: list[str]
    video_url: str | None


class TutorialTopic(BaseModel):
    """Tutorials of one topic."""

    topic: TopicOut
    tutorials: list[TutorialOut]


class OpeningOut(BaseModel):
    """One opening period of a line in the caller's time zone."""

    opens_at: datetime
    closes_at: datetime


class SupportLineOut(BaseModel):
    """A local support number and when it answers, in the caller's time zone."""

    country: str
    country_name: str
    phone: str
    languages: list[str]
    line_time_zone: str
    hours_in_line_time_zone: str = Field(description="e.g. 09:00-18:00, Monday to Friday.")
    caller_time_zone: str
    open_now: bool
    next_openings: list[OpeningOut] = Field(description="The coming opening periods, in the caller's time zone.")


class HolidayOut(BaseModel):
    """A day the desk is closed."""

    day: str
    calendar: str
    name: str


EmailCaseAccepted.model_rebuild()
