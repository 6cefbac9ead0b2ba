"""No answer tells whether an account exists: same status, same body, same time (login, reset, reminders, sign-up)."""

from __future__ import annotations

import statistics
import time

import pytest

pytestmark = pytest.mark.integration
PASSWORD = "a long passphrase nobody guesses 42"
# Tests use a 60 ms answer floor and cheap argon2; a leak would show as a gap of many milliseconds.
TIMING_TOLERANCE_S = 0.02


async def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    response = await call()
    return time.perf_counter() - started, response


async def median_times(driver, known, unknown, rounds: int = 8) -> tuple[float, float]:
    known_t, unknown_t = [], []
    for _ in range(rounds):  # interleaved, so drift in the machine's load hits both sides alike
        # Throttling is measured elsewhere; here every attempt must reach the password check.
        await driver.sql("DELETE FROM throttle_event")
        known_time, known_answer = await timed(known)
        unknown_time, unknown_answer = await timed(unknown)
        assert known_answer.status_code == unknown_answer.status_code and known_answer.text == unknown_answer.text
        known_t.append(known_time)
        unknown_t.append(unknown_time)
    return statistics.median(known_t), statistics.median(unknown_t)


async def test_a_wrong_password_and_an_unknown_address_get_the_same_answer_in_the_same_time(driver):
    admin = await driver.new_company()
    unknown = driver.new_email("nobody")

    def attempt(email):
        return lambda: driver.post(
            "/login", {"email": email, "password": "not the password at all"}, ip=driver.new_ip()
        )

    known_answer, unknown_answer = await attempt(admin.email)(), await attempt(unknown)()
    assert known_answer.status_code == unknown_answer.status_code == 401
    assert known_answer.json() == unknown_answer.json()
    assert known_answer.headers.get("www-authenticate") == unknown_answer.headers.get("www-authenticate")

    known_s, unknown_s = await median_times(driver, attempt(admin.email), attempt(unknown))
    assert abs(known_s - unknown_s) < TIMING_TOLERANCE_S, (known_s, unknown_s)

    failures = await driver.sql(
        "SELECT count(*) FROM audit_log WHERE event = 'login.failed' AND user_id = CAST(:u AS uuid)", u=admin.user_id
    )
    assert failures[0][0] >= 9  # every failure is in the audit log


async def test_forgot_password_answers_the_same_for_known_and_unknown_addresses_and_mails_only_the_known(driver):
    admin = await driver.new_company()
    unknown = driver.new_email("nobody")

    def ask(email):
        return lambda: driver.post("/password/forgot", {"email": email}, ip=driver.new_ip())

    known_answer, unknown_answer = await ask(admin.email)(), await ask(unknown)()
    assert known_answer.status_code == unknown_answer.status_code == 202
    assert known_answer.json() == unknown_answer.json()
    assert await driver.messages(admin.email, "password-reset")
    assert not await driver.messages(unknown)

    known_s, unknown_s = await median_times(driver, ask(admin.email), ask(unknown), rounds=6)
    assert abs(known_s - unknown_s) < TIMING_TOLERANCE_S, (known_s, unknown_s)


async def test_forgot_username_answers_the_same_by_address_or_phone_known_or_not(driver):
    admin = await driver.new_company()
    await driver.client.patch("/me", json={"phone": "+33 6 98 76 54 32"}, headers=admin.headers)

    answers = [
        await driver.post("/username/forgot", body, ip=driver.new_ip())
        for body in (
            {"email": admin.email},
            {"email": driver.new_email("nobody")},
            {"phone": "+33698765432"},
            {"phone": "+33611111111"},
            {"phone": "06 98 76 54 32", "country": "FR"},
        )
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    reminders = await driver.messages(admin.email, "username-reminder")
    assert len(reminders) == 3  # by address, by phone, by national number: always to the account's own address
    assert reminders[-1]["params"]["username"].lower() == admin.email.lower()


async def test_signing_up_again_with_a_used_address_gets_the_same_answer_and_creates_nothing(driver):
    admin = await driver.new_company()
    fresh = await driver.post("/signup", driver.signup_body(driver.new_email()), ip=driver.new_ip())
    again = await driver.post("/signup", driver.signup_body(admin.email.upper()), ip=driver.new_ip())
    assert fresh.status_code == again.status_code == 202 and fresh.json() == again.json()
    [(count,)] = await driver.sql(
        "SELECT count(*) FROM user_account WHERE email_normalized = :e", e=admin.email.lower()
    )
    assert count == 1
    assert (await driver.last_message(admin.email, "username-reminder"))["params"]["username"]


async def test_resending_the_confirmation_link_answers_the_same_for_any_address(driver):
    pending = await driver.sign_up()
    answers = [
        await driver.post("/signup/resend-verification", {"email": email}, ip=driver.new_ip())
        for email in (pending, driver.new_email("nobody"))
    ]
    assert answers[0].status_code == answers[1].status_code == 202 and answers[0].json() == answers[1].json()
    assert len(await driver.messages(pending, "email-verification")) == 2


async def test_recovery_mails_to_one_address_are_capped_with_the_same_answer(driver):
    admin = await driver.new_company()
    answers = [await driver.post("/password/forgot", {"email": admin.email}, ip=driver.new_ip()) for _ in range(5)]
    assert {a.status_code for a in answers} == {202}
    assert len(await driver.messages(admin.email, "password-reset")) == 3  # recovery_per_account in the tests
