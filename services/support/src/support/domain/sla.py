"""SLA clocks: a target measured in business time that pauses while the customer has the ball."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from support.domain.business_time import ZERO, BusinessCalendar, as_utc


class ClockStatus(StrEnum):
    """Where a clock stands; the first three apply to running clocks."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"  # waiting on the customer (or resolved): business time does not count
    MET = "met"  # the target event happened in time
    MISSED = "missed"  # it happened, late


# How bad a status is for a case, worst first: the queue shows a case by its worst clock.
SEVERITY = {
    ClockStatus.BREACHED: 0,
    ClockStatus.MISSED: 1,
    ClockStatus.AT_RISK: 2,
    ClockStatus.ON_TRACK: 3,
    ClockStatus.PAUSED: 4,
    ClockStatus.MET: 5,
}


@dataclass(frozen=True)
class SlaClock:
    """One target (first response or resolution) of one case.

    `paused_total` is the business time spent in pauses that have ended; `paused_since` the start
    of the current pause, if any; `completed_after` the business time it took once the target
    event (the first public reply, the resolution) happened.
    """

    started_at: datetime
    target: timedelta
    paused_total: timedelta = ZERO
    paused_since: datetime | None = None
    completed_after: timedelta | None = None

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None and self.completed_after is None

    def elapsed(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        """Business time counted against the target so far (pauses excluded)."""
        if self.completed_after is not None:
            return self.completed_after
        end = as_utc(now)
        if self.paused_since is not None:
            end = min(end, as_utc(self.paused_since))
        return max(ZERO, calendar.between(self.started_at, end) - self.paused_total)

    def remaining(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        """Business time left before the target is breached (negative once breached)."""
        return self.target - self.elapsed(calendar, now)

    def due_at(self, calendar: BusinessCalendar) -> datetime | None:
        """When the target falls due if the clock keeps running; None while paused or done."""
        if self.completed_after is not None or self.paused_since is not None:
            return None
        return calendar.add(self.started_at, self.target + self.paused_total)

    def due_if_resumed(self, calendar: BusinessCalendar, resume_at: datetime) -> datetime | None:
        """When the target would fall due if the clock started running again at `resume_at`."""
        if self.completed_after is not None:
            return None
        left = max(ZERO, self.remaining(calendar, resume_at))
        return calendar.add(calendar.next_opening(resume_at), left)

    def status(self, calendar: BusinessCalendar, now: datetime, at_risk_ratio: float) -> ClockStatus:
        """On track, at risk (less than `at_risk_ratio` of the target left), breached, paused, met, missed."""
        if self.completed_after is not None:
            return ClockStatus.MET if self.completed_after <= self.target else ClockStatus.MISSED
        left = self.remaining(calendar, now)
        if left < ZERO:
            return ClockStatus.BREACHED
        if self.paused_since is not None:
            return ClockStatus.PAUSED
        if left <= self.target * at_risk_ratio:
            return ClockStatus.AT_RISK
        return ClockStatus.ON_TRACK


def worst(*statuses: ClockStatus) -> ClockStatus:
    """The most urgent of several clock statuses."""
    return min(statuses, key=SEVERITY.__getitem__)
