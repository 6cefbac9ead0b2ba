"""A member's first day on the real stack: sign-up, e-mailed links, TOTP, a colleague, the admin role handed over.

identity, notifications and the rest run as processes on a real Kafka broker, PostgreSQL and SMTP
catcher; every link is read from the e-mail the catcher received.
"""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pyotp
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "lampe de chevet bleue au grenier"
COLLEAGUE_PASSWORD = "un grand bol de chocolat chaud le matin"
TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_\-]+)")


def plain_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


async def link_token(smtp_catcher, recipient: str, subject_words: tuple[str, ...]) -> str:
    """The token of the e-mailed link whose subject has one of `subject_words` (fr or en)."""
    message = await smtp_catcher.wait_for(
        lambda m: recipient in m.get("To", "").lower() and any(w in m["Subject"].lower() for w in subject_words),
        timeout=90,
    )
    found = TOKEN_IN_LINK.search(plain_text(message))
    assert found, plain_text(message)
    return found.group(1)


def totp_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * 30)


async def sign_in_with_totp(api: httpx.AsyncClient, email: str, password: str, secret: str, step: int) -> dict:
    first = await api.post("/login", json={"email": email, "password": password})
    assert first.status_code == 200 and first.json()["status"] == "mfa_required", first.text
    second = await api.post(
        "/login/mfa/verify", json={"mfa_token": first.json()["mfa_token"], "code": totp_at_step(secret, step)}
    )
    assert second.status_code == 200, second.text
    return second.json()


async def enrol_totp(api: httpx.AsyncClient, email: str, password: str) -> tuple[str, dict, int]:
    """First sign-in: password, choose the authenticator app, confirm with a code. Returns secret, tokens, step."""
    first = await api.post("/login", json={"email": email, "password": password})
    assert first.status_code == 200 and first.json()["status"] == "mfa_enrolment_required", first.text
    mfa_token = first.json()["mfa_token"]
    setup = await api.post("/login/mfa/enrol", json={"mfa_token": mfa_token, "method": "totp"})
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/") and setup.json()["qr_svg"]
    step = int(time.time() // 30)
    done = await api.post("/login/mfa/enrol/confirm", json={"mfa_token": mfa_token, "code": totp_at_step(secret, step)})
    assert done.status_code == 200, done.text
    assert len(done.json()["recovery_codes"]) == 10
    return secret, done.json(), step


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_sign_up_to_admin_transfer_on_the_real_stack(running_network, smtp_catcher):
    admin_email = f"gerante-{uuid.uuid4().hex[:8]}@atelier-lumiere.example"
    colleague_email = f"comptable-{uuid.uuid4().hex[:8]}@atelier-lumiere.example"
    async with httpx.AsyncClient(base_url=running_network.service_url("identity"), timeout=30) as api:
        # Sign-up, then the confirmation link from the e-mail.
        signed_up = await api.post(
            "/signup",
            json={
                "company": {
                    "legal_name": "Atelier Lumière SARL",
                    "country": "FR",
                    "vat_id": "FR40303265045",
                    "address": {"line1": "12 rue des Lilas", "postcode": "69003", "city": "Lyon"},
                    "locale": "fr",
                },
                "user": {"email": admin_email, "full_name": "Camille Martin", "password": PASSWORD},
            },
        )
        assert signed_up.status_code == 202, signed_up.text
        token = await link_token(smtp_catcher, admin_email, ("confirm", "adresse"))
        assert (await api.post("/signup/verify-email", json={"token": token})).status_code == 200

        # First sign-in: the administrator chooses TOTP, then signs in again with a generated code.
        secret, _, step = await enrol_totp(api, admin_email, PASSWORD)
        admin = await sign_in_with_totp(api, admin_email, PASSWORD, secret, step + 1)
        assert admin["acr"] == "aal2" and "admin" in admin["rights"]

        # Invite a collaborator, who sets a password from the e-mailed link and enrols a factor.
        invited = await api.post(
            "/company/users",
            json={"email": colleague_email, "full_name": "Alex Dupont", "rights": ["invoices:view"]},
            headers=bearer(admin),
        )
        assert invited.status_code == 201, invited.text
        colleague_id = invited.json()["id"]
        token = await link_token(smtp_catcher, colleague_email, ("invit",))
        accepted = await api.post("/invitations/accept", json={"token": token, "password": COLLEAGUE_PASSWORD})
        assert accepted.status_code == 200, accepted.text
        _, colleague, _ = await enrol_totp(api, colleague_email, COLLEAGUE_PASSWORD)
        assert (await api.get("/company/users", headers=bearer(colleague))).status_code == 403

        # The administrator hands the role over.
        transferred = await api.post(
            "/company/admin-transfer", json={"new_admin_user_id": colleague_id}, headers=bearer(admin)
        )
        assert transferred.status_code == 200, transferred.text
        assert transferred.json()["is_admin"] is True

        # The former administrator can no longer manage users; the new one can.
        assert (await api.get("/company/users", headers=bearer(admin))).status_code == 403
        refused = await api.post(
            "/company/users",
            json={"email": f"x-{uuid.uuid4().hex[:6]}@example.com", "full_name": "X"},
            headers=bearer(admin),
        )
        assert refused.status_code == 403
        refreshed = await api.post("/token/refresh", json={"refresh_token": colleague["refresh_token"]})
        assert "admin" in refreshed.json()["rights"]
        listed = await api.get("/company/users", headers=bearer(refreshed.json()))
        assert listed.status_code == 200
        assert {u["email"]: u["is_admin"] for u in listed.json()} == {admin_email: False, colleague_email: True}

    # Both are told by e-mail, each in their language.
    for email in (admin_email, colleague_email):
        alert = await smtp_catcher.wait_for(
            lambda m, e=email: (
                e in m.get("To", "").lower()
                and any(w in m["Subject"].lower() for w in ("sécurité", "security"))
                and "administrat" in plain_text(m).lower()
            ),
            timeout=90,
        )
        assert alert["Subject"]
