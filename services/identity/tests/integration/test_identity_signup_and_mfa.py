"""Sign-up, e-mail confirmation and the second factor, through the HTTP API on real PostgreSQL and Kafka."""

from __future__ import annotations

import pyotp
import pytest

pytestmark = pytest.mark.integration


async def test_sign_up_creates_the_company_and_its_administrator_who_confirms_the_address_first(driver):
    email = await driver.sign_up(legal_name="Atelier Lumière SARL")
    ip = driver.new_ip()

    before = await driver.post("/login", {"email": email, "password": "a long passphrase nobody guesses 42"}, ip=ip)
    assert before.status_code == 403 and before.json()["error"] == "email_not_verified"

    [(company, admin, status)] = await driver.sql(
        "SELECT c.legal_name, u.is_admin, u.status FROM user_account u JOIN company c ON c.id = u.company_id "
        "WHERE u.email_normalized = :e",
        e=email.lower(),
    )
    assert (company, admin, status) == ("Atelier Lumière SARL", True, "pending_verification")
    registered = [p for p, _ in await driver.outbox("identity.company-registered.v1")]
    profile = next(p["company"] for p in registered if p["company"]["legal_name"] == "Atelier Lumière SARL")
    assert profile["vat_id"] == "FR40303265045" and profile["address"]["city"] == "Lyon"
    mail = await driver.last_message(email, "email-verification")
    assert mail["locale"] == "fr" and mail["params"]["expires_in_hours"] == 48

    token = await driver.link_token(email, "email-verification", "verification_url")
    assert (await driver.post("/signup/verify-email", {"token": token})).status_code == 200
    after = await driver.post("/login", {"email": email.upper(), "password": "a long passphrase nobody guesses 42"})
    assert after.status_code == 200 and after.json()["status"] == "mfa_enrolment_required"
    assert after.json()["methods"] == ["totp", "sms", "email"]


async def test_a_verification_link_works_once_and_not_after_it_expired(driver):
    email = await driver.sign_up()
    token = await driver.link_token(email, "email-verification", "verification_url")
    assert (await driver.post("/signup/verify-email", {"token": token})).status_code == 200
    again = await driver.post("/signup/verify-email", {"token": token})
    assert again.status_code == 400 and again.json()["error"] == "invalid_or_expired_link"

    late = await driver.sign_up()
    late_token = await driver.link_token(late, "email-verification", "verification_url")
    await driver.sql(
        "UPDATE one_time_token SET expires_at = now() - interval '1 minute' WHERE user_id = "
        "(SELECT id FROM user_account WHERE email_normalized = :e)",
        e=late.lower(),
    )
    expired = await driver.post("/signup/verify-email", {"token": late_token})
    assert expired.status_code == 400 and expired.json()["field"] == "token"


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"vat_id": "BE0477472701"}, "company.vat_id", "invalid_vat_id"),
        ({"country": "XX"}, "company.country", "invalid_country"),
        ({"vat_id": None}, "company.vat_id", "tax_identifier_required"),
    ],
)
async def test_sign_up_names_the_company_field_at_fault(driver, change, field, error):
    body = driver.signup_body(driver.new_email())
    body["company"].update(change)
    response = await driver.post("/signup", body, ip=driver.new_ip())
    assert response.status_code == 422
    assert response.json()["field"] == field and response.json()["error"] == error


@pytest.mark.parametrize(
    ("password", "rule"),
    [("short pass", "min_length"), ("password1234", "common_password"), ("azertyuiop2024", "common_password")],
)
async def test_sign_up_refuses_short_and_common_passwords_and_says_why(driver, password, rule):
    response = await driver.post("/signup", driver.signup_body(driver.new_email(), password), ip=driver.new_ip())
    assert response.status_code == 422
    assert response.json()["field"] == "user.password" and response.json()["error"] == rule


async def test_a_misspelt_field_is_reported_not_ignored(driver):
    body = driver.signup_body(driver.new_email())
    body["user"]["pasword"] = body["user"].pop("password")
    response = await driver.post("/signup", body, ip=driver.new_ip())
    assert response.status_code == 422 and response.json()["error"] == "invalid_input"
    assert {e["field"] for e in response.json()["errors"]} == {"user.password", "user.pasword"}


async def test_totp_enrolment_gives_the_uri_and_qr_code_and_ten_recovery_codes(driver):
    email = await driver.verified_admin()
    ip = driver.new_ip()
    step = (
        await driver.post("/login", {"email": email, "password": "a long passphrase nobody guesses 42"}, ip=ip)
    ).json()
    setup = (await driver.post("/login/mfa/enrol", {"mfa_token": step["mfa_token"], "method": "totp"}, ip=ip)).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/Factora:") and "issuer=Factora" in setup["otpauth_uri"]
    assert setup["qr_svg"].startswith("data:image/svg+xml") and len(setup["secret"]) == 32

    wrong = await driver.post("/login/mfa/enrol/confirm", {"mfa_token": step["mfa_token"], "code": "000000"}, ip=ip)
    assert wrong.status_code == 401 and wrong.json()["attempts_left"] == 4
    done = await driver.post(
        "/login/mfa/enrol/confirm", {"mfa_token": step["mfa_token"], "code": driver.totp(setup["secret"])}, ip=ip
    )
    tokens = done.json()
    assert done.status_code == 200 and tokens["acr"] == "aal2" and "admin" in tokens["rights"]
    assert len(tokens["recovery_codes"]) == 10 and len(set(tokens["recovery_codes"])) == 10
    [(hashes,)] = await driver.sql(
        "SELECT array_agg(code_hash) FROM recovery_code WHERE user_id = CAST(:u AS uuid)", u=tokens["user_id"]
    )
    assert not set(tokens["recovery_codes"]) & set(hashes)  # only hashes are stored


async def test_a_totp_code_cannot_be_replayed(driver):
    admin = await driver.new_company()
    code = driver.totp(admin.secret)
    first = (await driver.login_password(admin)).json()["mfa_token"]
    assert (await driver.post("/login/mfa/verify", {"mfa_token": first, "code": code}, ip=admin.ip)).status_code == 200

    second = (await driver.login_password(admin)).json()["mfa_token"]
    replay = await driver.post("/login/mfa/verify", {"mfa_token": second, "code": code}, ip=admin.ip)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_code"
    events = await driver.sql(
        "SELECT event FROM audit_log WHERE user_id = CAST(:u AS uuid) ORDER BY id", u=admin.user_id
    )
    assert ("login.totp_replay_refused",) in events


async def test_wrong_codes_void_the_sign_in_after_five_attempts(driver):
    admin = await driver.new_company()
    mfa_token = (await driver.login_password(admin)).json()["mfa_token"]
    answers = [
        (await driver.post("/login/mfa/verify", {"mfa_token": mfa_token, "code": "000000"}, ip=admin.ip)).json()
        for _ in range(5)
    ]
    assert [a.get("attempts_left") for a in answers[:4]] == [4, 3, 2, 1]
    assert answers[4]["error"] == "mfa_token_expired"
    late = await driver.post("/login/mfa/verify", {"mfa_token": mfa_token, "code": driver.totp(admin.secret)})
    assert late.status_code == 401 and late.json()["error"] == "mfa_token_expired"


async def test_email_codes_are_sent_at_sign_in_and_work_once_and_not_after_expiry(driver):
    email = await driver.verified_admin()
    ip = driver.new_ip()
    password = {"email": email, "password": "a long passphrase nobody guesses 42"}
    step = (await driver.post("/login", password, ip=ip)).json()
    await driver.post("/login/mfa/enrol", {"mfa_token": step["mfa_token"], "method": "email"}, ip=ip)
    code = (await driver.last_message(email, "mfa-code"))["params"]["code"]
    done = await driver.post("/login/mfa/enrol/confirm", {"mfa_token": step["mfa_token"], "code": code}, ip=ip)
    device = done.json()["device_token"]

    step = (await driver.post("/login", {**password, "device_token": device}, ip=ip)).json()
    assert step["status"] == "mfa_required" and step["methods"] == ["email", "recovery_code"]
    assert step["code_sent_to"].endswith("@example.com")
    code = (await driver.last_message(email, "mfa-code"))["params"]["code"]
    ok = await driver.post("/login/mfa/verify", {"mfa_token": step["mfa_token"], "code": code}, ip=ip)
    assert ok.status_code == 200

    step = (await driver.post("/login", {**password, "device_token": device}, ip=ip)).json()
    reused = await driver.post("/login/mfa/verify", {"mfa_token": step["mfa_token"], "code": code}, ip=ip)
    assert reused.status_code == 401
    fresh = (await driver.last_message(email, "mfa-code"))["params"]["code"]
    await driver.sql(
        "UPDATE login_challenge SET code_expires_at = now() - interval '1 second' "
        "WHERE user_id = (SELECT id FROM user_account WHERE email_normalized = :e)",
        e=email.lower(),
    )
    expired = await driver.post("/login/mfa/verify", {"mfa_token": step["mfa_token"], "code": fresh}, ip=ip)
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_code"


async def test_sms_enrolment_sends_the_code_by_sms_to_the_number_in_international_form(driver):
    email = await driver.verified_admin()
    ip = driver.new_ip()
    step = (
        await driver.post("/login", {"email": email, "password": "a long passphrase nobody guesses 42"}, ip=ip)
    ).json()
    bad = await driver.post("/login/mfa/enrol", {"mfa_token": step["mfa_token"], "method": "sms", "phone": "12"}, ip=ip)
    assert bad.status_code == 422 and bad.json()["field"] == "phone"
    setup = await driver.post(
        "/login/mfa/enrol", {"mfa_token": step["mfa_token"], "method": "sms", "phone": "06 12 34 56 78"}, ip=ip
    )
    assert setup.json()["code_sent_to"] == "+33•••••5678"
    sms = await driver.last_message("+33612345678", "mfa-code")
    assert sms["channel"] == "sms"
    done = await driver.post(
        "/login/mfa/enrol/confirm", {"mfa_token": step["mfa_token"], "code": sms["params"]["code"]}, ip=ip
    )
    assert done.status_code == 200


async def test_a_recovery_code_signs_in_once_and_new_codes_replace_the_old_set(driver):
    admin = await driver.new_company()
    first, second = admin.recovery_codes[:2]
    mfa_token = (await driver.login_password(admin)).json()["mfa_token"]
    ok = await driver.post("/login/mfa/verify", {"mfa_token": mfa_token, "recovery_code": first.upper()}, ip=admin.ip)
    assert ok.status_code == 200
    assert (await driver.last_message(admin.email, "recovery-code-used"))["params"]["codes_remaining"] == 9
    driver.remember(admin, ok.json())

    mfa_token = (await driver.login_password(admin)).json()["mfa_token"]
    again = await driver.post("/login/mfa/verify", {"mfa_token": mfa_token, "recovery_code": first}, ip=admin.ip)
    assert again.status_code == 401

    new_codes = (await driver.post("/me/mfa/recovery-codes", headers=admin.headers)).json()["recovery_codes"]
    assert len(new_codes) == 10
    mfa_token = (await driver.login_password(admin)).json()["mfa_token"]
    old = await driver.post("/login/mfa/verify", {"mfa_token": mfa_token, "recovery_code": second}, ip=admin.ip)
    assert old.status_code == 401
    new = await driver.post("/login/mfa/verify", {"mfa_token": mfa_token, "recovery_code": new_codes[0]}, ip=admin.ip)
    assert new.status_code == 200


async def test_a_company_can_require_an_authenticator_app_for_every_user(driver):
    admin = await driver.new_company()
    email = driver.new_email("colleague")
    await driver.post("/company/users", {"email": email, "full_name": "Sam", "rights": []}, headers=admin.headers)
    token = await driver.link_token(email, "invitation", "invitation_url")
    await driver.post("/invitations/accept", {"token": token, "password": "a long passphrase nobody guesses 42"})
    ip = driver.new_ip()
    login = {"email": email, "password": "a long passphrase nobody guesses 42"}
    step = (await driver.post("/login", login, ip=ip)).json()
    await driver.post("/login/mfa/enrol", {"mfa_token": step["mfa_token"], "method": "email"}, ip=ip)
    code = (await driver.last_message(email, "mfa-code"))["params"]["code"]
    assert (
        await driver.post("/login/mfa/enrol/confirm", {"mfa_token": step["mfa_token"], "code": code}, ip=ip)
    ).status_code == 200

    required = await driver.client.patch("/company", json={"require_totp": True}, headers=admin.headers)
    assert required.status_code == 200 and required.json()["require_totp"] is True

    step = (await driver.post("/login", login, ip=ip)).json()
    code = (await driver.last_message(email, "mfa-code"))["params"]["code"]
    moved = await driver.post("/login/mfa/verify", {"mfa_token": step["mfa_token"], "code": code}, ip=ip)
    assert moved.status_code == 200
    assert moved.json()["status"] == "mfa_enrolment_required" and moved.json()["methods"] == ["totp"]
    sms = await driver.post(
        "/login/mfa/enrol", {"mfa_token": step["mfa_token"], "method": "sms", "phone": "+33612345678"}, ip=ip
    )
    assert sms.status_code == 422 and sms.json()["error"] == "method_not_allowed"
    setup = (await driver.post("/login/mfa/enrol", {"mfa_token": step["mfa_token"], "method": "totp"}, ip=ip)).json()
    done = await driver.post(
        "/login/mfa/enrol/confirm", {"mfa_token": step["mfa_token"], "code": driver.totp(setup["secret"])}, ip=ip
    )
    assert done.status_code == 200 and done.json()["acr"] == "aal2"


async def test_changing_or_removing_a_factor_needs_a_recent_strong_sign_in(driver):
    admin = await driver.new_company()
    [factor] = (await driver.client.get("/me/mfa", headers=admin.headers)).json()["factors"]
    last = await driver.client.delete(f"/me/mfa/factors/{factor['id']}", headers=admin.headers)
    assert last.status_code == 409 and last.json()["error"] == "last_factor"

    await driver.age_sign_in(admin, 3600)
    for response in (
        await driver.post("/me/mfa/factors", {"method": "email"}, headers=admin.headers),
        await driver.client.delete(f"/me/mfa/factors/{factor['id']}", headers=admin.headers),
        await driver.post("/me/mfa/recovery-codes", headers=admin.headers),
    ):
        assert response.status_code == 403 and response.json()["error"] == "recent_authentication_required"

    assert (await driver.login_totp(admin)).status_code == 200
    added = (await driver.post("/me/mfa/factors", {"method": "totp"}, headers=admin.headers)).json()
    new_secret = added["secret"]
    confirmed = await driver.post(
        f"/me/mfa/factors/{added['factor_id']}/confirm", {"code": pyotp.TOTP(new_secret).now()}, headers=admin.headers
    )
    assert confirmed.status_code == 200
    factors = (await driver.client.get("/me/mfa", headers=admin.headers)).json()["factors"]
    assert [f["id"] for f in factors] == [added["factor_id"]]  # the new app replaced the old one
    alert = await driver.last_message(admin.email, "security-alert")
    assert alert["params"]["event"] == "mfa_changed"
