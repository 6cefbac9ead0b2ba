"""My account > Users: invitations, rights, disable/delete, and the transfer of the administrator role."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.integration


async def test_an_invited_collaborator_sets_a_password_from_the_link_and_chooses_a_factor(driver):
    admin = await driver.new_company(legal_name="Brasserie du Parc SA")
    email = driver.new_email("new")
    invited = await driver.post(
        "/company/users", {"email": email, "full_name": "Alex", "rights": ["invoices:view"]}, headers=admin.headers
    )
    assert invited.status_code == 201 and invited.json()["status"] == "invited"
    mail = await driver.last_message(email, "invitation")
    assert (
        mail["params"]["company_name"] == "Brasserie du Parc SA" and mail["params"]["inviter_name"] == "Camille Martin"
    )

    token = await driver.link_token(email, "invitation", "invitation_url")
    weak = await driver.post("/invitations/accept", {"token": token, "password": "short"})
    assert weak.status_code == 422 and weak.json()["field"] == "password"
    ok = await driver.post("/invitations/accept", {"token": token, "password": "a long passphrase nobody guesses 42"})
    assert ok.status_code == 200
    again = await driver.post(
        "/invitations/accept", {"token": token, "password": "a long passphrase nobody guesses 42"}
    )
    assert again.status_code == 400

    colleague = await driver.enrol_totp(email)
    assert colleague.tokens["rights"] == ["invoices:view"]
    listed = (await driver.client.get("/company/users", headers=admin.headers)).json()
    assert {u["email"].lower(): u["rights"] for u in listed}[email.lower()] == ["invoices:view"]
    assert {u["email"].lower(): u["mfa_methods"] for u in listed}[email.lower()] == ["totp"]


async def test_an_address_that_already_has_an_account_cannot_be_invited_twice(driver):
    admin = await driver.new_company()
    other = await driver.new_company()
    taken = await driver.post("/company/users", {"email": other.email, "full_name": "X"}, headers=admin.headers)
    assert taken.status_code == 409 and taken.json()["field"] == "email"


async def test_rights_changes_take_effect_at_once_and_the_user_is_told(driver):
    admin = await driver.new_company()
    colleague = await driver.colleague(admin, ["invoices:view"])
    assert (await driver.client.get("/company/contacts", headers=colleague.headers)).status_code == 200
    denied = await driver.post(
        "/company/contacts", {"name": "AP", "roles": ["accounts_payable"]}, headers=colleague.headers
    )
    assert denied.status_code == 403 and denied.json()["error"] == "missing_right"

    changed = await driver.client.put(
        f"/company/users/{colleague.user_id}/rights",
        json={"rights": ["contacts", "invoices:view"]},
        headers=admin.headers,
    )
    assert changed.status_code == 200 and changed.json()["rights"] == ["contacts", "invoices:view"]
    allowed = await driver.post(
        "/company/contacts", {"name": "AP", "roles": ["accounts_payable"]}, headers=colleague.headers
    )
    assert allowed.status_code == 201  # identity reads rights from its database, not from the old token
    assert (await driver.refresh(colleague)).json()["rights"] == ["contacts", "invoices:view"]
    assert (await driver.last_message(colleague.email, "security-alert"))["params"]["event"] == "rights_changed"

    unknown = await driver.client.put(
        f"/company/users/{colleague.user_id}/rights", json={"rights": ["admin"]}, headers=admin.headers
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "rights"


async def test_a_user_without_the_manage_users_right_cannot_manage_users(driver):
    admin = await driver.new_company()
    clerk = await driver.colleague(admin, ["invoices:create", "invoices:view"])
    target = await driver.colleague(admin, ["invoices:view"])
    attempts = [
        await driver.client.get("/company/users", headers=clerk.headers),
        await driver.client.get(f"/company/users/{target.user_id}", headers=clerk.headers),
        await driver.post("/company/users", {"email": driver.new_email(), "full_name": "Y"}, headers=clerk.headers),
        await driver.client.put(f"/company/users/{target.user_id}/rights", json={"rights": []}, headers=clerk.headers),
        await driver.post(f"/company/users/{target.user_id}/disable", headers=clerk.headers),
        await driver.client.delete(f"/company/users/{target.user_id}", headers=clerk.headers),
        await driver.client.get("/company/audit-log", headers=clerk.headers),
        await driver.client.patch("/company", json={"legal_name": "Mine now"}, headers=clerk.headers),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)


async def test_a_user_manager_cannot_raise_rights_beyond_theirs_or_touch_the_administrator(driver):
    admin = await driver.new_company()
    manager = await driver.colleague(admin, ["manage_users"])
    clerk = await driver.colleague(admin, ["invoices:view"])
    grant = await driver.client.put(
        f"/company/users/{clerk.user_id}/rights", json={"rights": ["manage_users"]}, headers=manager.headers
    )
    assert grant.status_code == 422 and "administrator" in grant.json()["detail"]
    own = await driver.client.put(
        f"/company/users/{manager.user_id}/rights", json={"rights": ["billing"]}, headers=manager.headers
    )
    assert own.status_code == 409 and own.json()["error"] == "self_action"
    boss = await driver.post(f"/company/users/{admin.user_id}/disable", headers=manager.headers)
    assert boss.status_code == 403 and boss.json()["error"] == "target_is_admin"
    ok = await driver.client.put(
        f"/company/users/{clerk.user_id}/rights", json={"rights": ["billing"]}, headers=manager.headers
    )
    assert ok.status_code == 200


async def test_only_the_administrator_can_transfer_the_role(driver):
    admin = await driver.new_company()
    manager = await driver.colleague(admin, ["manage_users", "invoices:view"])
    attempt = await driver.post(
        "/company/admin-transfer", {"new_admin_user_id": manager.user_id}, headers=manager.headers
    )
    assert attempt.status_code == 403 and attempt.json()["error"] == "not_admin"
    [(admins,)] = await driver.sql(
        "SELECT count(*) FROM user_account WHERE company_id = CAST(:c AS uuid) AND is_admin", c=admin.company_id
    )
    assert admins == 1


async def test_the_administrator_role_is_transferred_atomically_to_an_active_member_and_both_are_told(driver):
    admin = await driver.new_company()
    successor = await driver.colleague(admin, ["invoices:view"])
    invited = (
        await driver.post(
            "/company/users", {"email": driver.new_email(), "full_name": "Pending"}, headers=admin.headers
        )
    ).json()
    pending = await driver.post("/company/admin-transfer", {"new_admin_user_id": invited["id"]}, headers=admin.headers)
    assert pending.status_code == 409 and pending.json()["error"] == "target_not_active"

    await driver.age_sign_in(admin, 3600)
    stale = await driver.post(
        "/company/admin-transfer", {"new_admin_user_id": successor.user_id}, headers=admin.headers
    )
    assert stale.status_code == 403 and stale.json()["error"] == "recent_authentication_required"
    assert (await driver.login_totp(admin)).status_code == 200

    # Two transfers racing: exactly one administrator in the end.
    results = await asyncio.gather(
        driver.post("/company/admin-transfer", {"new_admin_user_id": successor.user_id}, headers=admin.headers),
        driver.post("/company/admin-transfer", {"new_admin_user_id": successor.user_id}, headers=admin.headers),
    )
    assert sorted(r.status_code for r in results) == [200, 403]
    admins = await driver.sql(
        "SELECT id FROM user_account WHERE company_id = CAST(:c AS uuid) AND is_admin", c=admin.company_id
    )
    assert [str(a[0]) for a in admins] == [successor.user_id]

    assert (await driver.client.get("/company/users", headers=admin.headers)).status_code == 403
    assert (await driver.refresh(admin)).json()["rights"] == ["invoices:view"]
    assert "admin" in (await driver.refresh(successor)).json()["rights"]
    for account in (admin, successor):
        alert = await driver.last_message(account.email, "security-alert")
        assert alert["params"]["event"] == "admin_rights_transferred"
    events = [p for p, _ in await driver.outbox("identity.user-changed.v1") if p["company_id"] == admin.company_id]
    assert {(p["user_id"], p["change"]) for p in events} >= {
        (admin.user_id, "admin_revoked"),
        (successor.user_id, "admin_granted"),
    }


async def test_deleting_a_user_needs_a_recent_sign_in_and_keeps_the_audit_trail(driver):
    admin = await driver.new_company()
    leaver = await driver.colleague(admin, ["invoices:view"])
    await driver.age_sign_in(admin, 3600)
    stale = await driver.client.delete(f"/company/users/{leaver.user_id}", headers=admin.headers)
    assert stale.status_code == 403
    assert (await driver.login_totp(admin)).status_code == 200
    assert (await driver.client.delete(f"/company/users/{leaver.user_id}", headers=admin.headers)).status_code == 204

    assert (await driver.client.get("/me", headers=leaver.headers)).status_code in (401, 403)
    assert (await driver.login_password(leaver)).status_code == 401
    assert (await driver.last_message(leaver.email, "security-alert"))["params"]["event"] == "access_removed"
    listed = (await driver.client.get("/company/users", headers=admin.headers)).json()
    assert leaver.user_id not in {u["id"] for u in listed}
    trail = await driver.sql("SELECT event FROM audit_log WHERE user_id = CAST(:u AS uuid)", u=leaver.user_id)
    assert ("user.deleted",) in trail and ("login.succeeded",) in trail

    cannot = await driver.client.delete(f"/company/users/{admin.user_id}", headers=admin.headers)
    assert cannot.status_code == 409  # not yourself; and the administrator is never deleted
