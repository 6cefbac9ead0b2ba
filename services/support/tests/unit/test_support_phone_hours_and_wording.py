"""Local lines' hours shown in the caller's time zone, and the customer-facing sentences in fr and en."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from support.domain.business_time import BusinessCalendar
from support.domain.errors import Invalid
from support.domain.phone_hours import LineSchedule, in_zone, is_open, openings, zone
from support.domain.wording import expectation_text, long_datetime
from support.service.expectations import for_new_case

pytestmark = pytest.mark.unit

PARIS = LineSchedule("Europe/Paris", time(9), time(18), closed_on=frozenset({date(2026, 7, 14)}))


def test_a_paris_line_is_shown_at_new_york_hours_on_each_date():
    now = datetime(2026, 1, 12, 6, tzinfo=UTC)  # Monday, 07:00 in Paris: not yet open
    (first, *_rest) = in_zone(openings(PARIS, now, 5), "America/New_York")
    assert first[0] == datetime(2026, 1, 12, 3, 0, tzinfo=ZoneInfo("America/New_York"))
    assert first[1].hour == 12 and first[1].tzinfo == ZoneInfo("America/New_York")


def test_summer_time_changing_on_one_side_only_moves_the_callers_hours():
    # 2026-03-09: New York is already on summer time, Paris not yet: the gap is 5 hours, not 6.
    periods = in_zone(openings(PARIS, datetime(2026, 3, 9, 0, tzinfo=UTC), 1), "America/New_York")
    assert periods[0][0].hour == 4
    # In January the gap is 6 hours.
    periods = in_zone(openings(PARIS, datetime(2026, 1, 12, 0, tzinfo=UTC), 1), "America/New_York")
    assert periods[0][0].hour == 3


def test_weekends_and_the_lines_public_holidays_are_skipped():
    friday_evening = datetime(2026, 7, 10, 17, tzinfo=UTC)  # 19:00 in Paris: closed
    days = [p.opens_at.astimezone(ZoneInfo("Europe/Paris")).date() for p in openings(PARIS, friday_evening, 7)]
    assert days == [date(2026, 7, 13), date(2026, 7, 15), date(2026, 7, 16)]


def test_a_line_is_open_only_within_its_hours():
    assert is_open(PARIS, datetime(2026, 1, 12, 8, 30, tzinfo=UTC))  # 09:30 Paris
    assert not is_open(PARIS, datetime(2026, 1, 12, 17, 0, tzinfo=UTC))  # 18:00 Paris
    assert not is_open(PARIS, datetime(2026, 1, 10, 12, tzinfo=UTC))  # Saturday


def test_an_unknown_time_zone_is_refused_with_an_example():
    with pytest.raises(Invalid, match="Europe/Paris"):
        zone("Mars/Olympus_Mons")


def test_dates_are_written_out_in_french_and_english():
    moment = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
    assert long_datetime(moment, "fr") == "lundi 12 janvier 2026 à 9 h 30 (GMT)"
    assert long_datetime(moment, "en") == "Monday 12 January 2026 at 09:30 (GMT)"
    assert long_datetime(moment, "en", ZoneInfo("Europe/Paris")).endswith("at 10:30 (Europe/Paris)")


def test_a_customer_writing_friday_evening_is_told_to_expect_an_answer_on_monday():
    friday = datetime(2026, 1, 9, 18, tzinfo=UTC)
    fr = for_new_case(timedelta(hours=2), BusinessCalendar.standard(), friday, "fr", None)
    en = for_new_case(timedelta(hours=2), BusinessCalendar.standard(), friday, "en", None)
    assert fr.by == datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
    assert fr.text == "Un conseiller vous répondra au plus tard le lundi 12 janvier 2026 à 9 h 30 (GMT)."
    assert en.text == "An adviser will reply by Monday 12 January 2026 at 09:30 (GMT) at the latest."
    assert "18:30 GMT" in en.hours and "18 h 30" in fr.hours


def test_every_expectation_exists_in_both_languages():
    for kind in ("awaiting_verification", "first_response", "resolution", "overdue", "waiting_on_you", "resolved"):
        for locale in ("fr", "en"):
            assert expectation_text(kind, locale, datetime(2026, 1, 9, tzinfo=UTC))
