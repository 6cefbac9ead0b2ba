"""support.mfa-reset-approved.v1 consumed from the real broker: factors gone, sessions ended, re-enrolment forced."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from contracts.topics.support import MFA_RESET_APPROVED
from contracts.v1.support import MfaResetApproved
from factora_testing.kafka_io import publish_event

pytestmark = pytest.mark.integration


def approval(email: str, **extra) -> MfaResetApproved:
    return MfaResetApproved(
        case_id=str(uuid.uuid4()),
        case_reference="SUP-2026-000123",
        email=email,
        approved_by="agent-7",
        identity_checks=["callback on the phone number of the company", "signed request from the administrator"],
        approved_at=datetime.now(UTC),
        **extra,
    )


async def wait_until(driver, query: str, timeout_s: float = 40.0, **params):
    for _ in range(int(timeout_s * 5)):
        rows = await driver.sql(query, **params)
        if rows:
            return rows
        await asyncio.sleep(0.2)
    raise TimeoutError(query)


async def test_a_user_who_lost_every_factor_cannot_reset_it_alone(driver):
    admin = await driver.new_company()
    colleague = await driver.colleague(admin, ["invoices:view"])
    step = await driver.login_password(colleague)
    enrol = await driver.post("/login/mfa/enrol", {"mfa_token": step.json()["mfa_token"], "method": "totp"})
    assert enrol.status_code == 409 and enrol.json()["error"] == "already_enrolled"
    # Not even their administrator can remove their factor: there is no such endpoint, and the user's own
    # factor API needs the user's own recent strong sign-in.
    assert (
        await driver.post(f"/company/users/{colleague.user_id}/mfa-reset", headers=admin.headers)
    ).status_code == 404


async def test_an_approved_reset_removes_the_factors_ends_sessions_alerts_and_forces_re_enrolment(driver, kafka_broker):
    admin = await driver.new_company()
    event = approval(admin.email.upper())
    envelope = await publish_event(
        kafka_broker.bootstrap, MFA_RESET_APPROVED, event, key=admin.email.lower(), tenant=admin.company_id
    )
    await wait_until(
        driver,
        "SELECT 1 FROM audit_log WHERE event = 'mfa.reset_by_support' AND user_id = CAST(:u AS uuid)",
        u=admin.user_id,
    )

    assert await driver.sql("SELECT 1 FROM mfa_factor WHERE user_id = CAST(:u AS uuid)", u=admin.user_id) == []
    assert await driver.sql("SELECT 1 FROM recovery_code WHERE user_id = CAST(:u AS uuid)", u=admin.user_id) == []
    assert (await driver.client.get("/me", headers=admin.headers)).status_code == 401
    assert (await driver.refresh(admin)).status_code == 401
    alert = await driver.last_message(admin.email, "security-alert")
    assert alert["params"]["event"] == "mfa_reset"
    [(details,)] = await driver.sql(
        "SELECT details FROM audit_log WHERE event = 'mfa.reset_by_support' AND user_id = CAST(:u AS uuid)",
        u=admin.user_id,
    )
    assert details["case_reference"] == "SUP-2026-000123" and details["approved_by"] == "agent-7"

    step = await driver.login_password(admin)
    assert step.json()["status"] == "mfa_enrolment_required"
    fresh = await driver.enrol_totp(admin.email, ip=admin.ip)
    assert fresh.tokens["acr"] == "aal2"

    # The same event delivered again changes nothing (the inbox remembers it).
    await publish_event(
        kafka_broker.bootstrap,
        MFA_RESET_APPROVED,
        event,
        key=admin.email.lower(),
        tenant=admin.company_id,
        event_id=envelope.id,
    )
    await asyncio.sleep(2)
    assert len(await driver.sql("SELECT 1 FROM mfa_factor WHERE user_id = CAST(:u AS uuid)", u=fresh.user_id)) == 1
    assert (await driver.client.get("/me", headers=fresh.headers)).status_code == 200


async def test_an_approval_for_an_unknown_address_or_a_mismatched_user_resets_nothing(driver, kafka_broker):
    admin = await driver.new_company()
    reference = f"SUP-{uuid.uuid4().hex[:8]}"
    event = approval(admin.email, user_id=str(uuid.uuid4())).model_copy(update={"case_reference": reference})
    await publish_event(kafka_broker.bootstrap, MFA_RESET_APPROVED, event, key=admin.email, tenant=admin.company_id)
    await wait_until(
        driver,
        "SELECT 1 FROM audit_log WHERE event = 'mfa.reset_unmatched' AND details->>'case_reference' = :r",
        r=reference,
    )
    assert (await driver.client.get("/me", headers=admin.headers)).status_code == 200
