"""A user of company A reaches no object of company B: every id-taking endpoint answers 404, nothing changes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def company_b_objects(driver):
    b_admin = await driver.new_company()
    b_user = await driver.colleague(b_admin, ["invoices:view"])
    contact = await driver.post(
        "/company/contacts", {"name": "B payables", "roles": ["accounts_payable"]}, headers=b_admin.headers
    )
    partner = await driver.post("/company/partners", {"name": "B's ERP"}, headers=b_admin.headers)
    factors = (await driver.client.get("/me/mfa", headers=b_user.headers)).json()["factors"]
    return {
        "admin": b_admin,
        "user": b_user,
        "contact_id": contact.json()["id"],
        "partner_id": partner.json()["partner"]["partner_id"],
        "key_id": partner.json()["key"]["key_id"],
        "factor_id": factors[0]["id"],
        "session_id": b_user.tokens["session_id"],
    }


async def test_company_a_reaches_no_object_of_company_b(driver):
    a = await driver.new_company()  # administrator: every right, recent sign-in
    b = await company_b_objects(driver)
    user, admin = b["user"].user_id, b["admin"].user_id
    calls = [
        ("GET", f"/company/users/{user}", None),
        ("GET", f"/company/users/{admin}", None),
        ("PUT", f"/company/users/{user}/rights", {"rights": ["billing"]}),
        ("POST", f"/company/users/{user}/disable", None),
        ("POST", f"/company/users/{user}/enable", None),
        ("POST", f"/company/users/{user}/invitation", None),
        ("DELETE", f"/company/users/{user}", None),
        ("POST", "/company/admin-transfer", {"new_admin_user_id": user}),
        ("GET", f"/company/contacts/{b['contact_id']}", None),
        ("PATCH", f"/company/contacts/{b['contact_id']}", {"name": "Hijacked"}),
        ("DELETE", f"/company/contacts/{b['contact_id']}", None),
        ("POST", f"/company/partners/{b['partner_id']}/keys", {}),
        ("POST", f"/company/partners/{b['partner_id']}/keys/{b['key_id']}/revoke", None),
        ("DELETE", f"/company/partners/{b['partner_id']}", None),
        ("POST", f"/me/mfa/factors/{b['factor_id']}/confirm", {"code": "123456"}),
        ("DELETE", f"/me/mfa/factors/{b['factor_id']}", None),
        ("DELETE", f"/me/sessions/{b['session_id']}", None),
    ]
    answers = [await driver.client.request(method, path, json=body, headers=a.headers) for method, path, body in calls]
    successes = [(call[0], call[1], r.status_code) for call, r in zip(calls, answers, strict=True) if r.is_success]
    assert successes == []
    assert {r.status_code for r in answers} == {404}

    # Lists show only A's own objects.
    for path in ("/company/users", "/company/contacts", "/company/partners", "/company/audit-log"):
        listed = await driver.client.get(path, headers=a.headers)
        assert listed.status_code == 200
        for secret in (user, admin, b["contact_id"], b["partner_id"], b["admin"].email.lower()):
            assert secret not in listed.text.lower(), (path, secret)

    # And B's objects are untouched.
    assert (await driver.client.get("/me", headers=b["user"].headers)).json()["rights"] == ["invoices:view"]
    contact = await driver.client.get(f"/company/contacts/{b['contact_id']}", headers=b["admin"].headers)
    assert contact.json()["name"] == "B payables"
    keys = (await driver.client.get("/company/partners", headers=b["admin"].headers)).json()[0]["keys"]
    assert keys[0]["status"] == "active"
    assert len((await driver.client.get("/me/mfa", headers=b["user"].headers)).json()["factors"]) == 1


async def test_ids_that_are_not_uuids_are_answered_like_unknown_ids(driver):
    a = await driver.new_company()
    for path in ("/company/users/1", "/company/contacts/' OR 1=1 --", "/company/users/..%2F..%2Fadmin"):
        assert (await driver.client.get(path, headers=a.headers)).status_code == 404
