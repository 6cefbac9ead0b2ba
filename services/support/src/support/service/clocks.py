"""SLA bookkeeping on a case row: start, pause, resume, stop the clocks, and read where they stand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from support.adapters.tables import SupportCase
from support.domain.business_time import BusinessCalendar
from support.domain.sla import ClockStatus, SlaClock, worst
from support.domain.workflow import PAUSED_STATES, CaseState


def _seconds(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def first_response_clock(case: SupportCase) -> SlaClock | None:
    """The first-response clock, once the case reached the desk."""
    if case.sla_started_at is None:
        return None
    return SlaClock(
        started_at=case.sla_started_at,
        target=timedelta(seconds=case.first_response_target_s),
        paused_total=timedelta(seconds=case.paused_business_s),
        paused_since=case.paused_since,
        completed_after=_seconds(case.first_response_elapsed_s),
    )


def resolution_clock(case: SupportCase) -> SlaClock | None:
    """The resolution clock, once the case reached the desk."""
    if case.sla_started_at is None:
        return None
    return SlaClock(
        started_at=case.sla_started_at,
        target=timedelta(seconds=case.resolution_target_s),
        paused_total=timedelta(seconds=case.paused_business_s),
        paused_since=case.paused_since,
        completed_after=_seconds(case.resolution_elapsed_s),
    )


def start(case: SupportCase, calendar: BusinessCalendar, now: datetime) -> None:
    """The case reached the desk: both clocks start now."""
    case.sla_started_at = now
    case.paused_since = None
    case.paused_business_s = 0


def _elapsed_s(clock: SlaClock, calendar: BusinessCalendar, now: datetime) -> int:
    return int(clock.elapsed(calendar, now).total_seconds())


def move(case: SupportCase, target: CaseState, calendar: BusinessCalendar, now: datetime) -> None:
    """Apply the clock effects of a state change (the caller checked the transition is allowed)."""
    was_paused = case.paused_since is not None
    will_pause = target in PAUSED_STATES
    if target in (CaseState.RESOLVED, CaseState.CLOSED) and case.resolution_elapsed_s is None:
        clock = resolution_clock(case)
        if clock is not None:
            case.resolution_elapsed_s = _elapsed_s(clock, calendar, now)
        case.resolved_at = case.resolved_at or now
    if target == CaseState.CLOSED:
        case.closed_at = now
    if target in (CaseState.OPEN, CaseState.WAITING, CaseState.NEW):
        # Reopened: resolution counts again from where it stopped.
        case.resolution_elapsed_s = None
        case.resolved_at = None
    if was_paused and not will_pause and case.paused_since is not None:
        case.paused_business_s += int(calendar.between(case.paused_since, now).total_seconds())
        case.paused_since = None
    elif will_pause and not was_paused and case.sla_started_at is not None:
        case.paused_since = now
    case.state = target


def record_first_response(case: SupportCase, calendar: BusinessCalendar, now: datetime) -> bool:
    """Stop the first-response clock at the first public reply; True if this was it."""
    if case.first_response_at is not None:
        return False
    clock = first_response_clock(case)
    case.first_response_at = now
    if clock is not None:
        case.first_response_elapsed_s = _elapsed_s(clock, calendar, now)
    return True


@dataclass(frozen=True)
class ClockView:
    """One clock as the queue and the case page show it."""

    status: ClockStatus
    target: timedelta
    due_at: datetime | None
    remaining: timedelta


@dataclass(frozen=True)
class SlaView:
    """Both clocks of a case and its overall standing."""

    first_response: ClockView | None
    resolution: ClockView | None
    risk: ClockStatus | None

    @property
    def is_breached(self) -> bool:
        return self.risk in (ClockStatus.BREACHED, ClockStatus.MISSED)


def _view(clock: SlaClock | None, calendar: BusinessCalendar, now: datetime, ratio: float) -> ClockView | None:
    if clock is None:
        return None
    status = clock.status(calendar, now, ratio)
    return ClockView(
        status=status, target=clock.target, due_at=clock.due_at(calendar), remaining=clock.remaining(calendar, now)
    )


def sla_view(case: SupportCase, calendar: BusinessCalendar, now: datetime, ratio: float) -> SlaView:
    """Where the case stands against its targets at `now`."""
    first = _view(first_response_clock(case), calendar, now, ratio)
    resolution = _view(resolution_clock(case), calendar, now, ratio)
    statuses = [v.status for v in (first, resolution) if v is not None]
    return SlaView(first_response=first, resolution=resolution, risk=worst(*statuses) if statuses else None)


def resume_due(case: SupportCase, calendar: BusinessCalendar, now: datetime) -> datetime | None:
    """When the current target would fall due if the customer answered now (for a paused case)."""
    clock = first_response_clock(case) if case.first_response_at is None else resolution_clock(case)
    return clock.due_if_resumed(calendar, now) if clock is not None else None
