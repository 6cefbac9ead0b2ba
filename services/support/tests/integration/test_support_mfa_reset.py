"""The MFA-reset workflow: identity checks first, approval by an agent only, the event through the outbox."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaConsumer

pytestmark = pytest.mark.integration

TOPIC = "support.mfa-reset-approved.v1"
CHECKS = {
    "checks": [
        {"kind": "callback-known-phone", "note": "Called back +33 1 99 00 12 34 from the company profile."},
        {"kind": "company-admin-confirmation", "note": "The company administrator confirmed by phone."},
    ]
}


async def approvals_for(stack, ref: str) -> list[tuple[dict, dict]]:  # type: ignore[type-arg]
    return [(h, p) for h, p in await stack.outbox(TOPIC) if p["case_reference"] == ref]


async def locked_out_case(stack, locale: str = "fr") -> tuple[str, str, dict[str, str]]:
    """Someone who cannot sign in asks for an MFA reset and confirms the e-mail link."""
    body = stack.case_body(category="mfa-reset", locale=locale, subject="Téléphone perdu")
    ref = (await stack.client.post("/cases/by-email", json=body)).json()["reference"]
    token = await stack.link_token(body["email"])
    confirmed = await stack.client.post(f"/cases/{ref}/confirm", headers={"X-Case-Token": token})
    assert confirmed.status_code == 200
    return ref, body["email"], {"X-Case-Token": confirmed.json()["access_token"]}


async def test_approval_is_refused_until_identity_checks_are_recorded_and_nothing_is_published(stack):
    ref, _, _ = await locked_out_case(stack)
    agent = stack.agent()
    refused = await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=agent)
    assert refused.status_code == 409 and refused.json()["code"] == "identity-checks-missing"
    one = {"checks": CHECKS["checks"][:1]}
    await stack.client.post(f"/desk/cases/{ref}/identity-checks", json=one, headers=agent)
    still = await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=agent)
    assert still.status_code == 409 and "callback-known-phone" in still.json()["detail"]
    assert await approvals_for(stack, ref) == []


async def test_only_an_agent_signed_in_with_a_second_factor_can_approve(stack):
    ref, _, link = await locked_out_case(stack)
    await stack.client.post(f"/desk/cases/{ref}/identity-checks", json=CHECKS, headers=stack.agent())
    attempts = {
        "customer link": await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=link),
        "member": await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=stack.member(admin=True)),
        "operator": await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=stack.operator()),
        "agent with password only": await stack.client.post(
            f"/desk/cases/{ref}/mfa-reset/approve", headers=stack.agent(acr="aal1")
        ),
    }
    assert {who: a.status_code for who, a in attempts.items()} == {
        "customer link": 401,
        "member": 403,
        "operator": 403,
        "agent with password only": 403,
    }
    assert await approvals_for(stack, ref) == []
    checks = await stack.client.post(f"/desk/cases/{ref}/identity-checks", json=CHECKS, headers=stack.member())
    assert checks.status_code == 403


async def test_approval_after_the_checks_writes_the_event_to_the_outbox_and_tells_the_customer_what_next(stack):
    ref, email, link = await locked_out_case(stack, locale="fr")
    agent_id = "agent-approver"
    agent = stack.agent(user_id=agent_id)
    recorded = await stack.client.post(f"/desk/cases/{ref}/identity-checks", json=CHECKS, headers=agent)
    assert recorded.status_code == 201
    kinds = [c["kind"] for c in recorded.json()["identity_checks"]]
    assert kinds == ["email-control", "callback-known-phone", "company-admin-confirmation"]

    approved = await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=agent)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "resolved" and approved.json()["mfa_reset_approved_by"] == agent_id

    [(headers, event)] = await approvals_for(stack, ref)
    assert event["email"] == email and event["approved_by"] == agent_id and event["locale"] == "fr"
    assert event["identity_checks"][0].startswith("email-control: ")
    assert len(event["identity_checks"]) == 3
    assert headers["ce_type"] == TOPIC and headers["ce_subject"] == email

    page = (await stack.client.get(f"/cases/{ref}", headers=link)).json()
    assert page["mfa_reset_approved_at"] is not None
    next_steps = page["messages"][-1]
    assert next_steps["author"] == "system"
    assert "Connectez-vous avec votre adresse e-mail et votre mot de passe" in next_steps["body"]
    mail = (await stack.emails_to(email))[-1]
    assert mail["template"] == "support-case-answered" and mail["locale"] == "fr"

    twice = await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=agent)
    assert twice.status_code == 409
    assert len(await approvals_for(stack, ref)) == 1


async def test_the_relay_publishes_the_approval_to_kafka_keyed_by_the_email(stack, kafka_broker):
    ref, email, _ = await locked_out_case(stack, locale="en")
    agent = stack.agent()
    await stack.client.post(f"/desk/cases/{ref}/identity-checks", json=CHECKS, headers=agent)
    assert (await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=agent)).status_code == 200
    consumer = AIOKafkaConsumer(
        TOPIC, bootstrap_servers=kafka_broker.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        found = None
        for _ in range(50):
            batch = await consumer.getmany(timeout_ms=200)
            for record in (r for part in batch.values() for r in part):
                if json.loads(record.value)["case_reference"] == ref:
                    found = record
            if found:
                break
    finally:
        await consumer.stop()
    assert found is not None, "the approval never reached Kafka"
    assert found.key == email.encode()


async def test_a_member_opening_an_mfa_reset_signed_in_still_confirms_the_email_before_approval(stack):
    member = stack.member()
    page = await stack.open_case(member, category="mfa-reset")
    ref = page["reference"]
    agent = stack.agent()
    await stack.client.post(f"/desk/cases/{ref}/identity-checks", json=CHECKS, headers=agent)
    unconfirmed = await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=agent)
    assert unconfirmed.status_code == 409 and unconfirmed.json()["code"] == "email-not-verified"
    seen = (await stack.client.get(f"/desk/cases/{ref}", headers=agent)).json()
    email = seen["requester_email"]
    token = await stack.link_token(email)
    assert (await stack.client.post(f"/cases/{ref}/confirm", headers={"X-Case-Token": token})).status_code == 200
    assert (await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=agent)).status_code == 200
    [(_, event)] = await approvals_for(stack, ref)
    assert event["user_id"] == seen["requester_user_id"] and event["user_id"].startswith("u-")
    assert event["company_id"] == seen["company_id"]


async def test_checks_and_approval_apply_to_mfa_reset_cases_only(stack):
    ref = (await stack.open_case(stack.member(), category="login"))["reference"]
    agent = stack.agent()
    checks = await stack.client.post(f"/desk/cases/{ref}/identity-checks", json=CHECKS, headers=agent)
    approve = await stack.client.post(f"/desk/cases/{ref}/mfa-reset/approve", headers=agent)
    assert checks.status_code == approve.status_code == 409
    assert approve.json()["code"] == "not-an-mfa-reset"
