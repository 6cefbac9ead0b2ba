"""Business time on the desk calendar (Mon-Fri 08:00-18:30 GMT, holidays as data): adding and measuring it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from support.domain.business_time import BusinessCalendar, as_utc

pytestmark = pytest.mark.unit

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = timedelta(hours=10, minutes=30)
# January 2026: Monday the 5th ... Friday the 9th, Saturday the 10th, Monday the 12th.
CAL = BusinessCalendar.standard()
# The seeded FR and GB days around Easter 2026: Good Friday (GB) 3 April and Easter Monday (both) 6 April.
EASTER = BusinessCalendar.standard([date(2026, 4, 3), date(2026, 4, 6)])


def at(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_a_case_opened_friday_at_18_00_gmt_has_its_first_response_due_on_monday():
    # 30 minutes of Friday are left; the other 1 h 30 of a 2-hour target fall on Monday morning.
    assert CAL.add(at(9, 18), 2 * H) == at(12, 9, 30)
    assert CAL.add(at(9, 18), 4 * H) == at(12, 11, 30)


def test_friday_evening_after_closing_counts_nothing_until_monday_opening():
    assert CAL.add(at(9, 19), 2 * H) == at(12, 10)
    assert CAL.between(at(9, 18, 30), at(12, 8)) == timedelta(0)
    assert CAL.between(at(9, 18), at(12, 9)) == 90 * M


def test_a_weekend_case_starts_counting_at_monday_08_00():
    assert CAL.add(at(10, 11), 1 * H) == at(12, 9)
    assert CAL.add(at(11, 23, 59), 30 * M) == at(12, 8, 30)
    assert CAL.between(at(10, 0), at(11, 23, 59)) == timedelta(0)


def test_an_evening_case_starts_counting_the_next_morning():
    assert CAL.add(at(6, 20), 2 * H) == at(7, 10)
    assert CAL.add(at(6, 18, 30), 1 * M) == at(7, 8, 1)


def test_an_early_morning_case_starts_counting_at_08_00_the_same_day():
    assert CAL.add(at(6, 6, 15), 3 * H) == at(6, 11)
    assert CAL.between(at(6, 0), at(6, 9)) == 1 * H


def test_within_opening_hours_the_clock_runs_like_a_wall_clock():
    assert CAL.add(at(6, 9, 15), 2 * H + 20 * M) == at(6, 11, 35)
    assert CAL.between(at(6, 9, 15), at(6, 11, 35)) == 2 * H + 20 * M


def test_a_deadline_that_uses_up_the_day_falls_on_closing_time_not_next_morning():
    assert CAL.add(at(6, 8), DAY) == at(6, 18, 30)
    assert CAL.add(at(6, 8), DAY + 1 * M) == at(7, 8, 1)


def test_a_target_of_several_business_days_skips_the_weekend():
    # Thursday 10:00 + 3 business days = Thursday's 8 h 30 + Friday + Monday + 2 hours on Tuesday.
    assert CAL.add(at(8, 10), 3 * DAY) == at(13, 10)
    assert CAL.between(at(8, 10), at(13, 10)) == 3 * DAY


def test_a_whole_week_holds_five_business_days():
    assert CAL.between(at(5, 0), at(12, 0)) == 5 * DAY
    assert CAL.day_length == DAY


def test_holidays_count_as_closed_days():
    # Thursday 2 April 18:00: 30 min that day, Good Friday, the weekend and Easter Monday closed.
    assert EASTER.add(at(2, 18, month=4), 4 * H) == at(7, 11, 30, month=4)
    assert EASTER.between(at(2, 18, month=4), at(7, 11, 30, month=4)) == 4 * H
    assert not EASTER.is_business_day(date(2026, 4, 3))
    assert CAL.is_business_day(date(2026, 4, 3))


def test_a_case_opened_on_a_holiday_starts_counting_on_the_next_business_day():
    assert EASTER.add(at(6, 10, month=4), 1 * H) == at(7, 9, month=4)
    assert EASTER.next_opening(at(3, 12, month=4)) == at(7, 8, month=4)


def test_adding_nothing_returns_the_start_and_measuring_backwards_gives_zero():
    assert CAL.add(at(10, 12), timedelta(0)) == at(10, 12)
    assert CAL.between(at(6, 12), at(6, 10)) == timedelta(0)


def test_adding_then_measuring_gives_back_the_duration_across_many_starts():
    starts = [at(5, 0) + k * timedelta(minutes=97) for k in range(200)]
    for start in starts:
        for duration in (1 * M, 2 * H, DAY, 2 * DAY + 3 * H):
            due = EASTER.add(start, duration)
            assert EASTER.between(start, due) == duration, (start, duration)
            assert EASTER.is_open(due - timedelta(seconds=1))


def test_the_desk_is_open_from_08_00_up_to_but_not_at_18_30():
    assert not CAL.is_open(at(6, 7, 59))
    assert CAL.is_open(at(6, 8))
    assert CAL.is_open(at(6, 18, 29))
    assert not CAL.is_open(at(6, 18, 30))
    assert not CAL.is_open(at(10, 12))


def test_hours_are_gmt_so_a_paris_time_is_converted_first():
    paris = ZoneInfo("Europe/Paris")
    # 19:00 in Paris in January is 18:00 GMT: still 30 minutes of desk time that Friday.
    assert CAL.add(datetime(2026, 1, 9, 19, 0, tzinfo=paris), 30 * M) == at(9, 18, 30)
    # In summer Paris is GMT+2: 09:30 there is 07:30 GMT, before opening.
    assert CAL.next_opening(datetime(2026, 7, 1, 9, 30, tzinfo=paris)) == datetime(2026, 7, 1, 8, tzinfo=UTC)
    assert as_utc(datetime(2026, 1, 9, 12, tzinfo=timezone(timedelta(hours=-5)))) == at(9, 17)


def test_naive_datetimes_and_negative_durations_are_refused():
    with pytest.raises(ValueError, match="naive"):
        CAL.add(datetime(2026, 1, 9, 18), H)
    with pytest.raises(ValueError, match="negative"):
        CAL.add(at(9, 18), -H)


def test_a_calendar_must_open_before_it_closes_and_work_some_day():
    with pytest.raises(ValueError):
        BusinessCalendar(opens=time(18), closes=time(8))
    with pytest.raises(ValueError):
        BusinessCalendar(workdays=frozenset())


def test_a_calendar_whose_holidays_cover_every_working_day_fails_loudly():
    every_day = frozenset(date(2026, 1, 1) + timedelta(days=d) for d in range(4000))
    with pytest.raises(ValueError, match="no business day"):
        BusinessCalendar.standard(every_day).add(at(6, 10), H)
