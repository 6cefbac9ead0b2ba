"""Guessing is slowed per account, per (account, source) and per source; the real user is never locked out."""

from __future__ import annotations

import asyncio

import pytest

from identity.service.context import now

pytestmark = pytest.mark.integration
WRONG = "not the password at all"


async def test_guessing_one_account_from_one_source_backs_off_and_the_answer_is_the_same_for_unknown_accounts(driver):
    admin = await driver.new_company()
    unknown = driver.new_email("nobody")
    ip_known, ip_unknown = driver.new_ip(), driver.new_ip()

    known = [await driver.post("/login", {"email": admin.email, "password": WRONG}, ip=ip_known) for _ in range(4)]
    # Even the right password waits out the back-off from that source...
    blocked = await driver.login_password(admin.__class__(admin.email, admin.password, ip_known))
    other = [await driver.post("/login", {"email": unknown, "password": WRONG}, ip=ip_unknown) for _ in range(4)]
    assert [r.status_code for r in known] == [r.status_code for r in other] == [401, 401, 401, 429]
    assert known[3].json()["error"] == other[3].json()["error"] == "too_many_attempts"
    assert int(known[3].headers["retry-after"]) >= 1
    assert blocked.status_code == 429
    await asyncio.sleep(blocked.json()["retry_after_s"])
    # ...then goes through: nothing is locked for good.
    account = admin.__class__(admin.email, admin.password, ip_known)
    account.secret = admin.secret
    assert (await driver.login_totp(account)).status_code == 200


async def test_the_real_user_signs_in_during_and_after_a_distributed_brute_force(driver):
    admin = await driver.new_company()  # signed in once: its browser holds a device token
    # Many sources, 3 guesses each (under the per-source back-off): once the account has had 6
    # failures (account_free_failures in the tests), new sources are slowed down too.
    answers = [
        (await driver.post("/login", {"email": admin.email, "password": WRONG}, ip=ip)).status_code
        for ip in [driver.new_ip() for _ in range(3)]
        for _ in range(3)
    ]
    assert answers[:6] == [401] * 6 and 429 in answers[6:]

    # ...but the real user's known device (even on a new network) is not.
    travelling = admin.__class__(admin.email, admin.password, driver.new_ip())
    travelling.secret, travelling.device_token = admin.secret, admin.device_token
    assert (await driver.login_totp(travelling)).status_code == 200

    # And from a brand-new device, the right password and code work once the back-off has passed.
    for ip in [driver.new_ip() for _ in range(3)]:
        for _ in range(3):
            await driver.post("/login", {"email": admin.email, "password": WRONG}, ip=ip)
    new_device = admin.__class__(admin.email, admin.password, driver.new_ip())
    new_device.secret = admin.secret
    first = await driver.login_totp(new_device)
    if first.status_code == 429:
        await asyncio.sleep(first.json()["retry_after_s"])
        first = await driver.login_totp(new_device)
    assert first.status_code == 200, first.text
    alert = await driver.last_message(admin.email, "security-alert")
    assert alert["params"]["event"] == "new_device_sign_in"
    throttled = await driver.sql(
        "SELECT count(*) FROM audit_log WHERE event = 'login.throttled' AND user_id = CAST(:u AS uuid)",
        u=admin.user_id,
    )
    assert throttled[0][0] >= 1


async def test_one_source_failing_across_many_accounts_is_stopped_for_a_while(driver):
    ip = driver.new_ip()
    started = now()
    for _ in range(4):  # 4 addresses x 3 guesses = the 12 failures a source may make in the tests' window
        email = driver.new_email("stuffing")
        for _ in range(3):
            assert (await driver.post("/login", {"email": email, "password": WRONG}, ip=ip)).status_code == 401
    stopped = await driver.post("/login", {"email": driver.new_email("stuffing"), "password": WRONG}, ip=ip)
    assert stopped.status_code == 429
    assert stopped.json()["retry_after_s"] <= 2  # capped by max_delay_s, never a lock-out
    assert (now() - started).total_seconds() < 30
