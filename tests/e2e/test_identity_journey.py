"""A member's first day on the real stack: sign-up, e-mailed links, TOTP, a colleague, the admin role handed over.

identity, notifications and the rest run as processes on a real Kafka broker, PostgreSQL and SMTP
catcher; every link is read from the e-mail the catcher received.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from factora_testing.identity_flows import (
    bearer,
    enrol_totp,
    link_token,
    plain_text,
    sign_in_with_totp,
    sign_up_and_confirm,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "lampe de chevet bleue au grenier"
COLLEAGUE_PASSWORD = "un grand bol de chocolat chaud le matin"


async def test_sign_up_to_admin_transfer_on_the_real_stack(running_network, smtp_catcher):
    admin_email = f"gerante-{uuid.uuid4().hex[:8]}@atelier-lumiere.example"
    colleague_email = f"comptable-{uuid.uuid4().hex[:8]}@atelier-lumiere.example"
    async with httpx.AsyncClient(base_url=running_network.service_url("identity"), timeout=30) as api:
        # Sign-up, then the confirmation link from the e-mail.
        await sign_up_and_confirm(api, smtp_catcher, admin_email, PASSWORD)

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
