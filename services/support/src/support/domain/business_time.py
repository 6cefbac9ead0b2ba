"""Business time on the support desk's calendar: opening hours on working days, holidays excluded.

Pure Python on timezone-aware datetimes. The desk's hours are defined in GMT (UTC, no summer
time), so every computation happens in UTC; a holiday closes the whole GMT calendar day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
# A calendar with a working day is never this long without one; a longer walk means bad data.
MAX_DAYS_SEARCHED = 3660


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused (their zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone-aware one")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """When the desk works: `opens`-`closes` GMT on `workdays` (0 = Monday), except `holidays`."""

    opens: time = time(8, 0)
    closes: time = time(18, 30)
    workdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError(f"the desk must open before it closes ({self.opens} >= {self.closes})")
        if not self.workdays or not self.workdays <= set(range(7)):
            raise ValueError(f"workdays must be a non-empty subset of 0..6, got {sorted(self.workdays)}")

    @classmethod
    def standard(cls, holidays: Iterable[date] = ()) -> BusinessCalendar:
        """Monday-Friday, 08:00-18:30 GMT, with the given holidays."""
        return cls(holidays=frozenset(holidays))

    @property
    def day_length(self) -> timedelta:
        """Business time in one full working day (10 h 30 on the standard calendar)."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def is_business_day(self, day: date) -> bool:
        """A working weekday that is not a holiday."""
        return day.weekday() in self.workdays and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """Opening and closing instants of `day` (whether or not it is a business day)."""
        return (
            datetime.combine(day, self.opens, tzinfo=UTC),
            datetime.combine(day, self.closes, tzinfo=UTC),
        )

    def _windows_from(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        for offset in range(MAX_DAYS_SEARCHED):
            current = day + offset * ONE_DAY
            if self.is_business_day(current):
                yield self.window(current)
        raise ValueError(f"no business day within {MAX_DAYS_SEARCHED} days of {day}: check the holidays")

    def is_open(self, at: datetime) -> bool:
        """True when `at` falls within opening hours of a business day (closing instant excluded)."""
        at = as_utc(at)
        opens, closes = self.window(at.date())
        return self.is_business_day(at.date()) and opens <= at < closes

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself while the desk is open, otherwise the next instant it opens."""
        at = as_utc(at)
        for opens, closes in self._windows_from(at.date()):
            if at < closes:
                return max(at, opens)
        raise AssertionError("unreachable")  # pragma: no cover - _windows_from raises first

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (zero when `end` is not after `start`)."""
        start, end = as_utc(start), as_utc(end)
        if end <= start:
            return ZERO
        total = ZERO
        day = start.date()
        while day <= end.date():
            if self.is_business_day(day):
                opens, closes = self.window(day)
                overlap = min(end, closes) - max(start, opens)
                if overlap > ZERO:
                    total += overlap
            day += ONE_DAY
        return total

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of business time has passed since `start`.

        A deadline that uses up a day exactly falls on that day's closing time, not on the next
        opening; adding zero returns `start` unchanged.
        """
        if duration < ZERO:
            raise ValueError(f"business time cannot be negative ({duration})")
        start = as_utc(start)
        if duration == ZERO:
            return start
        remaining = duration
        for opens, closes in self._windows_from(start.date()):
            begin = max(start, opens)
            if begin >= closes:
                continue
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover - _windows_from raises first
