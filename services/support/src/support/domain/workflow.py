"""The case workflow: states, who may move a case where, and the MFA-reset approval rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from support.domain.errors import Conflict


class CaseState(StrEnum):
    """new → open → waiting on customer → resolved → closed."""

    NEW = "new"
    OPEN = "open"
    WAITING = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Category(StrEnum):
    """What a case is about; targets per category live in the `case_category` table."""

    LOGIN = "login"
    MFA_RESET = "mfa-reset"
    INVOICING = "invoicing"
    BILLING = "billing"
    CONNECTIONS = "connections"
    OTHER = "other"


class IdentityCheck(StrEnum):
    """Checks an agent can record before approving an MFA reset."""

    EMAIL_CONTROL = "email-control"  # recorded by the service when the requester confirms the e-mail link
    CALLBACK_KNOWN_PHONE = "callback-known-phone"
    COMPANY_ADMIN_CONFIRMATION = "company-admin-confirmation"
    ACCOUNT_DETAILS = "account-details"
    IDENTITY_DOCUMENT = "identity-document"


ACTIVE_STATES = frozenset({CaseState.NEW, CaseState.OPEN, CaseState.WAITING})
# While the customer has the ball, or the case is done, business time does not count.
PAUSED_STATES = frozenset({CaseState.WAITING, CaseState.RESOLVED, CaseState.CLOSED})

AGENT_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.NEW: frozenset({CaseState.OPEN, CaseState.WAITING, CaseState.RESOLVED}),
    CaseState.OPEN: frozenset({CaseState.WAITING, CaseState.RESOLVED}),
    CaseState.WAITING: frozenset({CaseState.OPEN, CaseState.RESOLVED}),
    CaseState.RESOLVED: frozenset({CaseState.OPEN, CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
}

DESCRIPTION_MIN = 30
DESCRIPTION_MAX = 5000
SUBJECT_MIN = 5
SUBJECT_MAX = 150
MESSAGE_MAX = 5000


def format_reference(year: int, number: int) -> str:
    """SUP-2026-000123: unique, readable over the phone, not gap-free."""
    return f"SUP-{year}-{number:06d}"


def check_agent_transition(current: CaseState, target: CaseState) -> None:
    """Raise Conflict, naming the allowed moves, when an agent may not go from `current` to `target`."""
    allowed = AGENT_TRANSITIONS[current]
    if target not in allowed:
        moves = ", ".join(sorted(allowed)) or "none (a closed case is final)"
        raise Conflict(
            "transition-not-allowed",
            f"a case in state '{current}' cannot move to '{target}'; allowed: {moves}",
        )


def reopen_deadline(resolved_at: datetime, window: timedelta) -> datetime:
    """Until when the customer can reopen a resolved case."""
    return resolved_at + window


def customer_can_reopen(state: CaseState, resolved_at: datetime | None, window: timedelta, now: datetime) -> bool:
    """A resolved case reopens within the window; a closed one never does."""
    return state == CaseState.RESOLVED and resolved_at is not None and now <= reopen_deadline(resolved_at, window)


def state_after_customer_message(state: CaseState, resolved_at: datetime | None, window: timedelta, now: datetime):
    """Where a customer's message takes the case: back to the desk, or refused when it is closed."""
    if state == CaseState.WAITING:
        return CaseState.OPEN
    if state == CaseState.RESOLVED:
        if customer_can_reopen(state, resolved_at, window, now):
            return CaseState.OPEN
        raise Conflict("case-closed", "this case can no longer be reopened; open a new case and quote its reference")
    if state == CaseState.CLOSED:
        raise Conflict("case-closed", "this case is closed; open a new case and quote its reference")
    return state


@dataclass(frozen=True)
class RecordedCheck:
    """One identity check as recorded on a case."""

    kind: IdentityCheck
    note: str
    recorded_by: str
    recorded_at: datetime


def check_mfa_reset_approvable(
    *,
    category: str,
    state: CaseState,
    email_verified: bool,
    already_approved: bool,
    checks: Iterable[RecordedCheck],
    minimum_agent_checks: int,
) -> None:
    """Raise Conflict with what is missing unless an agent may approve the MFA reset now."""
    if category != Category.MFA_RESET:
        raise Conflict(
            "not-an-mfa-reset", f"only '{Category.MFA_RESET}' cases can be approved, this one is '{category}'"
        )
    if already_approved:
        raise Conflict("already-approved", "this MFA reset was already approved")
    if state not in ACTIVE_STATES:
        raise Conflict("case-not-active", f"a case in state '{state}' cannot be approved; reopen it first")
    if not email_verified:
        raise Conflict(
            "email-not-verified",
            "the requester has not confirmed the e-mail address yet (link sent when the case was opened)",
        )
    agent_kinds = {c.kind for c in checks if c.kind != IdentityCheck.EMAIL_CONTROL}
    if len(agent_kinds) < minimum_agent_checks:
        raise Conflict(
            "identity-checks-missing",
            f"record at least {minimum_agent_checks} different identity checks before approving "
            f"(recorded: {', '.join(sorted(agent_kinds)) or 'none'}; "
            f"possible: {', '.join(k for k in IdentityCheck if k != IdentityCheck.EMAIL_CONTROL)})",
        )
