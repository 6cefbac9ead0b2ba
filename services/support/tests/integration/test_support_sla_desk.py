"""SLA clocks through the desk: business-time deadlines, the pause while waiting, breaches in the queue and metrics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from support.service.sla_monitor import sweep

pytestmark = pytest.mark.integration

FRIDAY_18 = datetime(2026, 1, 9, 18, 0, tzinfo=UTC)


def breaches(clock: str) -> float:
    return REGISTRY.get_sample_value("factora_support_sla_breaches_total", {"clock": clock}) or 0.0


async def desk_case(stack, ref):  # type: ignore[no-untyped-def]
    answer = await stack.client.get(f"/desk/cases/{ref}", headers=stack.agent())
    assert answer.status_code == 200, answer.text
    return answer.json()


async def queue_refs(stack, **params) -> list[str]:  # type: ignore[no-untyped-def]
    answer = await stack.client.get("/desk/queue", params=params, headers=stack.agent())
    assert answer.status_code == 200, answer.text
    return [item["reference"] for item in answer.json()]


async def test_a_case_opened_friday_at_18_00_gmt_is_due_monday_and_on_track_over_the_weekend(stack):
    stack.clock.fixed = FRIDAY_18
    ref = (await stack.open_case(stack.member(), category="invoicing"))["reference"]  # 4 h first response
    case = await desk_case(stack, ref)
    assert case["sla"]["first_response"]["due_at"] == "2026-01-12T11:30:00Z"
    assert case["sla"]["first_response"]["target_business_minutes"] == 240
    assert case["sla"]["resolution"]["target_business_minutes"] == 1890

    stack.clock.fixed = datetime(2026, 1, 11, 23, 0, tzinfo=UTC)  # Sunday night: only 30 min used
    case = await desk_case(stack, ref)
    assert case["sla"]["first_response"]["status"] == "on_track"
    assert case["sla"]["first_response"]["remaining_business_minutes"] == 210


async def test_the_clock_stops_while_the_case_waits_on_the_customer(stack):
    stack.clock.fixed = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)  # Tuesday 09:00
    member = stack.member()
    ref = (await stack.open_case(member, category="billing"))["reference"]  # resolution 31 h 30
    agent = stack.agent()
    stack.clock.fixed = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    await stack.client.post(
        f"/desk/cases/{ref}/messages",
        json={"body": "Which card did you pay with?", "then": "waiting_on_customer"},
        headers=agent,
    )
    waiting = await desk_case(stack, ref)
    assert waiting["sla"]["first_response"]["status"] == "met"
    assert waiting["sla"]["resolution"]["status"] == "paused" and waiting["sla"]["resolution"]["due_at"] is None

    stack.clock.fixed = datetime(2026, 1, 13, 10, 0, tzinfo=UTC)  # a week later the customer answers
    paused_week = await desk_case(stack, ref)
    assert paused_week["sla"]["resolution"]["remaining_business_minutes"] == 1890 - 60
    assert ref in await queue_refs(stack, sla="paused", category="billing")
    await stack.client.post(f"/cases/{ref}/messages", json={"body": "The company Visa card."}, headers=member)
    resumed = await desk_case(stack, ref)
    assert resumed["state"] == "open"
    assert resumed["sla"]["resolution"]["status"] == "on_track"
    # 30 h 30 left from Tuesday 13th 10:00: 8 h 30 that day, 10 h 30 Wednesday, 10 h 30 Thursday, 1 h Friday.
    assert resumed["sla"]["resolution"]["due_at"] == "2026-01-16T09:00:00Z"


async def test_breaches_show_in_the_queue_and_are_counted_once_in_the_metrics(stack):
    stack.clock.fixed = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # Monday 09:00
    late = (await stack.open_case(stack.member(), category="connections"))["reference"]  # 8 h first response
    stack.clock.fixed = datetime(2026, 1, 5, 15, 30, tzinfo=UTC)
    also_late = (await stack.open_case(stack.member(), category="connections"))["reference"]
    stack.clock.fixed = datetime(2026, 1, 6, 8, 30, tzinfo=UTC)
    fresh = (await stack.open_case(stack.member(), category="connections"))["reference"]

    stack.clock.fixed = datetime(2026, 1, 6, 14, 0, tzinfo=UTC)  # Tuesday 14:00
    # late: 9 h 30 + 6 h used of 8 h; also_late: 3 h + 6 h; fresh: 5 h 30, on track.
    assert late in await queue_refs(stack, sla="breached", category="connections")
    assert fresh in await queue_refs(stack, sla="on_track", category="connections")
    assert fresh not in await queue_refs(stack, sla="breached", category="connections")
    ordered = await queue_refs(stack, category="connections")
    assert ordered.index(late) < ordered.index(fresh)  # breached first

    stack.clock.fixed = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)  # fresh: 6 h 30 of 8 h used -> at risk
    assert fresh in await queue_refs(stack, sla="at_risk", category="connections")

    before = breaches("first_response")
    first = await sweep(stack.ctx)
    second = await sweep(stack.ctx)
    counted = {ref for ref, clock, _ in first.breaches if clock == "first_response"}
    assert {late, also_late} <= counted and fresh not in counted
    assert not [b for b in second.breaches if b[0] in {late, also_late}]  # once only
    assert breaches("first_response") >= before + 2
    case = await desk_case(stack, late)
    assert case["sla"]["first_response"]["breached_at"] == "2026-01-05T17:00:00Z"
    metrics = (await stack.client.get("/metrics")).text
    assert 'factora_support_sla_breaches_total{clock="first_response"}' in metrics
    assert 'factora_support_cases_breached{clock="first_response"}' in metrics


async def test_a_late_first_reply_is_counted_as_a_breach_when_it_is_sent(stack):
    stack.clock.fixed = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    ref = (await stack.open_case(stack.member(), category="login"))["reference"]  # 2 h
    stack.clock.fixed = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)
    before = breaches("first_response")
    answer = await stack.client.post(
        f"/desk/cases/{ref}/messages", json={"body": "Sorry for the wait."}, headers=stack.agent()
    )
    assert answer.json()["sla"]["first_response"]["status"] == "missed"
    assert breaches("first_response") == before + 1
    assert ref in await queue_refs(stack, sla="breached", category="login")


async def test_the_queue_filters_by_state_category_and_assignee(stack):
    member = stack.member()
    agent_id = "agent-filter-test"
    agent = stack.agent(user_id=agent_id)
    mine = (await stack.open_case(member, category="other"))["reference"]
    other = (await stack.open_case(member, category="other"))["reference"]
    taken = await stack.client.post(f"/desk/cases/{mine}/assign", json={}, headers=agent)
    assert taken.json()["assignee_id"] == agent_id and taken.json()["state"] == "open"
    assert await queue_refs(stack, assignee=agent_id) == [mine]
    assert other in await queue_refs(stack, assignee="none", category="other")
    assert mine not in await queue_refs(stack, assignee="none", category="other")
    assert mine in await queue_refs(stack, state="open", category="other")
    assert mine not in await queue_refs(stack, state="new", category="other")
    assert mine not in await queue_refs(stack, category="login")
    released = await stack.client.post(f"/desk/cases/{mine}/assign", json={"unassign": True}, headers=agent)
    assert released.json()["assignee_id"] is None


async def test_the_public_category_list_says_when_to_expect_an_answer_if_you_write_now(stack):
    stack.clock.fixed = FRIDAY_18
    answer = await stack.client.get("/categories", params={"locale": "en"})
    categories = {c["code"]: c for c in answer.json()}
    assert set(categories) == {"login", "mfa-reset", "invoicing", "billing", "connections", "other"}
    assert categories["login"]["expectation"]["by"] == "2026-01-12T09:30:00Z"
    assert "Monday 12 January 2026" in categories["login"]["expectation"]["text"]
    holidays = (await stack.client.get("/sla/holidays", params={"year": 2026})).json()
    assert {"day": "2026-04-06", "calendar": "GB", "name": "Easter Monday"} in holidays
    assert {"day": "2026-07-14", "calendar": "FR", "name": "Fête nationale"} in holidays


async def test_a_holiday_from_the_table_pushes_the_deadline(stack):
    stack.clock.fixed = datetime(2026, 4, 2, 18, 0, tzinfo=UTC)  # Thursday before Good Friday
    ref = (await stack.open_case(stack.member(), category="invoicing"))["reference"]
    case = await desk_case(stack, ref)
    # 30 min Thursday; Good Friday (GB), the weekend and Easter Monday are closed; 3 h 30 on Tuesday.
    assert case["sla"]["first_response"]["due_at"] == "2026-04-07T11:30:00Z"
