"""Forgotten password: a single-use link valid 30 minutes; resetting ends every session and keeps the second factor."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration
NEW_PASSWORD = "another long passphrase for spring"


async def ask_reset(driver, account) -> str:
    assert (await driver.post("/password/forgot", {"email": account.email}, ip=driver.new_ip())).status_code == 202
    mail = await driver.last_message(account.email, "password-reset")
    assert mail["params"]["expires_in_minutes"] == 30
    return await driver.link_token(account.email, "password-reset", "reset_url")


async def test_a_reset_link_sets_a_new_password_once_ends_every_session_and_keeps_the_second_factor(driver):
    admin = await driver.new_company()
    old_refresh = admin.tokens["refresh_token"]
    token = await ask_reset(driver, admin)
    [(stored,)] = await driver.sql(
        "SELECT token_hash FROM one_time_token WHERE purpose = 'reset_password' AND user_id = CAST(:u AS uuid) "
        "ORDER BY created_at DESC LIMIT 1",
        u=admin.user_id,
    )
    assert stored != token and len(stored) == 64  # only the SHA-256 is kept

    done = await driver.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 200 and done.json()["status"] == "password_changed"
    assert (await driver.client.get("/me", headers=admin.headers)).status_code == 401  # session closed
    assert (await driver.post("/token/refresh", {"refresh_token": old_refresh})).status_code == 401
    alert = await driver.last_message(admin.email, "security-alert")
    assert alert["params"]["event"] == "password_changed"

    reused = await driver.post("/password/reset", {"token": token, "new_password": "yet another passphrase here"})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_or_expired_link"

    admin.password = NEW_PASSWORD
    step = await driver.login_password(admin)
    assert step.status_code == 200 and step.json()["status"] == "mfa_required"  # no MFA bypass
    assert (await driver.login_totp(admin)).status_code == 200


async def test_an_expired_reset_link_is_refused(driver):
    admin = await driver.new_company()
    token = await ask_reset(driver, admin)
    await driver.sql(
        "UPDATE one_time_token SET expires_at = now() - interval '1 second' "
        "WHERE purpose = 'reset_password' AND user_id = CAST(:u AS uuid)",
        u=admin.user_id,
    )
    expired = await driver.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    assert expired.status_code == 400 and expired.json()["field"] == "token"
    assert (await driver.login_password(admin)).status_code == 200  # the old password still works


async def test_a_newer_reset_link_replaces_the_older_one(driver):
    admin = await driver.new_company()
    first = await ask_reset(driver, admin)
    second = await ask_reset(driver, admin)
    assert (await driver.post("/password/reset", {"token": first, "new_password": NEW_PASSWORD})).status_code == 400
    assert (await driver.post("/password/reset", {"token": second, "new_password": NEW_PASSWORD})).status_code == 200


async def test_a_weak_new_password_is_refused_without_spending_the_link(driver):
    admin = await driver.new_company()
    token = await ask_reset(driver, admin)
    weak = await driver.post("/password/reset", {"token": token, "new_password": "password123456"})
    assert weak.status_code == 422 and weak.json()["field"] == "new_password"
    assert (await driver.post("/password/reset", {"token": token, "new_password": NEW_PASSWORD})).status_code == 200


async def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(driver):
    admin = await driver.new_company()
    other = admin.__class__(admin.email, admin.password, driver.new_ip())
    other.secret = admin.secret
    assert (await driver.login_totp(other)).status_code == 200

    wrong = await driver.post(
        "/me/password", {"current_password": "not it at all", "new_password": NEW_PASSWORD}, headers=admin.headers
    )
    assert wrong.status_code == 403 and wrong.json()["field"] == "current_password"
    ok = await driver.post(
        "/me/password", {"current_password": admin.password, "new_password": NEW_PASSWORD}, headers=admin.headers
    )
    assert ok.status_code == 200
    assert (await driver.client.get("/me", headers=admin.headers)).status_code == 200
    assert (await driver.client.get("/me", headers=other.headers)).status_code == 401
