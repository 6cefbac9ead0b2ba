"""Case workflow rules: allowed moves, reopening, and what an MFA reset needs before approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from support.domain.errors import Conflict
from support.domain.workflow import (
    AGENT_TRANSITIONS,
    CaseState,
    IdentityCheck,
    RecordedCheck,
    check_agent_transition,
    check_mfa_reset_approvable,
    format_reference,
    state_after_customer_message,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
WINDOW = timedelta(days=14)


def check(kind: IdentityCheck) -> RecordedCheck:
    return RecordedCheck(kind, "done", "agent-1", NOW)


def approvable(**overrides):  # type: ignore[no-untyped-def]
    arguments = {
        "category": "mfa-reset",
        "state": CaseState.OPEN,
        "email_verified": True,
        "already_approved": False,
        "checks": [
            check(IdentityCheck.EMAIL_CONTROL),
            check(IdentityCheck.CALLBACK_KNOWN_PHONE),
            check(IdentityCheck.COMPANY_ADMIN_CONFIRMATION),
        ],
        "minimum_agent_checks": 2,
    }
    arguments.update(overrides)
    return check_mfa_reset_approvable(**arguments)


def test_references_are_readable_and_padded():
    assert format_reference(2026, 123) == "SUP-2026-000123"
    assert format_reference(2027, 1234567) == "SUP-2027-1234567"


def test_the_workflow_goes_new_open_waiting_resolved_closed_and_closed_is_final():
    check_agent_transition(CaseState.NEW, CaseState.OPEN)
    check_agent_transition(CaseState.OPEN, CaseState.WAITING)
    check_agent_transition(CaseState.WAITING, CaseState.RESOLVED)
    check_agent_transition(CaseState.RESOLVED, CaseState.CLOSED)
    check_agent_transition(CaseState.RESOLVED, CaseState.OPEN)
    assert AGENT_TRANSITIONS[CaseState.CLOSED] == frozenset()
    with pytest.raises(Conflict, match="closed case is final"):
        check_agent_transition(CaseState.CLOSED, CaseState.OPEN)
    with pytest.raises(Conflict, match="allowed: closed, open"):
        check_agent_transition(CaseState.RESOLVED, CaseState.WAITING)


def test_a_customer_message_brings_a_waiting_case_back_and_reopens_a_recently_resolved_one():
    assert state_after_customer_message(CaseState.WAITING, None, WINDOW, NOW) == CaseState.OPEN
    assert state_after_customer_message(CaseState.NEW, None, WINDOW, NOW) == CaseState.NEW
    assert state_after_customer_message(CaseState.RESOLVED, NOW - timedelta(days=13), WINDOW, NOW) == CaseState.OPEN


def test_a_customer_message_cannot_reopen_after_the_window_or_a_closed_case():
    with pytest.raises(Conflict, match="no longer be reopened"):
        state_after_customer_message(CaseState.RESOLVED, NOW - timedelta(days=15), WINDOW, NOW)
    with pytest.raises(Conflict, match="closed"):
        state_after_customer_message(CaseState.CLOSED, NOW - timedelta(days=1), WINDOW, NOW)


def test_an_mfa_reset_with_a_confirmed_email_and_two_agent_checks_can_be_approved():
    approvable()


def test_an_mfa_reset_needs_checks_recorded_by_an_agent_besides_the_email_link():
    with pytest.raises(Conflict, match="at least 2 different identity checks") as refused:
        approvable(checks=[check(IdentityCheck.EMAIL_CONTROL), check(IdentityCheck.ACCOUNT_DETAILS)])
    assert refused.value.code == "identity-checks-missing"
    with pytest.raises(Conflict, match="recorded: none"):
        approvable(checks=[])
    with pytest.raises(Conflict, match=r"\(recorded: account-details;"):
        approvable(checks=[check(IdentityCheck.ACCOUNT_DETAILS), check(IdentityCheck.ACCOUNT_DETAILS)])


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"category": "login"}, "not-an-mfa-reset"),
        ({"email_verified": False}, "email-not-verified"),
        ({"already_approved": True}, "already-approved"),
        ({"state": CaseState.CLOSED}, "case-not-active"),
        ({"state": CaseState.RESOLVED}, "case-not-active"),
    ],
)
def test_an_mfa_reset_is_not_approvable_outside_its_conditions(overrides, code):
    with pytest.raises(Conflict) as refused:
        approvable(**overrides)
    assert refused.value.code == code
