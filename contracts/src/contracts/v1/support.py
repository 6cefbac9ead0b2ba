"""Support events: cases opened and moved through their states, approved MFA resets."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field

from contracts.v1.base import Event

CaseState = Literal["new", "open", "waiting_on_customer", "resolved", "closed"]


class MfaResetApproved(Event):
    """An agent verified the requester's identity and approved removing their second factors."""

    case_id: str = Field(description="Support case id.")
    case_reference: str = Field(description="Human-readable case reference, e.g. SUP-2026-000123.")
    email: EmailStr = Field(description="Login e-mail of the user whose factors are reset.")
    user_id: str | None = Field(default=None, description="Identity user id, when the case was opened logged in.")
    approved_by: str = Field(description="User id of the approving agent.")
    identity_checks: list[str] = Field(description="Checks the agent performed, as recorded on the case.")
    approved_at: datetime = Field(description="When the approval was given.")
    company_id: str | None = Field(
        default=None, description="Company of the requester, when the case was opened logged in."
    )
    locale: Literal["fr", "en"] | None = Field(
        default=None, description="Language the requester wrote in, for any message identity sends them."
    )


class CaseOpened(Event):
    """A support case reached the desk (at once for a signed-in member, after the e-mail link otherwise)."""

    case_id: str = Field(description="Support case id.")
    reference: str = Field(description="Human-readable case reference, e.g. SUP-2026-000123.")
    category: str = Field(description="Category code: login, mfa-reset, invoicing, billing, connections, other.")
    channel: Literal["member", "email"] = Field(
        description="member: opened signed in; email: opened by someone who could not sign in."
    )
    company_id: str | None = Field(default=None, description="Company of the requester, when signed in.")
    locale: Literal["fr", "en"] = Field(description="Language of the requester.")
    opened_at: datetime = Field(description="When the SLA clocks started.")
    first_response_due_at: datetime = Field(description="First-response deadline, in business time.")
    resolution_due_at: datetime = Field(description="Resolution deadline, in business time (before any pause).")


class CaseStateChanged(Event):
    """A case moved from one state to another."""

    case_id: str = Field(description="Support case id.")
    reference: str = Field(description="Human-readable case reference.")
    category: str = Field(description="Category code.")
    company_id: str | None = Field(default=None, description="Company of the requester, when known.")
    from_state: CaseState = Field(description="State before the change.")
    to_state: CaseState = Field(description="State after the change.")
    changed_by: Literal["customer", "agent", "system"] = Field(description="Who made the change.")
    changed_at: datetime = Field(description="When it changed.")
