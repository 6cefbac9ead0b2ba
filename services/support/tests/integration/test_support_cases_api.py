"""Cases through the HTTP API on real PostgreSQL: opening, the thread, notes, notifications, states, reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from support.service.sla_monitor import sweep

pytestmark = pytest.mark.integration


async def test_a_member_opens_a_case_and_gets_a_reference_and_when_to_expect_an_answer(stack):
    stack.clock.fixed = datetime(2026, 1, 9, 18, 0, tzinfo=UTC)  # Friday 18:00 GMT
    member = stack.member()
    page = await stack.open_case(member, category="login", locale="fr")

    assert page["reference"].startswith("SUP-2026-") and len(page["reference"]) == len("SUP-2026-000123")
    assert page["state"] == "new"
    # Login: 2 business hours to a first response -> Monday 09:30 GMT.
    assert page["expectation"]["kind"] == "first_response"
    assert page["expectation"]["by"] == "2026-01-12T09:30:00Z"
    assert (
        page["expectation"]["text"]
        == "Un conseiller vous répondra au plus tard le lundi 12 janvier 2026 à 9 h 30 (GMT)."
    )

    opened = [p for _, p in await stack.outbox("support.case-opened.v1") if p["reference"] == page["reference"]]
    assert opened and opened[0]["first_response_due_at"] == "2026-01-12T09:30:00Z"


async def test_opening_sends_the_case_opened_email_in_the_customers_language(stack):
    member = stack.member()
    body = stack.case_body(locale="fr")
    response = await stack.client.post("/cases", json=body, headers=member)
    reference = response.json()["reference"]
    (mail,) = await stack.emails_to(body["email"])
    assert mail["template"] == "support-case-opened"
    assert mail["locale"] == "fr"
    assert mail["params"]["case_reference"] == reference
    assert mail["params"]["case_url"] == f"https://portal.factora.test/support/cases/{reference}"
    assert set(mail["params"]) >= {"recipient_name", "case_reference", "case_subject", "case_url"}


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("description", "Too short", "at least 30"),
        ("description", " " * 40, "at least 30"),
        ("description", "x" * 5001, "at most 5000"),
        ("subject", "", "at least 5"),
        ("email", "not-an-address", "email"),
        ("locale", "de", "fr"),
    ],
)
async def test_a_case_is_refused_with_the_field_and_rule_when_the_description_or_a_field_is_wrong(
    stack, field, value, fragment
):
    response = await stack.client.post("/cases", json=stack.case_body(**{field: value}), headers=stack.member())
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["loc"][-1] == field
    assert fragment in problem["msg"]


async def test_an_unknown_category_is_refused_naming_the_valid_ones(stack):
    response = await stack.client.post("/cases", json=stack.case_body(category="weather"), headers=stack.member())
    assert response.status_code == 422
    assert "mfa-reset" in response.json()["detail"] and response.json()["code"] == "unknown-category"


async def test_internal_notes_are_visible_to_agents_only_and_replies_reach_the_customer(stack):
    member = stack.member()
    page = await stack.open_case(member)
    ref = page["reference"]
    agent = stack.agent()

    note = await stack.client.post(
        f"/desk/cases/{ref}/messages",
        json={"body": "Customer is on the old VAT rate, check BR-CO-15.", "internal": True},
        headers=agent,
    )
    reply = await stack.client.post(
        f"/desk/cases/{ref}/messages", json={"body": "Please use the 20 % rate and send it again."}, headers=agent
    )
    assert note.status_code == 201 and reply.status_code == 201
    seen_by_agent = [m["body"] for m in reply.json()["messages"]]
    assert len(seen_by_agent) == 2

    customer_view = (await stack.client.get(f"/cases/{ref}", headers=member)).json()
    assert [m["body"] for m in customer_view["messages"]] == ["Please use the 20 % rate and send it again."]
    assert all(not m["internal"] for m in customer_view["messages"])
    assert customer_view["state"] == "open"
    assert customer_view["expectation"]["kind"] == "resolution"

    email = (await stack.client.get(f"/desk/cases/{ref}", headers=agent)).json()["requester_email"]
    sent = [m["template"] for m in await stack.emails_to(email)]
    assert sent == ["support-case-opened", "support-case-answered"]  # the note sent nothing


async def test_waiting_and_resolved_are_notified_and_the_customer_reply_brings_the_case_back(stack):
    member = stack.member()
    page = await stack.open_case(member, locale="fr")
    ref = page["reference"]
    agent = stack.agent()
    await stack.client.post(
        f"/desk/cases/{ref}/messages",
        json={"body": "Pouvez-vous nous envoyer le PDF de la facture ?", "then": "waiting_on_customer"},
        headers=agent,
    )
    waiting = (await stack.client.get(f"/cases/{ref}", headers=member)).json()
    assert waiting["state"] == "waiting_on_customer"
    assert waiting["expectation"]["kind"] == "waiting_on_you"
    assert "suspendu" in waiting["expectation"]["text"]

    back = await stack.client.post(f"/cases/{ref}/messages", json={"body": "Le voici en pièce jointe."}, headers=member)
    assert back.status_code == 201 and back.json()["state"] == "open"

    resolved = await stack.client.post(f"/desk/cases/{ref}/state", json={"state": "resolved"}, headers=agent)
    assert resolved.json()["state"] == "resolved"
    email = resolved.json()["requester_email"]
    mails = await stack.emails_to(email)
    assert [m["template"] for m in mails] == ["support-case-opened", "support-case-answered", "support-case-resolved"]
    assert {m["locale"] for m in mails} == {"fr"}
    changes = [
        (p["from_state"], p["to_state"], p["changed_by"])
        for _, p in await stack.outbox("support.case-state-changed.v1")
        if p["reference"] == ref
    ]
    assert changes == [
        ("new", "waiting_on_customer", "agent"),
        ("waiting_on_customer", "open", "customer"),
        ("open", "resolved", "agent"),
    ]


async def test_a_resolved_case_reopens_within_the_window_and_closes_for_good_after_it(stack):
    member = stack.member()
    ref = (await stack.open_case(member))["reference"]
    agent = stack.agent()
    start = datetime.now(UTC)
    await stack.client.post(f"/desk/cases/{ref}/state", json={"state": "resolved"}, headers=agent)

    stack.clock.fixed = start + timedelta(days=3)
    reopened = await stack.client.post(f"/cases/{ref}/reopen", headers=member)
    assert reopened.status_code == 200 and reopened.json()["state"] == "open"
    await stack.client.post(f"/desk/cases/{ref}/state", json={"state": "resolved"}, headers=agent)

    stack.clock.fixed = start + timedelta(days=3 + 15)
    late = await stack.client.post(f"/cases/{ref}/messages", json={"body": "It is back again."}, headers=member)
    assert late.status_code == 409 and "new case" in late.json()["detail"]
    result = await sweep(stack.ctx)
    assert ref in result.closed
    closed = (await stack.client.get(f"/cases/{ref}", headers=member)).json()
    assert closed["state"] == "closed" and closed["expectation"]["kind"] == "closed"
    assert (await stack.client.post(f"/cases/{ref}/reopen", headers=member)).status_code == 409
    agent_reopen = await stack.client.post(f"/desk/cases/{ref}/state", json={"state": "open"}, headers=agent)
    assert agent_reopen.status_code == 409 and "final" in agent_reopen.json()["detail"]


async def test_someone_who_cannot_sign_in_opens_a_case_confirmed_by_the_emailed_link(stack):
    body = stack.case_body(category="login", locale="en")
    accepted = await stack.client.post("/cases/by-email", json=body)
    assert accepted.status_code == 202
    ref = accepted.json()["reference"]
    assert accepted.json()["expectation"]["kind"] == "awaiting_verification"

    queue = (await stack.client.get("/desk/queue", params={"category": "login"}, headers=stack.agent())).json()
    assert ref not in [item["reference"] for item in queue]  # unconfirmed: not on the desk
    (mail,) = await stack.emails_to(body["email"])
    assert mail["template"] == "email-verification" and mail["params"]["expires_in_hours"] == 24
    token = await stack.link_token(body["email"])

    wrong_case = await stack.client.post("/cases/SUP-2026-999999/confirm", headers={"X-Case-Token": token})
    assert wrong_case.status_code == 401
    confirmed = await stack.client.post(f"/cases/{ref}/confirm", headers={"X-Case-Token": token})
    assert confirmed.status_code == 200
    again = await stack.client.post(f"/cases/{ref}/confirm", headers={"X-Case-Token": token})
    assert again.status_code == 401  # the confirmation link works once

    access = {"X-Case-Token": confirmed.json()["access_token"]}
    page = (await stack.client.get(f"/cases/{ref}", headers=access)).json()
    assert page["email_confirmed"] is True and page["expectation"]["kind"] == "first_response"
    assert (
        await stack.client.post(f"/cases/{ref}/messages", json={"body": "Any news?"}, headers=access)
    ).status_code == 201
    queue = (await stack.client.get("/desk/queue", params={"category": "login"}, headers=stack.agent())).json()
    assert ref in [item["reference"] for item in queue]
    opened_mail = [m for m in await stack.emails_to(body["email"]) if m["template"] == "support-case-opened"]
    assert opened_mail and "?token=" in opened_mail[0]["params"]["case_url"]  # a working link for someone signed out


async def test_the_email_form_cannot_be_used_to_flood_a_mailbox(stack):
    body = stack.case_body()
    answers = [(await stack.client.post("/cases/by-email", json=body)).status_code for _ in range(4)]
    assert answers == [202, 202, 202, 429]


async def test_a_case_link_works_only_for_its_own_case_and_until_it_expires(stack):
    body = stack.case_body()
    ref = (await stack.client.post("/cases/by-email", json=body)).json()["reference"]
    token = await stack.link_token(body["email"])
    access = {
        "X-Case-Token": (await stack.client.post(f"/cases/{ref}/confirm", headers={"X-Case-Token": token})).json()[
            "access_token"
        ]
    }
    other = await stack.open_case(stack.member())
    assert (await stack.client.get(f"/cases/{other['reference']}", headers=access)).status_code == 401
    stack.clock.fixed = datetime.now(UTC) + timedelta(days=31)
    assert (await stack.client.get(f"/cases/{ref}", headers=access)).status_code == 401
    assert (await stack.client.get(f"/cases/{ref}")).status_code == 401
