"""SLA clocks: targets in business time that pause while the customer has the ball, and statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from support.adapters.tables import SupportCase
from support.domain.business_time import BusinessCalendar
from support.domain.sla import ClockStatus, SlaClock, worst
from support.domain.workflow import CaseState
from support.service import clocks

pytestmark = pytest.mark.unit

H = timedelta(hours=1)
CAL = BusinessCalendar.standard()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def a_case(opened: datetime, first_h: float = 4, resolution_h: float = 21) -> SupportCase:
    case = SupportCase(
        reference="SUP-2026-000001",
        category="invoicing",
        subject="Invoice refused",
        description="x" * 40,
        state=CaseState.NEW,
        locale="en",
        channel="member",
        requester_name="Ada",
        requester_email="ada@example.com",
        first_response_target_s=int(first_h * 3600),
        resolution_target_s=int(resolution_h * 3600),
    )
    clocks.start(case, CAL, opened)
    return case


def test_a_running_clock_is_due_target_business_hours_after_it_started():
    clock = SlaClock(started_at=at(9, 18), target=4 * H)
    assert clock.due_at(CAL) == at(12, 11, 30)
    assert clock.status(CAL, at(12, 8), 0.25) == ClockStatus.ON_TRACK
    assert clock.status(CAL, at(12, 10, 45), 0.25) == ClockStatus.AT_RISK
    assert clock.status(CAL, at(12, 11, 30), 0.25) == ClockStatus.AT_RISK  # due, not yet past it
    assert clock.status(CAL, at(12, 11, 31), 0.25) == ClockStatus.BREACHED
    assert clock.remaining(CAL, at(12, 12)) == -timedelta(minutes=30)


def test_waiting_on_the_customer_pauses_the_clock_and_pushes_the_deadline_back():
    case = a_case(at(6, 9))  # first response due Tuesday 6th 13:00
    clocks.record_first_response(case, CAL, at(6, 10))
    clocks.move(case, CaseState.WAITING, CAL, at(6, 10))  # 1 h of resolution time used
    paused = clocks.resolution_clock(case)
    assert paused is not None and paused.due_at(CAL) is None
    # Three business days later the customer still has not answered: nothing was consumed.
    assert paused.elapsed(CAL, at(9, 17)) == 1 * H
    assert paused.status(CAL, at(9, 17), 0.25) == ClockStatus.PAUSED
    clocks.move(case, CaseState.OPEN, CAL, at(9, 17))  # customer answers on Friday 17:00
    resumed = clocks.resolution_clock(case)
    assert resumed is not None
    # Tuesday 10:00-18:30, Wednesday, Thursday, Friday 08:00-17:00.
    assert case.paused_business_s == int((8.5 * H + 2 * timedelta(hours=10, minutes=30) + 9 * H).total_seconds())
    assert resumed.elapsed(CAL, at(9, 17)) == 1 * H
    # 20 h left from Friday 17:00: 1 h 30 on Friday, 10 h 30 on Monday, 8 h on Tuesday.
    assert resumed.due_at(CAL) == at(13, 16)


def test_the_first_response_clock_pauses_too_if_the_case_waits_before_any_reply():
    case = a_case(at(6, 9))
    clocks.move(case, CaseState.WAITING, CAL, at(6, 11))  # 2 h used
    clocks.move(case, CaseState.OPEN, CAL, at(7, 9))
    first = clocks.first_response_clock(case)
    assert first is not None
    assert first.elapsed(CAL, at(7, 10)) == 3 * H
    assert first.due_at(CAL) == at(7, 11)


def test_a_reply_stops_the_first_response_clock_as_met_or_missed():
    on_time = a_case(at(6, 9))
    clocks.record_first_response(on_time, CAL, at(6, 12))
    late = a_case(at(6, 9))
    clocks.record_first_response(late, CAL, at(7, 9))
    assert clocks.first_response_clock(on_time).status(CAL, at(20, 9), 0.25) == ClockStatus.MET  # type: ignore[union-attr]
    assert clocks.first_response_clock(late).status(CAL, at(20, 9), 0.25) == ClockStatus.MISSED  # type: ignore[union-attr]
    assert late.first_response_elapsed_s == int((9.5 * H + 1 * H).total_seconds())
    assert clocks.record_first_response(late, CAL, at(8, 9)) is False  # only the first reply counts


def test_resolving_stops_the_resolution_clock_and_reopening_restarts_it_where_it_stopped():
    case = a_case(at(6, 9))
    clocks.move(case, CaseState.OPEN, CAL, at(6, 9))
    clocks.move(case, CaseState.RESOLVED, CAL, at(6, 14))
    assert case.resolution_elapsed_s == 5 * 3600 and case.resolved_at == at(6, 14)
    view = clocks.sla_view(case, CAL, at(12, 9), 0.25)
    assert view.resolution is not None and view.resolution.status == ClockStatus.MET
    clocks.move(case, CaseState.OPEN, CAL, at(8, 9))  # reopened two days later
    assert case.resolution_elapsed_s is None and case.resolved_at is None and case.paused_since is None
    reopened = clocks.resolution_clock(case)
    assert reopened is not None and reopened.elapsed(CAL, at(8, 10)) == 6 * H


def test_a_case_is_shown_by_its_worst_clock():
    assert worst(ClockStatus.ON_TRACK, ClockStatus.BREACHED) == ClockStatus.BREACHED
    assert worst(ClockStatus.MET, ClockStatus.AT_RISK) == ClockStatus.AT_RISK
    assert worst(ClockStatus.MISSED, ClockStatus.ON_TRACK) == ClockStatus.MISSED
    case = a_case(at(9, 18))
    view = clocks.sla_view(case, CAL, at(12, 11, 45), 0.25)
    assert view.first_response is not None and view.first_response.status == ClockStatus.BREACHED
    assert view.is_breached


def test_when_paused_the_page_can_say_when_an_answer_would_come_if_the_customer_replied_now():
    case = a_case(at(6, 9))
    clocks.move(case, CaseState.WAITING, CAL, at(6, 10))  # 3 h of first-response time left
    assert clocks.resume_due(case, CAL, at(9, 17)) == at(12, 9, 30)
