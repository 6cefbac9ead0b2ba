"""Opening hours of a local support line, shown in the caller's time zone.

A line's hours are defined in its own zone (Europe/Paris 09:00-17:30, say); the caller sees them
converted to theirs, date by date, so summer-time changes on either side come out right.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from support.domain.business_time import as_utc
from support.domain.errors import Invalid


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (e.g. Europe/Paris), or Invalid naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid("unknown-time-zone", f"'{name}' is not an IANA time zone (e.g. Europe/Paris)") from exc


@dataclass(frozen=True)
class LineSchedule:
    """When a line answers, in its own time zone."""

    timezone: str
    opens: time
    closes: time
    weekdays: frozenset[int] = frozenset(range(5))
    closed_on: frozenset[date] = field(default_factory=frozenset)  # public holidays of the line's country

    def answers_on(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.closed_on


@dataclass(frozen=True)
class Opening:
    """One opening period, as instants (show them in any zone)."""

    opens_at: datetime
    closes_at: datetime


def openings(schedule: LineSchedule, now: datetime, days: int = 7) -> list[Opening]:
    """Periods not yet over, on the `days` calendar days of the line starting today (today included)."""
    home = zone(schedule.timezone)
    now = as_utc(now)
    first = now.astimezone(home).date()
    result: list[Opening] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if not schedule.answers_on(day):
            continue
        opening = Opening(
            datetime.combine(day, schedule.opens, tzinfo=home), datetime.combine(day, schedule.closes, tzinfo=home)
        )
        if opening.closes_at > now:
            result.append(opening)
    return result


def is_open(schedule: LineSchedule, now: datetime) -> bool:
    """True when the line answers at `now`."""
    current = openings(schedule, now, days=1)
    return bool(current) and current[0].opens_at <= as_utc(now) < current[0].closes_at


def in_zone(periods: Iterable[Opening], caller_zone: str) -> list[tuple[datetime, datetime]]:
    """The periods as wall-clock datetimes of the caller's zone."""
    tz = zone(caller_zone)
    return [(p.opens_at.astimezone(tz), p.closes_at.astimezone(tz)) for p in periods]
