"""Access tokens, rotating refresh tokens, logout, and users disabled at once."""

from __future__ import annotations

import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from servicekit.auth import JwksVerifier

pytestmark = pytest.mark.integration


async def test_the_access_token_is_es256_with_user_company_rights_and_assurance_verifiable_from_the_jwks(driver):
    admin = await driver.new_company()
    jwks = (await driver.client.get("/.well-known/jwks.json")).json()
    decoded = jwt.decode(admin.tokens["access_token"], KeySet.import_key_set(jwks), algorithms=["ES256"])
    claims = decoded.claims
    assert decoded.header["alg"] == "ES256"
    assert claims["iss"] == "factora-identity" and claims["sub"] == admin.user_id
    assert claims["company_id"] == admin.company_id and "manage_users" in claims["rights"]
    assert claims["acr"] == "aal2" and abs(claims["auth_time"] - time.time()) < 60
    assert 0 < claims["exp"] - time.time() <= 600 and claims["jti"] and claims["sid"] == admin.tokens["session_id"]

    # Another service verifies it locally with servicekit, exactly as invoicing does.
    verifier = JwksVerifier("http://identity.test/.well-known/jwks.json")
    verifier._keys, verifier._fetched_at = KeySet.import_key_set(jwks), time.monotonic()
    principal = await verifier.verify(admin.tokens["access_token"])
    assert principal.company_id == admin.company_id and principal.assurance == "aal2"


async def test_a_refresh_token_rotates_and_its_reuse_closes_the_whole_session(driver):
    admin = await driver.new_company()
    first = admin.tokens["refresh_token"]
    rotated = await driver.refresh(admin)
    assert rotated.status_code == 200 and rotated.json()["refresh_token"] != first
    second = admin.tokens["refresh_token"]

    reuse = await driver.post("/token/refresh", {"refresh_token": first})
    assert reuse.status_code == 401 and reuse.json()["error"] == "refresh_token_reused"
    # The whole family is revoked: the newest refresh token and the session's access tokens stop working.
    assert (await driver.post("/token/refresh", {"refresh_token": second})).status_code == 401
    assert (await driver.client.get("/me", headers=admin.headers)).status_code == 401
    [(stored,)] = await driver.sql("SELECT count(*) FROM refresh_token WHERE token_hash IN (:a, :b)", a=first, b=second)
    assert stored == 0  # tokens are stored hashed


async def test_logout_ends_this_session_and_logout_everywhere_ends_them_all(driver):
    admin = await driver.new_company()
    laptop = admin.__class__(admin.email, admin.password, driver.new_ip())
    laptop.secret = admin.secret
    assert (await driver.login_totp(laptop)).status_code == 200
    sessions = (await driver.client.get("/me/sessions", headers=admin.headers)).json()
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1

    assert (await driver.post("/logout", headers=laptop.headers)).status_code == 204
    assert (await driver.client.get("/me", headers=laptop.headers)).status_code == 401
    assert (await driver.client.get("/me", headers=admin.headers)).status_code == 200

    assert (await driver.login_totp(laptop)).status_code == 200
    assert (await driver.post("/logout/all", headers=admin.headers)).status_code == 204
    for account in (admin, laptop):
        assert (await driver.client.get("/me", headers=account.headers)).status_code == 401
        assert (
            await driver.post("/token/refresh", {"refresh_token": account.tokens["refresh_token"]})
        ).status_code == 401


async def test_logout_with_only_the_refresh_token_ends_the_session(driver):
    admin = await driver.new_company()
    assert (await driver.post("/logout", {"refresh_token": admin.tokens["refresh_token"]})).status_code == 204
    assert (await driver.client.get("/me", headers=admin.headers)).status_code == 401


async def test_a_disabled_user_is_rejected_at_once(driver):
    admin = await driver.new_company()
    colleague = await driver.colleague(admin, ["invoices:view"])
    assert (await driver.client.get("/me", headers=colleague.headers)).status_code == 200

    disabled = await driver.post(f"/company/users/{colleague.user_id}/disable", headers=admin.headers)
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert (await driver.client.get("/me", headers=colleague.headers)).status_code in (401, 403)
    assert (await driver.refresh(colleague)).status_code == 401
    refused = await driver.login_password(colleague)
    assert refused.status_code == 403 and refused.json()["error"] == "account_disabled"
    assert (await driver.last_message(colleague.email, "security-alert"))["params"]["event"] == "access_removed"

    assert (await driver.post(f"/company/users/{colleague.user_id}/enable", headers=admin.headers)).status_code == 200
    assert (await driver.login_totp(colleague)).status_code == 200


async def test_tokens_that_are_not_ours_or_not_from_a_sign_in_are_refused(driver):
    forged = httpx.Headers({"Authorization": "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln"})
    assert (await driver.client.get("/me", headers=forged)).status_code == 401
    assert (await driver.client.get("/me")).json()["error"] == "not_authenticated"
    # A development token (no session behind it) opens other services' APIs, not the account API.
    key = driver.ctx.signer.active
    from identity.adapters.keys import issue_access_token

    dev = issue_access_token(key, user_id="dev", company_id="c-1", rights=["admin"], ttl_s=60)
    answer = await driver.client.get("/company/users", headers={"Authorization": f"Bearer {dev}"})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
