"""Support events consumed by other services."""

from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr, Field

from contracts.v1.base import Event


class MfaResetApproved(Event):
    """An agent verified the requester's identity and approved removing their second factors."""

    case_id: str = Field(description="Support case id.")
    case_reference: str = Field(description="Human-readable case reference, e.g. SUP-2026-000123.")
    email: EmailStr = Field(description="Login e-mail of the user whose factors are reset.")
    user_id: str | None = Field(default=None, description="Identity user id, when the case was opened logged in.")
    approved_by: str = Field(description="User id of the approving agent.")
    identity_checks: list[str] = Field(description="Checks the agent performed, as recorded on the case.")
    approved_at: datetime = Field(description="When the approval was given.")
