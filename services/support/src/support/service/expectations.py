"""'When to expect an answer': what the case page and the category list tell a customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from support.adapters.tables import SupportCase
from support.domain.business_time import BusinessCalendar
from support.domain.sla import ClockStatus
from support.domain.wording import expectation_text
from support.domain.workflow import CaseState
from support.service import clocks


@dataclass(frozen=True)
class Expectation:
    """A kind of promise, the time it refers to, and the sentence saying it."""

    kind: str
    by: datetime | None
    text: str
    hours: str


def _make(kind: str, locale: str, by: datetime | None, tz: ZoneInfo | None) -> Expectation:
    return Expectation(
        kind=kind, by=by, text=expectation_text(kind, locale, by, tz), hours=expectation_text("hours", locale)
    )


def for_case(
    case: SupportCase,
    calendar: BusinessCalendar,
    now: datetime,
    reopen_window: timedelta,
    *,
    locale: str | None = None,
    tz: ZoneInfo | None = None,
) -> Expectation:
    """What the customer should expect next for this case, in their language."""
    locale = locale or case.locale
    state = CaseState(case.state)
    if case.sla_started_at is None:
        return _make("awaiting_verification", locale, None, tz)
    if state == CaseState.CLOSED:
        return _make("closed", locale, None, tz)
    if state == CaseState.RESOLVED:
        until = (case.resolved_at or now) + reopen_window
        return _make("resolved", locale, until, tz)
    if state == CaseState.WAITING:
        return _make("waiting_on_you", locale, clocks.resume_due(case, calendar, now), tz)
    clock = clocks.first_response_clock(case) if case.first_response_at is None else clocks.resolution_clock(case)
    assert clock is not None
    if clock.status(calendar, now, 0.0) == ClockStatus.BREACHED:
        return _make("overdue", locale, None, tz)
    kind = "first_response" if case.first_response_at is None else "resolution"
    return _make(kind, locale, clock.due_at(calendar), tz)


def for_new_case(
    first_response_target: timedelta, calendar: BusinessCalendar, now: datetime, locale: str, tz: ZoneInfo | None
) -> Expectation:
    """For a case opened now in a category with this first-response target."""
    return _make("first_response", locale, calendar.add(now, first_response_target), tz)
